"""The patient queries (projections/queries.py) read and fold a long history with the cyclic
garbage collector paused: no collection runs while they work (without the pause a
600-event patient's journey ran several), and the collector is left as it was found. (The
views themselves are compared with the plain fold by tests/app/test_stored_journey.py and
tests/app/test_fast_history.py.)"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.queries import patient_care, patient_history, patient_journey, patient_sessions

START = datetime(2025, 1, 6, 9, tzinfo=UTC)
AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
EVENTS = 600


def _load(app: JourneyApplication, patient_id: str) -> None:
    commands: list[dict[str, Any]] = [
        {"command": "admit", "level": "detox", "timezone": "America/Chicago"},
        {"command": "transition", "to_level": "outpatient"},
    ]
    commands += [
        {
            "command": "record_session",
            "session_id": f"s-{n}",
            "format": "individual" if n % 3 else "group",
            "approach": "cbt" if n % 4 else "yoga",
            "duration_minutes": 45 + n % 60,
            "status": "attended" if n % 9 else "no_show",
        }
        for n in range(EVENTS - 2)
    ]
    stamped = [
        {**c, "occurred_at": (START + timedelta(hours=17 * i)).isoformat()}
        for i, c in enumerate(commands)
    ]
    results = app.handle_many(
        [parse_command({**c, "patient_id": patient_id}) for c in stamped], atomic=True
    )
    assert not any(isinstance(r, Exception) for r in results)


@contextmanager
def collections() -> Iterator[list[int]]:
    """The generations of the collections run inside the block."""
    seen: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(count)
    try:
        yield seen
    finally:
        gc.callbacks.remove(count)


@pytest.fixture
def loaded(make_app: Callable[..., JourneyApplication]) -> Callable[[], JourneyApplication]:
    _load(make_app(), "q-1")
    return make_app  # a fresh application: the first (cold) read of the patient


def test_no_collection_while_a_query_reads_and_folds(
    loaded: Callable[[], JourneyApplication],
) -> None:
    assert gc.isenabled()
    queries: dict[str, Callable[[JourneyApplication], object]] = {
        "journey": lambda app: patient_journey(app, "q-1", as_of=AS_OF),
        "sessions": lambda app: patient_sessions(app, "q-1", as_of=AS_OF),
        "care": lambda app: patient_care(app, "q-1", as_of=AS_OF),
        "history": lambda app: patient_history(app, "q-1"),
    }
    for name, query in queries.items():
        app = loaded()
        gc.collect()
        with collections() as seen:
            query(app)
        # at most the one young collection due when the collector resumes
        assert len(seen) <= 1 and set(seen) <= {0}, (name, seen)
        assert gc.isenabled()
    gc.disable()
    try:
        patient_journey(loaded(), "q-1", as_of=AS_OF)
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
