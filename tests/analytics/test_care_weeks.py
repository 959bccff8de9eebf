"""The care-standards weekly read model (format 5, `projections/read_models/care_weeks.py`)
gives the weekly figure the query computed at query time before it (the walk over stays
and sessions, `care_weeks_walk.py`), at many instants, on a stored demo cohort with its
clinical program (reassigned therapists, corrections, voids); and its rows do not depend
on how the log was cut into transactions nor on the parallel rebuild."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.settings import Settings
from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.catalog import default_catalog
from projections.analytics.care_weeks import weekly_counts
from projections.read_models.schema import reset_tables
from services.replay_parallel import rebuild_store
from tests.analytics.care_weeks_walk import weekly_walk
from tests.readmodels.support import UNTIL, dump, follow, load

CARE_TABLES = ("rm_care_weeks", "rm_care_week_counts", "rm_care_spans")
START = datetime(2024, 9, 2, tzinfo=UTC)
INSTANTS = [START + timedelta(days=23 * n, hours=7 * n) for n in range(26)]


def _cohort(app: JourneyApplication) -> None:
    profile = CohortProfile(care=CareProfile(reassign_share=0.5))
    load(app, generate_cohort(24, seed=5, until=UNTIL, id_prefix="cw", profile=profile))


def _answers(url: str) -> list[tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]]:
    db, catalog, found = connect(url), default_catalog(), []
    try:
        with db.transaction() as unit:
            for t in INSTANTS:
                weeks, met = weekly_counts(unit, t)
                new = {level: (n, met[level]) for level, n in weeks.items() if n}
                found.append((new, weekly_walk(unit, t, catalog)))
    finally:
        db.close()
    return found


def test_the_weekly_read_model_answers_as_the_walk_did(
    app: JourneyApplication, store_url: str
) -> None:
    _cohort(app)
    follow(app, store_url)
    answers = _answers(store_url)
    for t, (new, old) in zip(INSTANTS, answers, strict=True):
        assert new == old, t
    assert sum(1 for new, _ in answers if new) > 15  # most instants have ended weeks
    assert any(met for new, _ in answers for _, met in new.values())
    assert any(met < weeks for new, _ in answers for weeks, met in new.values())


def test_its_rows_do_not_depend_on_batches_nor_on_the_parallel_rebuild(
    app: JourneyApplication, store_url: str
) -> None:
    _cohort(app)
    follow(app, store_url)
    whole = dump(store_url)
    assert all(whole[t] for t in CARE_TABLES)
    db = connect(store_url)
    try:
        with db.transaction() as unit:
            reset_tables(unit)
        follow(app, store_url, batch_size=7)
        assert dump(store_url) == whole
        rebuild_store(db, Settings(database_url=store_url), 2)
    finally:
        db.close()
    assert dump(store_url) == whole
