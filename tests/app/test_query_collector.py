"""The patient queries (projections/queries.py) read and fold a long history with the cyclic
garbage collector paused: no collection runs while they work (without the pause a
600-event patient's journey ran several), the collector is left as it was found, and the
views are the same as those of the same history folded with the collector running."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.care_view import care_view
from projections.journey import project_journey
from projections.queries import patient_care, patient_history, patient_journey, patient_sessions
from projections.session_view import session_log_view

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


def test_same_views_as_with_the_collector_running(
    loaded: Callable[[], JourneyApplication],
) -> None:
    app = loaded()
    history = app.history("q-1")
    now = datetime.now(UTC)
    for as_of in (START + timedelta(days=30), AS_OF):
        journey = patient_journey(loaded(), "q-1", as_of=as_of)
        folded = project_journey(history, as_of=as_of, now=now)
        assert folded is not None
        assert journey.model_dump_json() == folded.model_dump_json()
        sessions = session_log_view(history, as_of=as_of)
        assert sessions is not None
        assert patient_sessions(loaded(), "q-1", as_of=as_of).model_dump_json() == (
            sessions.model_dump_json()
        )
        care = care_view(history, as_of=as_of)
        assert care is not None
        assert patient_care(loaded(), "q-1", as_of=as_of).model_dump_json() == (
            care.model_dump_json()
        )
