"""Analysts' commands (SPEC 9): `journey census | los | transitions | retention |
intensity` over the read models, and `journey export teds | fhir`.

Before answering, each command brings the read models up to date with the read-model
service's catch-up (a no-op poll when a `journey project` worker keeps them current); with
`--no-catch-up` they are read as they are, and a note on stderr says how far behind the log
they are."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from interfaces.cli_access import recorded
from interfaces.cli_errors import domain_errors
from interfaces.cli_store import require_store, runtime
from interfaces.render import table
from interfaces.timeparse import parse_date, parse_instant

if TYPE_CHECKING:
    from pydantic import BaseModel

    from infrastructure.sql import Unit

At = Annotated[
    str | None, typer.Option("--at", help="instant T, ISO-8601 with offset; default now")
]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable JSON")]
CatchUp = Annotated[
    bool, typer.Option("--catch-up/--no-catch-up", help="apply the log to the read models first")
]
First = Annotated[str | None, typer.Option("--from", help="first local date (YYYY-MM-DD)")]
Last = Annotated[str | None, typer.Option("--to", help="last local date (YYYY-MM-DD)")]
Actor = Annotated[str | None, typer.Option(help="who is exporting (access trail)")]
export_app = typer.Typer(
    help="Exports: TEDS-D discharges CSV (no identifier, no full date) and FHIR Bundles"
    " (identified PHI under HIPAA and 42 CFR Part 2: patient ids, full instants)."
)


@contextmanager
def read_models(catch_up: bool) -> Iterator[Unit]:
    """A read-only transaction on the read models, after the service applied the log to
    them (`catch_up`)."""
    from interfaces.cli_project import read_model_service

    with read_model_service(require_store()) as service:
        if catch_up:
            service.catch_up()
        freshness = service.freshness()
        if freshness.lag:
            typer.echo(
                f"note: the read models are {freshness.lag} notifications behind the log"
                f" (position {freshness.position}, head {freshness.head})",
                err=True,
            )
        with service.db.transaction(read_only=True) as unit:
            yield unit


def _instant(at: str | None) -> datetime:
    return parse_instant(at, "at") or datetime.now(UTC)


def _answer(query: Callable[[Unit], BaseModel], catch_up: bool) -> dict[str, Any]:
    with domain_errors(), read_models(catch_up) as unit:
        result: dict[str, Any] = query(unit).model_dump(mode="json")
        return result


def _show(result: dict[str, Any], as_json: bool, text: Callable[[dict[str, Any]], str]) -> None:
    typer.echo(json.dumps(result, indent=2) if as_json else text(result))


def _levels_text(result: dict[str, Any]) -> str:
    if "days" not in result:
        rows = [*result["levels"].items(), ("total", result["total"])]
        return f"census at {result['as_of']}\n" + table(["level", "patients"], rows)
    levels = list(result["days"][0]["levels"]) if result["days"] else []
    rows = [
        [d["date"], *d["levels"].values(), d["total"], "" if d["complete"] else "partial"]
        for d in result["days"]
    ]
    head = f"midnight census as of {result['as_of']}\n"
    return head + table(["date", *levels, "total", ""], rows)


def census(at: At = None, first: First = None, last: Last = None, as_json: AsJson = False,
           catch_up: CatchUp = True) -> None:  # fmt: skip
    """Patients per level at instant T, or per local date with --from/--to (as of T)."""
    from projections.analytics.census import census_at, census_daily

    t = _with_errors(lambda: _instant(at))
    if first is None and last is None:
        result = _answer(lambda unit: census_at(unit, t), catch_up)
    else:
        a, b = _with_errors(lambda: (parse_date(first, "from"), parse_date(last, "to")))
        result = _answer(lambda unit: census_daily(unit, t, a, b), catch_up)
    _show(result, as_json, _levels_text)


def _with_errors(action: Callable[[], Any]) -> Any:
    with domain_errors():
        return action()


def _summaries(title: str, key: str, items: dict[str, Any]) -> str:
    rows = [(k, v["count"], v["mean_days"], v["median_days"]) for k, v in items.items()]
    return f"{title}\n" + table([key, "count", "mean days", "median days"], rows)


def los(at: At = None, as_json: AsJson = False, catch_up: CatchUp = True) -> None:
    """Length of stay: stays ended by T per level, episodes discharged by T per reason."""
    from projections.analytics.length_of_stay import length_of_stay

    t = _with_errors(lambda: _instant(at))
    result = _answer(lambda unit: length_of_stay(unit, t), catch_up)
    _show(result, as_json, lambda r: "\n\n".join([
        f"length of stay as of {r['as_of']}",
        _summaries("stays ended by T", "level", r["stays_by_level"]),
        _summaries("episodes discharged by T", "reason", r["episodes_by_reason"]),
    ]))  # fmt: skip


def _transitions_text(r: dict[str, Any]) -> str:
    rows = [
        (direction, p["from_level"], p["to_level"], p["count"])
        for direction in ("step_down", "step_up")
        for p in r[direction]
    ]
    totals = ", ".join(f"{k} {v}" for k, v in r["totals"].items())
    head = f"transitions {r['from_date']}..{r['to_date']} (as of {r['as_of']}): {totals}\n"
    return head + table(["direction", "from", "to", "count"], rows)


def transitions(first: First = None, last: Last = None, at: At = None, as_json: AsJson = False,
                catch_up: CatchUp = True) -> None:  # fmt: skip
    """Transitions by (from, to) pair over local dates --from..--to, split by direction."""
    from projections.analytics.transitions import transitions as query

    t = _with_errors(lambda: _instant(at))
    a, b = _with_errors(lambda: (parse_date(first, "from"), parse_date(last, "to")))
    _show(_answer(lambda unit: query(unit, t, a, b), catch_up), as_json, _transitions_text)


def retention(at: At = None, as_json: AsJson = False, catch_up: CatchUp = True) -> None:
    """90-day retention of the care chains first admitted at least 90 days before T."""
    from projections.analytics.retention import retention as query

    t = _with_errors(lambda: _instant(at))
    _show(_answer(lambda unit: query(unit, t), catch_up), as_json, lambda r: (
        f"retention as of {r['as_of']}: chains first admitted by {r['first_admitted_by']}: "
        f"{r['chains']}, with >= {r['benchmark_days']} continuous care days: {r['retained']}"
        f" (share {r['share']})"
    ))  # fmt: skip


def _intensity_text(r: dict[str, Any]) -> str:
    statuses = ("below_minimum", "within_range", "above_maximum")
    weeks = [
        (level, v["weeks"], *(f"{v['counts'][s]} ({v['shares'][s]})" for s in statuses))
        for level, v in r["weeks_by_level"].items()
    ]
    rates = [
        (k, v["attended"], v["no_show"], v["rate"]) for k, v in r["attendance_by_level"].items()
    ]
    return "\n\n".join([
        f"intensity as of {r['as_of']}: complete weeks at a single ambulatory level",
        table(["level", "weeks", *statuses], weeks),
        table(["level", "attended", "no_show", "attendance rate"], rates),
    ])  # fmt: skip


def intensity(at: At = None, as_json: AsJson = False, catch_up: CatchUp = True) -> None:
    """Complete single-level ambulatory weeks by status, and attendance rate per level."""
    from projections.analytics.intensity import intensity as query

    t = _with_errors(lambda: _instant(at))
    _show(_answer(lambda unit: query(unit, t), catch_up), as_json, _intensity_text)


def _care_text(r: dict[str, Any]) -> str:
    weeks = [(k, v["weeks"], v["met"], v["share"]) for k, v in r["weekly_individual"].items()]
    opened = [(k, v["count"], v["median_days_open"]) for k, v in r["referrals_open"].items()]
    closed = [(k, v["count"], v["median_days_to_close"]) for k, v in r["referrals_closed"].items()]
    return "\n\n".join([
        f"standards of care as of {r['at']}: active patients with the plan review overdue "
        f"{r['review_overdue']}, without a plan past its due date {r['plan_overdue']}",
        "weeks ended by T with an individual session with the primary therapist\n"
        + table(["level", "weeks", "met", "share"], weeks),
        "referrals open at T\n" + table(["specialty", "open", "median days open"], opened),
        "referrals closed by T\n"
        + table(["outcome", "closed", "median days to close"], closed),
    ])  # fmt: skip


def care_standards(at: At = None, as_json: AsJson = False, catch_up: CatchUp = True) -> None:
    """Weekly individual sessions with the primary therapist per level, overdue plan
    reviews and plans, referrals open and closed (SPEC 9)."""
    from projections.analytics.care_standards import care_standards as query

    t = _with_errors(lambda: _instant(at))
    _show(_answer(lambda unit: query(unit, t), catch_up), as_json, _care_text)


@export_app.command("teds")
def export_teds(out: Annotated[Path, typer.Option(help="CSV file to write")], at: At = None,
                actor: Actor = None, catch_up: CatchUp = True) -> None:  # fmt: skip
    """One row per episode discharged by T: random CASEID, ADMYR, SERVICES, SERVICES_D,
    LOS, REASON (TEDS codes). No patient identifier, no full date."""
    from projections.exports.teds import teds_rows, write_teds

    t = _with_errors(lambda: _instant(at))
    with domain_errors(), recorded("export.teds", None, f"at={t.isoformat()} out={out}", actor):
        with read_models(catch_up) as unit:
            rows = teds_rows(unit, t)
        with out.open("w", encoding="utf-8", newline="") as sink:
            written = write_teds(rows, sink)
    typer.echo(f"wrote {written} discharges to {out}", err=True)


@export_app.command("fhir")
def export_fhir(out: Annotated[Path, typer.Option(help="directory for the Bundles")],
                version: Annotated[str, typer.Option(help="R4B or R5")] = "R5",
                actor: Actor = None, catch_up: CatchUp = True) -> None:  # fmt: skip
    """One FHIR transaction Bundle per patient plus codesystems.json: identified PHI
    (patient ids under JOURNEY_FHIR_IDENTIFIER_SYSTEM, full instants) protected by
    42 CFR Part 2 (no redisclosure without consent), labelled so in meta.security."""
    from projections.exports.fhir import write_bundles
    from projections.exports.fhir_identities import identities

    if version not in ("R4B", "R5"):
        raise typer.BadParameter("R4B or R5", param_hint="--version")
    detail = f"version={version} out={out}"
    with (
        domain_errors(),
        recorded("export.fhir", None, detail, actor),
        read_models(catch_up) as unit,
    ):
        found = identities(runtime().application, unit)  # the ids the read models hide
        written = write_bundles(unit, out, found, "R4B" if version == "R4B" else "R5")
    typer.echo(f"wrote {written} FHIR {version} bundles to {out}", err=True)


def register(app: typer.Typer) -> None:
    for command in (census, los, transitions, retention, intensity):
        app.command()(command)
    app.command("care-standards")(care_standards)
    app.add_typer(export_app, name="export")
