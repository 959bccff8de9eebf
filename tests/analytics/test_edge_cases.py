"""Edge cases (see scenarios.py) agree with the live projection at many instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from infrastructure.sql import connect
from journey.application import JourneyApplication
from projections.analytics.intensity import intensity
from tests.analytics.scenarios import mixed_age_week, scenarios
from tests.analytics.support import check
from tests.readmodels.support import follow, load

PATIENTS = ["edge-age", "edge-zero"]


def test_edge_cases_agree_with_the_live_projection(app: JourneyApplication, store_url: str) -> None:
    load(app, scenarios())
    follow(app, store_url)
    start = datetime(2025, 3, 3, 14, tzinfo=UTC)
    instants = [start + timedelta(days=d, hours=h) for d in range(0, 260, 3) for h in (0, 10)]
    for t in instants:
        check(app, store_url, PATIENTS, t=t, a=date(2025, 3, 1), b=date(2025, 11, 30))


def test_mixed_age_week_uses_each_dates_age_group(app: JourneyApplication, store_url: str) -> None:
    load(app, mixed_age_week())
    follow(app, store_url)
    db = connect(store_url)
    with db.transaction() as unit:  # 490 min = 8.17 h >= (2 x 6 + 5 x 9) / 7 = 8.14 h
        week = intensity(unit, datetime(2025, 3, 17, 12, tzinfo=UTC)).weeks_by_level["iop"]
    db.close()
    # the week of 2025-03-03 (adolescent, nothing attended) is below its minimum
    assert (week.weeks, week.counts["within_range"], week.counts["below_minimum"]) == (2, 1, 1)
