"""This round's fast analytics paths answer exactly as the former queries did
(`former.py`), on a stored demo cohort, at several instants and ranges, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

from infrastructure.sql import Unit, connect
from journey.application import JourneyApplication
from projections.analytics.census import _daily_counts, census_at
from projections.analytics.intensity import _interior_weeks
from projections.analytics.length_of_stay import _EPISODES, _STAYS, _histograms
from projections.analytics.sqlparts import zones_at
from projections.analytics.transitions import transitions
from tests.analytics.former import (
    EPISODES,
    STAYS,
    census_levels,
    daily_counts,
    histograms,
    interior_weeks,
    transition_pairs,
)
from tests.readmodels.support import cohort, follow, load

INSTANTS = [datetime(2024, 11, 3, 6, tzinfo=UTC) + timedelta(days=37 * n, hours=5 * n)
            for n in range(14)]  # fmt: skip
RANGES = [(date(2024, 10, 1), date(2025, 9, 30)), (date(2025, 2, 27), date(2025, 3, 31)),
          (date(2025, 6, 1), date(2026, 6, 1)), (date(2026, 2, 20), date(2026, 2, 20))]  # fmt: skip


@contextmanager
def _followed(app: JourneyApplication, store_url: str) -> Iterator[Unit]:
    """The demo cohort stored and followed into the read models; a transaction on them."""
    load(app, cohort(40, seed=9))
    follow(app, store_url)
    db = connect(store_url)
    try:
        with db.transaction() as unit:
            yield unit
    finally:
        db.close()


def test_the_daily_census_answers_as_before(app: JourneyApplication, store_url: str) -> None:
    nonzero = 0
    with _followed(app, store_url) as unit:
        for t in INSTANTS:
            zones = zones_at(unit, t)
            for first, last in RANGES:
                new = _daily_counts(unit, zones, first, last)
                assert new == daily_counts(unit, zones, first, last), (t, first, last)
                nonzero += sum(1 for levels in new.values() if levels)
    assert nonzero > 300


def test_the_interior_weeks_of_intensity_are_as_before(
    app: JourneyApplication, store_url: str
) -> None:
    with _followed(app, store_url) as unit:
        seen = 0
        for t in INSTANTS:
            zones = zones_at(unit, t)
            new = {k: n for k, n in _interior_weeks(unit, zones).items() if n}
            assert new == {k: n for k, n in interior_weeks(unit, zones).items() if n}, t
            seen += sum(new.values())
    assert seen > 100


def test_the_length_of_stay_histograms_are_as_before(
    app: JourneyApplication, store_url: str
) -> None:
    with _followed(app, store_url) as unit:
        seen = 0
        for t in INSTANTS:
            for new, old in ((_STAYS, STAYS), (_EPISODES, EPISODES)):
                found = _histograms(unit, new, t)
                assert found == histograms(unit, old, t), t
                seen += sum(sum(h.values()) for h in found.values())
    assert seen > 500


def test_the_census_at_t_and_the_transitions_are_as_before(
    app: JourneyApplication, store_url: str
) -> None:
    instants = [*INSTANTS, *(INSTANTS[5] + timedelta(hours=h) for h in range(0, 96, 5))]
    with _followed(app, store_url) as unit:
        in_force = moves = 0
        for t in instants:
            new = {k: n for k, n in census_at(unit, t).levels.items() if n}
            assert new == census_levels(unit, t), t
            in_force += sum(n or 0 for n in new.values())
            for first, last in [*RANGES, (t.date() - timedelta(days=3), t.date())]:
                answer = transitions(unit, t, first, last)
                got = {
                    (direction, p.from_level, p.to_level): (p.count, p.across_episodes)
                    for direction, found in (("step_down", answer.step_down),
                                             ("step_up", answer.step_up))
                    for p in found
                }  # fmt: skip
                assert got == transition_pairs(unit, t, first, last), (t, first, last)
                moves += len(got)
    assert in_force > 100 and moves > 50
