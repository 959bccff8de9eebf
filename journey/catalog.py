"""The level and approach catalog (SPEC sections 2 and 3), loaded once from `catalog.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class HoursRange:
    """Weekly hours for an age group: minimum inclusive; None: undefined. Whether the maximum
    itself is within range is the level's `max_inclusive`."""

    minimum: float | None
    maximum: float | None


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    rank: int
    setting: str
    asam3: tuple[str, ...]
    asam4: tuple[str, ...]
    teds_services: int
    teds_services_by_code: dict[str, int]
    teds_services_long: int | None
    fhir_class: str
    hcpcs: str
    hours: dict[str, HoursRange]
    max_inclusive: bool
    plan_due_days: int

    @property
    def ambulatory(self) -> bool:
        return self.setting == "ambulatory"


@dataclass(frozen=True)
class Approach:
    id: str
    evidence_based: bool
    counts_toward_intensity: bool


@dataclass(frozen=True)
class Catalog:
    levels: dict[str, Level]
    approaches: dict[str, Approach]
    formats: tuple[str, ...]
    deliveries: tuple[str, ...]
    session_statuses: tuple[str, ...]
    age_groups: tuple[str, ...]
    discharge_reasons: dict[str, int]
    teds_los_bands: tuple[tuple[int, int], ...]
    teds_los_over: int
    teds_short_term_max_days: int
    level_aliases: dict[str, str]
    asam_dimensions: tuple[str, ...]
    referral_specialties: tuple[str, ...]
    review_outcomes: tuple[str, ...]
    objective_statuses: tuple[str, ...]
    referral_close_outcomes: tuple[str, ...]

    def resolve_level(self, name: str) -> str | None:
        """The level id for an id or any ASAM code of its row; None when unknown."""
        return self.level_aliases.get(name)

    def default_code(self, level: str) -> str:
        """The ASAM code of a stay entered by level id (the first of its row)."""
        return self.levels[level].asam3[0]

    def teds_services(self, level: str, asam_code: str | None, days: int) -> int:
        """TEDS SERVICES of a stay: by the ASAM code it was entered with (the level's
        default code when None), residential stays by their length in days."""
        row = self.levels[level]
        code = row.teds_services_by_code.get(asam_code or self.default_code(level))
        if code is not None:
            return code
        if row.teds_services_long is not None and days > self.teds_short_term_max_days:
            return row.teds_services_long
        return row.teds_services

    def level_ids(self) -> list[str]:
        """Level ids in treatment order (highest rank first)."""
        return list(self.levels)

    def max_inclusive(self, level: str) -> bool:
        """Whether `level`'s weekly maximum is itself within range (SPEC section 2)."""
        return self.levels[level].max_inclusive

    def plan_due_days(self, level: str) -> int:
        """Days after an admission at `level` by which a treatment plan is due (SPEC 6)."""
        return self.levels[level].plan_due_days

    def evidence_based(self, approach: str) -> bool:
        """Whether `approach` is evidence-based; False for an approach not in the catalog."""
        found = self.approaches.get(approach)
        return found is not None and found.evidence_based


def _level(raw: dict[str, Any]) -> Level:
    hours = {
        group: HoursRange(rng.get("min"), rng.get("max")) for group, rng in raw["hours"].items()
    }
    return Level(
        id=raw["id"],
        name=raw["name"],
        rank=raw["rank"],
        setting=raw["setting"],
        asam3=tuple(raw["asam3"]),
        asam4=tuple(raw["asam4"]),
        teds_services=raw["teds_services"],
        teds_services_by_code=dict(raw.get("teds_services_by_code", {})),
        teds_services_long=raw.get("teds_services_long"),
        fhir_class=raw["fhir_class"],
        hcpcs=raw["hcpcs"],
        hours=hours,
        max_inclusive=bool(raw["max_inclusive"]),
        plan_due_days=int(raw["plan_due_days"]),
    )


def parse_catalog(raw: dict[str, Any]) -> Catalog:
    levels = sorted((_level(r) for r in raw["levels"]), key=lambda lv: -lv.rank)
    aliases: dict[str, str] = {}
    for lv in levels:
        for code in (*lv.asam3, *lv.asam4):
            aliases.setdefault(code, lv.id)
    for lv in levels:
        aliases[lv.id] = lv.id
    return Catalog(
        levels={lv.id: lv for lv in levels},
        approaches={k: Approach(k, **v) for k, v in raw["approaches"].items()},
        formats=tuple(raw["formats"]),
        deliveries=tuple(raw["deliveries"]),
        session_statuses=tuple(raw["session_statuses"]),
        age_groups=tuple(raw["age_groups"]),
        discharge_reasons=dict(raw["discharge_reasons"]),
        teds_los_bands=tuple((int(a), int(b)) for a, b in raw["teds_los_bands"]),
        teds_los_over=int(raw["teds_los_over"]),
        teds_short_term_max_days=int(raw["teds_short_term_max_days"]),
        level_aliases=aliases,
        asam_dimensions=tuple(raw["asam_dimensions"]),
        referral_specialties=tuple(raw["referral_specialties"]),
        review_outcomes=tuple(raw["review_outcomes"]),
        objective_statuses=tuple(raw["objective_statuses"]),
        referral_close_outcomes=tuple(raw["referral_close_outcomes"]),
    )


@cache
def default_catalog() -> Catalog:
    """The catalog shipped with the package, parsed on first use."""
    text = resources.files("journey").joinpath("catalog.toml").read_text(encoding="utf-8")
    return parse_catalog(tomllib.loads(text))
