"""What the read models receive of the clinical program's events (the Pseudonymizer's
envelope): clinician, plan and referral ids as keyed pseudonyms, and no free text (the
plan's goal and objective descriptions are dropped)."""

from __future__ import annotations

from datetime import UTC, datetime

from infrastructure.pseudonym_keys import Pseudonymizer
from journey.application import JourneyApplication
from journey.commands import parse_command
from tests.app.test_care_program import PROGRAM

NOW = datetime(2026, 6, 1, tzinfo=UTC)
SECRETS = ("p-visible", "c-1", "c-9", "plan-1", "r-1", "name triggers", "a plan for weekends")


def test_the_program_reaches_the_read_models_without_ids_or_free_text() -> None:
    app = JourneyApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    app.handle_many(
        [parse_command({**raw, "patient_id": "p-visible"}) for raw in PROGRAM],
        atomic=True,
        now=NOW,
    )
    history = app.history("p-visible")
    assert any("name triggers" in e.model_dump_json() for e in history)  # stored, and shown
    seen = [Pseudonymizer(b"k" * 32)(e).model_dump_json() for e in history]
    leaked = [(s, text) for text in seen for s in SECRETS if f'"{s}"' in text]
    assert not leaked
    plan = Pseudonymizer(b"k" * 32)(history[2]).payload.model_dump()
    assert plan["goals"][0]["dimension"] == "relapse_potential"  # what analytics need stays
    assert [o["target_date"].isoformat() for o in plan["goals"][0]["objectives"]] == [
        "2026-01-20",
        "2026-02-03",
    ]
