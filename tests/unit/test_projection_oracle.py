"""Differential test: the journey projection equals a naive reading of the SPEC on realistic
demo cohorts, at several instants T and recorded-time cut-offs K."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from config.settings import Settings
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.demo.cohort import generate_cohort
from journey.application import JourneyApplication
from journey.commands import parse_command
from projections.journey import project_journey
from services.bootstrap import build_application
from tests.unit.spec_oracle import oracle
from tests.unit.test_projection_properties import Journey, journeys_and_instants

UNTIL = date(2026, 6, 1)


@pytest.fixture(scope="module")
def cohort_app(tmp_path_factory: pytest.TempPathFactory) -> JourneyApplication:
    db: Path = tmp_path_factory.mktemp("oracle") / "o.db"
    app = build_application(Settings(database_url=f"sqlite:///{db}"))
    commands = [parse_command(c) for c in generate_cohort(60, seed=11, until=UNTIL)]
    results = app.handle_many(commands, atomic=True, now=datetime(2026, 6, 2, tzinfo=UTC))
    assert all(not isinstance(r, Exception) for r in results)
    return app


@pytest.mark.parametrize(
    "as_of",
    [
        datetime(2026, 6, 1, tzinfo=UTC),
        datetime(2025, 12, 1, 5, 30, tzinfo=UTC),
        datetime(2025, 6, 15, 12, tzinfo=UTC),
    ],
)
def test_projection_matches_the_naive_reading(
    cohort_app: JourneyApplication, as_of: datetime
) -> None:
    checked = 0
    for n in range(1, 61):
        events = cohort_app.history(f"demo-{n:06d}")
        if events[0].occurred_at > as_of:
            continue
        view = project_journey(events, as_of=as_of)
        assert view is not None
        assert view.model_dump(mode="json") == oracle(events, as_of, None), f"demo-{n:06d}"
        checked += 1
    assert checked >= 5  # the comparison really ran


def test_known_at_matches_the_naive_reading(cohort_app: JourneyApplication) -> None:
    as_of = datetime(2026, 6, 1, tzinfo=UTC)
    for n in range(1, 61, 7):
        events = cohort_app.history(f"demo-{n:06d}")
        known_at = events[len(events) // 2].recorded_at + timedelta(microseconds=1)
        view = project_journey(events, as_of=as_of, known_at=known_at)
        assert view is not None
        assert view.model_dump(mode="json") == oracle(events, as_of, known_at)


@settings(max_examples=150, deadline=None)
@given(journeys_and_instants(), st.data())
def test_generated_journeys_match_the_naive_reading(
    case: tuple[Journey, datetime], data: st.DataObject
) -> None:
    """Minute-resolution journeys in DST and half-hour zones, with corrections and voids."""
    journey, as_of = case
    known_at = data.draw(st.sampled_from([None, *(e.recorded_at for e in journey.events)]))
    view = project_journey(journey.events, as_of=as_of, known_at=known_at)
    assert view is not None
    assert view.model_dump(mode="json") == oracle(journey.events, as_of, known_at)
