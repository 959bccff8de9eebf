"""The bulk import's row encoder (services.bulk.rows) writes every event exactly as the
application's mapper stores it: the same patient, version, topic and bytes."""

from __future__ import annotations

import json
from pathlib import Path

from eventsourcing.cipher import AESCipher

from journey import domain_events as ev
from journey.application import JourneyApplication
from journey.commands import parse_command_json
from journey.patient import Patient
from services.bulk.rows import RowEncoder
from tests.analytics.scenarios import scenarios
from tests.app.bulk_support import NOW, Opener, cohort_lines


def _decided(
    app: JourneyApplication, lines: list[str], by: str | None = "os:test"
) -> list[ev.PatientEvent]:
    """Every event the lines decide, in order (decided as the bulk workers do, not stored)."""
    patients: dict[str, Patient] = {}
    events = []
    for line in lines:
        command = parse_command_json(line)
        pid = command.patient_id
        patients[pid], event = app.decide_event(patients.get(pid), command, NOW, by)
        if event is not None:
            events.append(event)
    return events


def test_rows_are_the_mappers_to_the_byte(tmp_path: Path, open_app: Opener) -> None:
    app = open_app(f"sqlite:///{tmp_path}/plain.db")
    lines = cohort_lines(3) + [json.dumps(c) for c in scenarios()]
    events = _decided(app, lines) + _decided(app, lines, None)
    encoder = RowEncoder(app.mapper)
    assert encoder.encode.__name__ == "_direct" and encoder.sessions  # sessions' literal
    for event in events:
        stored = app.mapper.to_stored_event(event)
        expected = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
        assert encoder.encode(event) == expected
    kinds = {type(e).__name__ for e in events}
    assert {"PatientAdmitted", "SessionRecorded", "SessionCorrected"} <= kinds


def test_an_encrypted_store_takes_the_mappers_path(tmp_path: Path, open_app: Opener) -> None:
    app = open_app(f"sqlite:///{tmp_path}/sealed.db", cipher_key=AESCipher.create_key(32))
    assert RowEncoder(app.mapper).encode.__name__ == "_mapped"


def test_session_instants_with_any_offset_are_the_mappers(tmp_path: Path, open_app: Opener) -> None:
    """orjson writes an instant as `isoformat` does, except an offset with seconds: those
    are written as text."""
    app = open_app(f"sqlite:///{tmp_path}/offsets.db")
    admit = {"command": "admit", "patient_id": "p-1", "level": "outpatient"}
    offsets = ["+00:00", "Z", "-08:00", "+05:30", "+05:30:15", "-00:00:00.000005", "+14:00"]
    lines = [json.dumps({**admit, "occurred_at": "2024-01-01T00:00:00+00:00"})] + [
        json.dumps(
            {
                "command": "record_session",
                "patient_id": "p-1",
                "session_id": f"s-{n}",
                "occurred_at": f"2025-01-0{n + 1}T10:00:00.{n:06d}{offset}",
                "format": "individual",
                "approach": "cbt",
                "duration_minutes": 50,
            }
        )
        for n, offset in enumerate(offsets)
    ]
    events = _decided(app, lines)
    assert len(events) == 1 + len(offsets)
    encoder = RowEncoder(app.mapper)
    for event in events:
        stored = app.mapper.to_stored_event(event)
        expected = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
        assert encoder.encode(event) == expected, stored.state
