"""From HTTP bodies to commands and back: one resource command, or a batch of commands each
applied on its own (atomically) and reported item by item."""

from __future__ import annotations

from typing import Any

from audit.principals import ANONYMOUS, Principal
from interfaces.api.openapi import ROUTED_FIELDS
from interfaces.api.problems import problem_for
from interfaces.api.schemas import BatchItem, BatchOut, OutcomeOut
from journey.application import JourneyApplication, Outcome
from journey.commands import parse_command
from journey.errors import InvalidCommand, Issue, JourneyError
from services.group_writer import GroupWriter


def with_actor(raw: Any, caller: Principal) -> Any:
    """The command as reported by the caller: the actor is the authenticated principal; only
    a `service` (an intake system) may name the clinician it reports for."""
    if not isinstance(raw, dict) or caller is ANONYMOUS:
        return raw
    named = raw.get("actor")
    if named is None or caller.role == "service":
        return {**raw, "actor": named or caller.name}
    if named != caller.name:
        raise InvalidCommand(
            Issue("actor", "authenticated_actor", f"must be the caller '{caller.name}' or absent")
        )
    return raw


def submit(
    writer: GroupWriter,
    command: str,
    patient_id: str,
    body: dict[str, Any],
    caller: Principal,
    *,
    path: dict[str, str] | None = None,
) -> Outcome:
    """Applies the command named by the route, with the body's fields and the URL's patient
    (and the other fields the URL gives, `path`), stored with the commands of concurrent
    requests (`services.group_writer`)."""
    path = path or {}
    misplaced = [
        Issue(name, "extra_forbidden", "unknown field: the URL gives it")
        for name in (*ROUTED_FIELDS, *path)
        if name in body
    ]
    if misplaced:
        raise InvalidCommand(*misplaced)
    routed = {**body, **path, "command": command, "patient_id": patient_id}
    raw = with_actor(routed, caller)
    return writer.handle(parse_command(raw), recorded_by=caller.name)


def _item(
    application: JourneyApplication, index: int, raw: Any, instance: str, caller: Principal
) -> BatchItem:
    try:
        outcome = application.handle(
            parse_command(with_actor(raw, caller)), recorded_by=caller.name
        )
    except JourneyError as error:
        problem = problem_for(error, f"{instance}#/{index}")
        return BatchItem(index=index, status="rejected", outcome=None, problem=problem)
    out = OutcomeOut.of(outcome)
    return BatchItem(index=index, status=out.status, outcome=out, problem=None)


def submit_batch(
    application: JourneyApplication, raw: list[Any], instance: str, caller: Principal
) -> BatchOut:
    """Applies each command in order, each on its own; a rejected one stores nothing."""
    results = [_item(application, i, item, instance, caller) for i, item in enumerate(raw)]
    statuses = [r.status for r in results]
    return BatchOut(
        results=results,
        accepted=statuses.count("accepted"),
        duplicates=statuses.count("duplicate"),
        rejected=statuses.count("rejected"),
    )
