"""Every analytics figure over the read models equals the one obtained by folding each
patient's journey with the live projection, on demo cohorts (several seeds) and several
instants T (mid-history ones included), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from services.bootstrap import build_application
from tests.analytics.support import check
from tests.readmodels.support import UNTIL, cohort, follow, load

INSTANTS = (
    datetime(2025, 3, 1, 12, tzinfo=UTC),
    datetime(2025, 9, 14, 3, 30, tzinfo=UTC),
    datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime.combine(UNTIL, datetime.min.time(), tzinfo=UTC),
)
RANGES = ((date(2025, 1, 1), date(2025, 3, 31)), (date(2024, 9, 1), date(2026, 3, 2)))


def _run(app: JourneyApplication, url: str, seed: int, patients: int) -> None:
    load(app, cohort(patients, seed=seed))
    follow(app, url)
    ids = [f"demo-{i:06d}" for i in range(1, patients + 1)]
    for t in INSTANTS:
        for first, last in RANGES:
            check(app, url, ids, t=t, a=first, b=last)


def test_analytics_agree_with_the_live_projection(app: JourneyApplication, store_url: str) -> None:
    _run(app, store_url, seed=3, patients=60)


@pytest.mark.parametrize("seed", [11, 29])
def test_other_cohorts_agree_too(tmp_path: Path, seed: int) -> None:
    url = f"sqlite:///{tmp_path}/cohort.db"
    app = build_application(Settings(database_url=url))
    try:
        _run(app, url, seed, patients=80)
    finally:
        app.close()
