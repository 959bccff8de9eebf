"""Output schemas of the HTTP API. Request bodies are the command models themselves
(validated by `journey.commands.parse_command`); their OpenAPI shapes live in `openapi.py`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from journey.application import Outcome
from journey.commands import REGISTRY
from journey.events import EventEnvelope

CommandName = Annotated[str, Field(json_schema_extra={"enum": list(REGISTRY)})]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OutcomeOut(_Out):
    """What became of one command: stored as a new event, or a duplicate of a stored one."""

    patient_id: str
    command: CommandName
    status: Literal["accepted", "duplicate"]
    version: int = Field(description="the patient's stream version after the command")
    event_type: str | None = Field(description="the stored event; null for a duplicate")
    event_id: str | None = Field(description="the stored event's id; null for a duplicate")

    @classmethod
    def of(cls, outcome: Outcome) -> OutcomeOut:
        return cls.model_validate(
            {
                "patient_id": outcome.patient_id,
                "command": outcome.command,
                "status": outcome.status,
                "version": outcome.version,
                "event_type": outcome.event_type,
                "event_id": outcome.event_id,
            }
        )


class ProblemIssue(_Out):
    """One broken rule: the field it concerns (a dotted path), the rule and a message."""

    field: str
    rule: str
    message: str


class Problem(_Out):
    """RFC 9457 problem details, served as `application/problem+json`."""

    type: str = Field(description="https://carejourney.org/problems/<rule or kind>")
    title: str
    status: int
    detail: str
    instance: str | None = Field(description="the request path (with #/i for a batch item)")
    errors: list[ProblemIssue]


class BatchItem(_Out):
    """The result of the command at `index` of the submitted array."""

    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    outcome: OutcomeOut | None
    problem: Problem | None


class BatchOut(_Out):
    results: list[BatchItem]
    accepted: int
    duplicates: int
    rejected: int


class HistoryOut(_Out):
    patient_id: str
    events: list[EventEnvelope]


class Health(_Out):
    status: Literal["ok"]


class AccessOut(BaseModel):
    """One entry of the access trail."""

    at: AwareDatetime
    actor: str
    role: str
    channel: str
    source: str
    action: str
    patient_id: str | None
    detail: str
    outcome: str
