"""Standards of care as of T (SPEC 9, `journey care-standards`, `GET
/v1/analytics/care-standards`), from the read models:

- `weekly_individual`: per level, the weeks ended by T that are judged, and how many had an
  individual session with the primary therapist (`care_weeks.py`);
- `review_overdue`, `plan_overdue`: active patients at T (their latest episode admitted by
  T is open at T) whose current plan's review is overdue (T's local date after the last
  review's, or the creation's, plus 7 days), or who have no plan created by T although T's
  local date is after the admission's plus the admission level's `plan_due_days`;
- `referrals_open`: referrals made by T and not closed by T, per specialty, with the median
  of their days open (local dates, referral to T); `referrals_closed`: closed by T, per
  outcome, with the median days from referral to close. A referral stays open after a
  discharge until it is closed, as in the journey's `referrals` list.

The overdue figures are kept as spans of instants per episode by the read models (format
6), with the `plan_due_days` of the catalog they are built with (the default catalog);
`catalog` orders the weekly figure's levels.

Levels, specialties and outcomes without any case are left out."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.care_weeks import weekly_counts
from projections.analytics.sqlparts import Zones, days_between, open_at, zones_at
from projections.analytics.stats import DAY_DIGITS, median, rounded, share
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime
from projections.overdue_spans import PLAN, REVIEW


class LevelWeeks(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    weeks: int | None
    met: int | None
    share: float | None


class OpenReferrals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int | None
    median_days_open: float | None


class ClosedReferrals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    count: int | None
    median_days_to_close: float | None


class CareStandards(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: UtcDatetime
    weekly_individual: dict[str, LevelWeeks]
    review_overdue: int | None
    plan_overdue: int | None
    referrals_open: dict[str, OpenReferrals]
    referrals_closed: dict[str, ClosedReferrals]
    suppressed: list[str] = Field(default_factory=list)  # JSON Pointers (analyst role)


def care_standards(unit: Unit, at: datetime, catalog: Catalog | None = None) -> CareStandards:
    t = require_aware(at, "at")
    catalog = catalog or default_catalog()
    zones = zones_at(unit, t)
    review, plan = overdue_counts(unit, t)
    opened, closed = _referrals(unit, t, zones)
    return CareStandards(
        at=t,
        weekly_individual=_weekly(unit, t, zones, catalog),
        review_overdue=review,
        plan_overdue=plan,
        referrals_open={
            k: OpenReferrals(count=v.total(), median_days_open=_median(v))
            for k, v in opened.items()
        },
        referrals_closed={
            k: ClosedReferrals(count=v.total(), median_days_to_close=_median(v))
            for k, v in closed.items()
        },
    )


def _median(days: Counter[int]) -> float | None:
    middle = median(days)
    return None if middle is None else rounded(middle, DAY_DIGITS)


def _weekly(unit: Unit, t: datetime, zones: Zones, catalog: Catalog) -> dict[str, LevelWeeks]:
    weeks, met = weekly_counts(unit, t, zones)
    order = [*catalog.level_ids(), *sorted(set(weeks) - set(catalog.level_ids()))]
    return {
        level: LevelWeeks(weeks=weeks[level], met=met[level], share=share(met[level], weeks[level]))
        for level in order
        if weeks[level]
    }


def overdue_counts(unit: Unit, t: datetime) -> tuple[int, int]:
    """(active patients whose plan review is overdue, active patients without a plan that
    is overdue) at T: the overdue spans started by T less those ended by T
    (`rm_overdue_spans`, `projections/overdue_spans.py`), from the counts per UTC date
    before T's (`rm_overdue_days`) and the spans starting or ending on T's date by T."""
    found = dict.fromkeys((REVIEW, PLAN), 0)
    spans = "rm_overdue_spans:starts_at:ends_at"
    for kind, patients in open_at(unit, t, "rm_overdue_days", spans, "kind"):
        found[str(kind)] = int(patients)
    return found[REVIEW], found[PLAN]


def _referrals(
    unit: Unit, t: datetime, zones: Zones
) -> tuple[dict[str, Counter[int]], dict[str, Counter[int]]]:
    """Histograms of the days open of the referrals open at T per specialty, and of the
    days to close of those closed by T per outcome."""
    d = unit.dialect
    opened: dict[str, Counter[int]] = defaultdict(Counter)
    closed: dict[str, Counter[int]] = defaultdict(Counter)
    if zones.local_dates:
        tz, params = zones.cte(d)
        days_open = days_between(d, "tz.t_date", "r.referred_local_date")
        for specialty, days, count in unit.all(
            f"WITH {tz} SELECT r.specialty, {days_open},"
            " COUNT(*) FROM rm_referrals r JOIN rm_patients p ON p.patient_id = r.patient_id"
            " JOIN tz ON tz.timezone = p.timezone"
            " WHERE r.referred_at <= ? AND (r.closed_at IS NULL OR r.closed_at > ?)"
            " GROUP BY 1, 2",
            (*params, t, t),
        ):
            opened[str(specialty)][int(days)] += int(count)
    for outcome, days, count in unit.all(
        f"SELECT outcome, {days_between(d, 'closed_local_date', 'referred_local_date')},"
        " COUNT(*) FROM rm_referrals WHERE referred_at <= ? AND closed_at <= ? GROUP BY 1, 2",
        (t, t),
    ):
        closed[str(outcome)][int(days)] += int(count)
    return dict(sorted(opened.items())), dict(sorted(closed.items()))
