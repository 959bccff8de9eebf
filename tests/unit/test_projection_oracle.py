"""Differential test: the journey projection equals a naive reading of the SPEC on realistic
demo cohorts, at several instants T and recorded-time cut-offs K."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import Settings
from devtools.demo.cohort import generate_cohort
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.events import EventEnvelope
from projections.journey import project_journey
from services.bootstrap import build_application
from tests.unit.builders import StreamBuilder
from tests.unit.spec_oracle import oracle
from tests.unit.test_projection_properties import BASE, ZONES, Journey, journeys_and_instants

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
    """Minute-resolution journeys in DST and half-hour zones, with corrections and voids,
    primary therapists, plans with reviews and referrals opened and closed."""
    journey, as_of = case
    known_at = data.draw(st.sampled_from([None, *(e.recorded_at for e in journey.events)]))
    now = data.draw(st.sampled_from([None, as_of, as_of - timedelta(microseconds=1)]))
    view = project_journey(journey.events, as_of=as_of, known_at=known_at, now=now)
    assert view is not None
    assert view.model_dump(mode="json") == oracle(journey.events, as_of, known_at, now)


@st.composite
def weekly_reviews(draw: st.DrawFn) -> tuple[list[EventEnvelope], datetime]:
    """One open episode with a plan reviewed every 5 to 9 days, and T around a local
    midnight one to nine days after a review: where `review_overdue` turns."""
    zone = draw(st.sampled_from(ZONES))
    at = BASE + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60)))
    b = StreamBuilder(timezone=zone).admit(at, draw(st.sampled_from(["php", "iop", "detox"])))
    when = at + timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
    b.plan("pl", when, {"g": ["o1", "o2"]})
    marks = [when]
    for _ in range(draw(st.integers(0, 4))):
        when += timedelta(minutes=draw(st.integers(5 * 24 * 60, 9 * 24 * 60)))
        b.review("pl", when, {draw(st.sampled_from(["o1", "o2"])): "met"})
        marks.append(when)
    tz = ZoneInfo(zone)
    day = draw(st.sampled_from(marks)).astimezone(tz).date()
    day += timedelta(days=draw(st.integers(1, 9)))
    midnight = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    return b.events, midnight + timedelta(minutes=draw(st.integers(-90, 90)))


@settings(max_examples=100, deadline=None)
@given(weekly_reviews())
def test_review_due_dates_match_the_naive_reading(
    case: tuple[list[EventEnvelope], datetime],
) -> None:
    events, as_of = case
    view = project_journey(events, as_of=as_of)
    assert view is not None
    assert view.model_dump(mode="json") == oracle(events, as_of, None)
