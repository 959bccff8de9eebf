"""The journey summary published to the compacted state topic (SPEC section 8).

It is the patient's journey (projections.journey, the same fold the API serves) as of the
moment the patient's latest event took effect: `as_of` is the latest of the events'
recording and clinical times. So a summary is a deterministic function of the patient's
history up to `last_event_version`: re-publishing after a relay crash yields the identical
value, and consumers can compare `last_event_version` to drop stale ones. Day counts are
as of `as_of`; a consumer wanting "today" adds the midnights since while `status` is active.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from journey.events import EventEnvelope
from journey.values import UtcInstant
from projections.event_text import instant_text
from projections.facts import journey_facts
from projections.journey import journey_view
from projections.journey_view import JourneyStatus, JourneyView, WeekView
from publishing.cloudevents import (
    CONTENT_TYPE,
    SCHEMA_BASE,
    SOURCE,
    KafkaRecord,
    ce_sequence,
    ce_type,
)

SUMMARY_TYPE = "JourneySummary"
# 2: current_week gained evidence_based_hours, individual_with_primary and
# weekly_individual_met; primary_therapist, plan_overdue and review_overdue were added.
SUMMARY_VERSION = 2


class JourneySummary(BaseModel):
    """A patient's journey after their latest event: the value of care-journey.state.v1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    patient_id: str
    schema_version: int = SUMMARY_VERSION
    as_of: UtcInstant = Field(description="instant the figures are computed at")
    status: JourneyStatus
    current_level: str | None
    current_stay_started_at: UtcInstant | None
    age_group: str
    timezone: str
    days_in_care: int
    days_by_level: dict[str, int]
    continuous_care_days: int
    meets_90_day_benchmark: bool
    primary_therapist: str | None = Field(
        description="clinician of the latest assignment of the open episode"
    )
    plan_overdue: bool = Field(
        description="the open episode has no treatment plan past its level's plan_due_days"
    )
    review_overdue: bool = Field(
        description="the open episode's treatment plan is past its next review date"
    )
    current_week: WeekView | None = Field(
        description="the journey's row for the ISO week holding as_of, if listed"
    )
    last_event_id: str
    last_event_version: int
    last_event_type: str


def summary_instant(events: Sequence[EventEnvelope]) -> datetime:
    """When the latest fact took effect: the latest recording or clinical time."""
    return max(max(e.recorded_at, e.occurred_at) for e in events)


def summary_view(events: Sequence[EventEnvelope], as_of: datetime) -> JourneyView:
    """The served journey view as of `as_of`, shaped with only the current week's row
    (summarizing and shaping every week of a long history is most of a view's cost)."""
    facts = journey_facts(events, as_of=as_of, current_week_only=True)
    assert facts is not None  # a summary is of a stream with events, all known
    return journey_view(facts)


View = Callable[[Sequence[EventEnvelope], datetime], JourneyView]


def summarize(events: Sequence[EventEnvelope], view_of: View = summary_view) -> JourneySummary:
    """The summary of one patient's history (every event, in stream order, from version 1);
    `view_of` is for tests comparing another fold."""
    as_of = summary_instant(events)
    view = view_of(events, as_of)
    last = events[-1]
    return JourneySummary(
        patient_id=last.patient_id,
        as_of=as_of,
        status=view.status,
        current_level=view.current_level,
        current_stay_started_at=view.current_stay_started_at,
        age_group=view.age_group,
        timezone=view.timezone,
        days_in_care=view.days_in_care,
        days_by_level=view.days_by_level,
        continuous_care_days=view.continuous_care_days,
        meets_90_day_benchmark=view.meets_90_day_benchmark,
        primary_therapist=view.primary_therapist,
        plan_overdue=view.plan_overdue,
        review_overdue=view.treatment_plan is not None and view.treatment_plan.review_overdue,
        current_week=view.weeks[0] if view.weeks else None,
        last_event_id=last.event_id,
        last_event_version=last.version,
        last_event_type=last.type,
    )


def state_record(summary: JourneySummary) -> KafkaRecord:
    """The state-topic record: key patient id, JSON value, CloudEvents headers like events."""
    headers = {
        "ce_specversion": "1.0",
        "ce_id": f"{summary.last_event_id}.summary",
        "ce_source": SOURCE,
        "ce_type": ce_type(SUMMARY_TYPE, summary.schema_version),
        "ce_time": instant_text(summary.as_of),
        "ce_subject": summary.patient_id,
        "ce_dataschema": f"{SCHEMA_BASE}/{SUMMARY_TYPE}.v{summary.schema_version}.json",
        "ce_sequence": ce_sequence(summary.last_event_version),
        "ce_partitionkey": summary.patient_id,
        "content-type": CONTENT_TYPE,
    }
    return KafkaRecord(
        key=summary.patient_id.encode(),
        value=summary.model_dump_json().encode(),
        headers=[(name, value.encode()) for name, value in headers.items()],
    )
