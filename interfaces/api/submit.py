"""From HTTP bodies to commands and back: one resource command, or a batch of commands each
applied on its own (atomically) and reported item by item."""

from __future__ import annotations

from typing import Any

from interfaces.api.openapi import ROUTED_FIELDS
from interfaces.api.problems import problem_for
from interfaces.api.schemas import BatchItem, BatchOut, OutcomeOut
from journey.application import JourneyApplication, Outcome
from journey.commands import parse_command
from journey.errors import InvalidCommand, Issue, JourneyError


def submit(
    application: JourneyApplication, command: str, patient_id: str, body: dict[str, Any]
) -> Outcome:
    """Applies the command named by the route, with the body's fields and the URL's patient."""
    misplaced = [
        Issue(name, "extra_forbidden", "unknown field: the URL gives it")
        for name in ROUTED_FIELDS
        if name in body
    ]
    if misplaced:
        raise InvalidCommand(*misplaced)
    return application.handle(parse_command({**body, "command": command, "patient_id": patient_id}))


def _item(application: JourneyApplication, index: int, raw: Any, instance: str) -> BatchItem:
    try:
        outcome = application.handle(parse_command(raw))
    except JourneyError as error:
        problem = problem_for(error, f"{instance}#/{index}")
        return BatchItem(index=index, status="rejected", outcome=None, problem=problem)
    out = OutcomeOut.of(outcome)
    return BatchItem(index=index, status=out.status, outcome=out, problem=None)


def submit_batch(application: JourneyApplication, raw: list[Any], instance: str) -> BatchOut:
    """Applies each command in order, each on its own; a rejected one stores nothing."""
    results = [_item(application, i, item, instance) for i, item in enumerate(raw)]
    statuses = [r.status for r in results]
    return BatchOut(
        results=results,
        accepted=statuses.count("accepted"),
        duplicates=statuses.count("duplicate"),
        rejected=statuses.count("rejected"),
    )
