"""The pydantic domain events store exactly what main (dba9df2) stored with its dataclass
events: the same topic and the same state bytes (field order, chain hash, class_version)
for one event of each type decided from the same commands at the same recording time.
tests/fixtures/stored_bytes_dba9df2/rows.json was written by main's code with write.py."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from journey import domain_events as ev
from journey.events import EVENT_NAMES
from journey.mapper import EventMapper

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "stored_bytes_dba9df2"


def _writer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stored_bytes_writer", FIXTURE / "write.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_new_events_store_the_bytes_main_stored() -> None:
    before = json.loads((FIXTURE / "rows.json").read_text())
    now = _writer().rows()
    assert len(now) == len(before) == 10
    for new, old in zip(now, before, strict=True):
        assert new == old, f"version {old['version']} ({old['topic']}) is stored differently"
    topics = {row["topic"].rsplit(":", 1)[1] for row in before}
    old_types = set(EVENT_NAMES[:6])
    assert topics == old_types  # one event of each type main knew, at least


def test_main_rows_read_back_as_the_events_they_were() -> None:
    """Each of main's rows decodes to a pydantic event that stores the same bytes again."""
    from eventsourcing.persistence import StoredEvent

    from journey.application import JourneyApplication

    app = JourneyApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert isinstance(app.mapper, EventMapper)
    for row in json.loads((FIXTURE / "rows.json").read_text()):
        stored = StoredEvent("p-bytes", row["version"], row["topic"], row["state"].encode())
        event = app.mapper.to_domain_event(stored)
        assert isinstance(event, ev.PatientEvent)
        assert event.type == type(event).__name__
        assert app.mapper.to_stored_event(event) == stored
