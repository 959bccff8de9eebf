"""The patient journey as served (SPEC section 6): field order is the JSON key order.

Datetimes serialize to JSON as UTC ISO-8601 with `+00:00`; hours and the attendance rate
are already rounded to 2 decimals (the exact comparisons happen before, in `weeks`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, PlainSerializer


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


UtcDatetime = Annotated[datetime, PlainSerializer(_utc_iso, return_type=str, when_used="json")]
JourneyStatus = Literal["active", "discharged", "not_admitted"]
WeekStatus = Literal["no_requirement", "below_minimum", "above_maximum", "within_range"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StayView(_View):
    level: str
    started_at: UtcDatetime
    ended_at: UtcDatetime | None
    days: int


class EpisodeView(_View):
    number: int
    admitted_at: UtcDatetime
    discharged_at: UtcDatetime | None
    discharge_reason: str | None
    days: int
    stays: list[StayView]


class WeekView(_View):
    week: str
    start_date: date
    attended_hours: float
    other_hours: float
    individual_sessions: int
    level_days: dict[str, int]
    expected_min_hours: float | None
    expected_max_hours: float | None
    status: WeekStatus
    complete: bool


class SessionCounts(_View):
    attended: int
    no_show: int
    cancelled: int
    voided: int
    attendance_rate: float | None


class JourneyView(_View):
    patient_id: str
    as_of: UtcDatetime
    known_at: UtcDatetime | None
    status: JourneyStatus
    current_level: str | None
    current_stay_started_at: UtcDatetime | None
    age_group: str
    timezone: str
    episodes: list[EpisodeView]
    days_by_level: dict[str, int]
    days_in_care: int
    continuous_care_days: int
    meets_90_day_benchmark: bool
    weeks: list[WeekView]
    sessions: SessionCounts
