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

Levels, specialties and outcomes without any case are left out."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from infrastructure.sql import Unit, day_of, instant_of
from journey.catalog import Catalog, default_catalog
from projections.analytics.care_weeks import weekly_counts
from projections.analytics.stats import DAY_DIGITS, median, rounded, share
from projections.calendar import require_aware
from projections.journey_view import UtcDatetime
from projections.read_models.patients import calendar_for

REVIEW_INTERVAL = timedelta(days=7)


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
    zones = {str(p): str(z) for p, z in unit.all("SELECT patient_id, timezone FROM rm_patients")}
    review, plan = _overdue(unit, t, zones, catalog)
    opened, closed = _referrals(unit, t, zones)
    return CareStandards(
        at=t,
        weekly_individual=_weekly(unit, t, catalog),
        review_overdue=review,
        plan_overdue=plan,
        referrals_open={
            k: OpenReferrals(count=len(v), median_days_open=_median(v)) for k, v in opened.items()
        },
        referrals_closed={
            k: ClosedReferrals(count=len(v), median_days_to_close=_median(v))
            for k, v in closed.items()
        },
    )


def _median(days: list[int]) -> float | None:
    middle = median(Counter(days))
    return None if middle is None else rounded(middle, DAY_DIGITS)


def _weekly(unit: Unit, t: datetime, catalog: Catalog) -> dict[str, LevelWeeks]:
    weeks, met = weekly_counts(unit, t)
    order = [*catalog.level_ids(), *sorted(set(weeks) - set(catalog.level_ids()))]
    return {
        level: LevelWeeks(weeks=weeks[level], met=met[level], share=share(met[level], weeks[level]))
        for level in order
        if weeks[level]
    }


def _latest_episodes(unit: Unit, t: datetime) -> dict[str, tuple[int, date, str, bool]]:
    """Per patient, the latest episode admitted by T: number, admission local date, first
    level, and whether it is open at T."""
    d, found = unit.dialect, {}
    for pid, number, day, level, discharged in unit.all(
        "SELECT patient_id, number, admitted_local_date, first_level, discharged_at"
        " FROM rm_episodes WHERE admitted_at <= ? ORDER BY patient_id, number",
        (t,),
    ):
        ended = d.instant(discharged)
        found[str(pid)] = (int(number), day_of(d, day), str(level), ended is None or ended > t)
    return found


def _overdue(unit: Unit, t: datetime, zones: dict[str, str], catalog: Catalog) -> tuple[int, int]:
    """(active patients whose plan review is overdue, active patients without a plan that
    is overdue)."""
    d, plans = unit.dialect, {}
    for pid, plan_id, number, day in unit.all(
        "SELECT patient_id, plan_id, episode_number, created_local_date FROM rm_plans"
        " WHERE created_at <= ? ORDER BY patient_id, created_at, version",
        (t,),
    ):
        plans[str(pid), int(number)] = (str(plan_id), day_of(d, day))  # the latest wins
    reviewed: dict[tuple[str, str], date] = {}
    for pid, plan_id, day in unit.all(
        "SELECT patient_id, plan_id, reviewed_local_date FROM rm_plan_reviews"
        " WHERE reviewed_at <= ? ORDER BY patient_id, reviewed_at, version",
        (t,),
    ):
        reviewed[str(pid), str(plan_id)] = day_of(d, day)
    review = plan = 0
    for pid, (number, admitted, level, is_open) in _latest_episodes(unit, t).items():
        today = calendar_for(zones.get(pid)).local_date(t)
        current = plans.get((pid, number))
        if not is_open:
            continue
        if current is not None:
            last = reviewed.get((pid, current[0]), current[1])
            review += today > last + REVIEW_INTERVAL
        elif level in catalog.levels:
            plan += today > admitted + timedelta(days=catalog.levels[level].plan_due_days)
    return review, plan


def _referrals(
    unit: Unit, t: datetime, zones: dict[str, str]
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Days open of the referrals open at T per specialty; days to close of those closed
    by T per outcome."""
    d = unit.dialect
    opened: dict[str, list[int]] = defaultdict(list)
    closed: dict[str, list[int]] = defaultdict(list)
    for pid, specialty, day, closed_at, closed_day, outcome in unit.all(
        "SELECT patient_id, specialty, referred_local_date, closed_at, closed_local_date,"
        " outcome FROM rm_referrals WHERE referred_at <= ?",
        (t,),
    ):
        referred = day_of(d, day)
        if closed_at is not None and instant_of(d, closed_at) <= t:
            closed[str(outcome)].append((day_of(d, closed_day) - referred).days)
        else:
            today = calendar_for(zones.get(str(pid))).local_date(t)
            opened[str(specialty)].append((today - referred).days)
    return dict(sorted(opened.items())), dict(sorted(closed.items()))
