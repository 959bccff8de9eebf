"""Disclosure control for the analyst role (SPEC 10): whole dates and the CMS cell-size rule.

An analyst's answer is the exact answer, released through `release`:
- Whole dates: T is reduced to the start of its UTC date (`whole_date`), before querying,
  so any two instants of one UTC date give the same answer (bisecting `at` learns nothing
  finer than a date); `from` / `to` already are dates.
- Primary suppression: every count from 1 to 10 is replaced by null; 0 stays (it is not a
  small cell).
- Complementary suppression: in a group whose total is shown (census levels and `total`,
  transitions of a direction and `totals`, the statuses of an intensity level and `weeks`,
  retained and not retained among `chains`), the total minus the shown cells gives the sum
  of the hidden ones; while that sum is from 1 to 10, the smallest shown non-zero cell is
  hidden too (the total when none is left). So no single small cell is derivable by
  subtraction within an answer.
- Derived values: the mean and median days of a hidden count, and any share or rate whose
  numerator or denominator is hidden, are null too.
- Every value nulled here is named in the answer's `suppressed` list, as a JSON Pointer
  (RFC 6901, e.g. `/levels/iop`, `/stays_by_level/php/mean_days`), so a client can tell
  "suppressed" from "no data" (a mean of an empty cell is null and not listed).

Not covered (documented in docs/analytics.md): differences between answers to several
queries (consecutive dates, overlapping ranges) are not controlled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any, TypeVar

from pydantic import BaseModel

from projections.analytics.care_standards import CareStandards
from projections.analytics.census import CensusAt, CensusDaily
from projections.analytics.intensity import Intensity
from projections.analytics.length_of_stay import LengthOfStay
from projections.analytics.retention import Retention
from projections.analytics.transitions import Transitions

SMALLEST_SHOWN = 11  # CMS cell-size rule: counts from 1 to 10 are not released
M = TypeVar("M", bound=BaseModel)
Path = tuple[str | int, ...]


def whole_date(at: datetime) -> datetime:
    """The start (00:00 UTC) of the UTC date of `at`."""
    return datetime.combine(at.astimezone(UTC).date(), time(), tzinfo=UTC)


def small(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < SMALLEST_SHOWN


class Release:
    """A JSON document being released: hides values and remembers their pointers."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.hidden: set[Path] = set()

    def get(self, path: Path) -> Any:
        node: Any = self.document
        for part in path:
            node = node[part]
        return node

    def hide(self, path: Path) -> None:
        node: Any = self.document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = None
        self.hidden.add(path)

    def is_hidden(self, path: Path) -> bool:
        return path in self.hidden

    def group(self, cells: list[Path], total: Path | None) -> None:
        """Primary suppression of `cells`, then complementary suppression against `total`."""
        values = {cell: self.get(cell) for cell in cells}
        for cell, value in values.items():
            if small(value):
                self.hide(cell)
        if total is None:
            return
        if small(self.get(total)):
            self.hide(total)
            return
        while 0 < sum(values[c] for c in cells if self.is_hidden(c)) < SMALLEST_SHOWN:
            shown = [c for c in cells if not self.is_hidden(c) and values[c]]
            if not shown:
                self.hide(total)
                return
            self.hide(min(shown, key=lambda c: values[c]))

    def derived(self, path: Path, *sources: Path) -> None:
        """Hides `path` when one of the values it is computed from is hidden."""
        if any(self.is_hidden(source) for source in sources):
            self.hide(path)

    def pointers(self) -> list[str]:
        def pointer(path: Path) -> str:
            return "".join(f"/{part}" for part in path)

        return sorted(pointer(path) for path in self.hidden)


def _census(r: Release) -> None:
    r.group([("levels", level) for level in r.document["levels"]], ("total",))


def _census_daily(r: Release) -> None:
    for i, day in enumerate(r.document["days"]):
        r.group([("days", i, "levels", level) for level in day["levels"]], ("days", i, "total"))


def _length_of_stay(r: Release) -> None:
    for key in ("stays_by_level", "episodes_by_reason"):
        for name in r.document[key]:
            count = (key, name, "count")
            r.group([count], None)
            r.derived((key, name, "mean_days"), count)
            r.derived((key, name, "median_days"), count)


def _transitions(r: Release) -> None:
    for direction in r.document["totals"]:
        pairs = r.document[direction]
        r.group([(direction, i, "count") for i in range(len(pairs))], ("totals", direction))
        # the order (most frequent first) would rank the hidden counts: hidden pairs go last,
        # by name, so their place says nothing of their counts
        shown = [p for p in pairs if p["count"] is not None]
        hidden = sorted(
            (p for p in pairs if p["count"] is None), key=lambda p: (p["from_level"], p["to_level"])
        )
        r.document[direction] = shown + hidden
        r.hidden = {path for path in r.hidden if path[0] != direction}
        r.hidden |= {(direction, i, "count") for i in range(len(shown), len(pairs))}
        # a part of the count: hidden with it, or when it or the rest of the count is small
        for i, pair in enumerate(r.document[direction]):
            across, count = pair["across_episodes"], pair["count"]
            if count is None or small(across) or small(count - across):
                r.hide((direction, i, "across_episodes"))


def _retention(r: Release) -> None:
    chains, retained = r.document["chains"], r.document["retained"]
    if small(chains):
        r.hide(("chains",))
        r.hide(("retained",))
    elif small(retained) or small(chains - retained):  # the not retained = chains - retained
        r.hide(("retained",))
    r.derived(("share",), ("chains",), ("retained",))


def _intensity(r: Release) -> None:
    for level, weeks in r.document["weeks_by_level"].items():
        base = ("weeks_by_level", level)
        statuses = list(weeks["counts"])
        r.group([(*base, "counts", s) for s in statuses], (*base, "weeks"))
        for s in statuses:
            r.derived((*base, "shares", s), (*base, "counts", s), (*base, "weeks"))
    for level in r.document["attendance_by_level"]:
        base = ("attendance_by_level", level)
        r.group([(*base, "attended"), (*base, "no_show")], None)
        r.derived((*base, "rate"), (*base, "attended"), (*base, "no_show"))


def _care_standards(r: Release) -> None:
    for level, figures in r.document["weekly_individual"].items():
        base = ("weekly_individual", level)
        weeks, met = figures["weeks"], figures["met"]
        if small(weeks):  # met and not met are parts of weeks, as retained of chains
            r.hide((*base, "weeks"))
            r.hide((*base, "met"))
        elif small(met) or small(weeks - met):
            r.hide((*base, "met"))
        r.derived((*base, "share"), (*base, "weeks"), (*base, "met"))
    r.group([("review_overdue",)], None)
    r.group([("plan_overdue",)], None)
    for key, median in (("referrals_open", "median_days_open"),
                        ("referrals_closed", "median_days_to_close")):  # fmt: skip
        for name in r.document[key]:
            r.group([(key, name, "count")], None)
            r.derived((key, name, median), (key, name, "count"))


RULES: dict[type[BaseModel], Callable[[Release], None]] = {
    CareStandards: _care_standards,
    CensusAt: _census,
    CensusDaily: _census_daily,
    LengthOfStay: _length_of_stay,
    Transitions: _transitions,
    Retention: _retention,
    Intensity: _intensity,
}


def _any_answer(r: Release, path: Path = ()) -> None:
    """Fallback for an answer without its own rule (fail closed): every count from 1 to
    10 is hidden, and every number beside a hidden one in the same object (a share, a
    mean). Complementary suppression needs the answer's structure: give it a rule."""
    node = r.get(path)
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node or []))
    for key, value in items:
        if isinstance(value, dict | list):
            _any_answer(r, (*path, key))
        elif isinstance(value, int) and not isinstance(value, bool):
            r.group([(*path, key)], None)
    if any(r.is_hidden((*path, key)) for key, _ in items):
        for key, value in items:
            if isinstance(value, float):
                r.hide((*path, key))


def release(answer: M) -> M:
    """The answer as an analyst may see it: small cells and what reveals them nulled, and
    named in `suppressed`. The answer's model must allow null counts and have `suppressed`."""
    r = Release(answer.model_dump(mode="python"))
    RULES.get(type(answer), _any_answer)(r)
    r.document["suppressed"] = r.pointers()
    return type(answer).model_validate(r.document)
