"""Read models written by main 308233f (format 4) are dropped on start with a message
naming both formats and rebuilt from the log in format 5, with the care-standards weekly
read model and the daily counters filled; the result equals a replay of the log, and the
weekly figure equals the former walk over stays and sessions."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Settings
from consumers.read_model_service import ReadModelService
from consumers.replay import compare, rebuild_into, tables_for
from infrastructure.sql import connect
from journey.catalog import default_catalog
from projections.analytics.care_weeks import weekly_counts
from projections.read_models.schema import FORMAT_VERSION
from services.bootstrap import build_application
from tests.analytics.care_weeks_walk import weekly_walk
from tests.readmodels.support import rows

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "readmodels_format4"
EVENTS = 243


def test_format_4_read_models_are_rebuilt_in_format_5(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "journey.db", tmp_path / "journey.db")
    url = f"sqlite:///{tmp_path}/journey.db"
    assert rows(url, "SELECT version FROM rm_format") == [(4,)]
    app = build_application(Settings(database_url=url))
    try:
        with ReadModelService(app, url) as service:
            note = service.prepare()
            assert note is not None and "format 4 found" in note, note
            assert f"writes format {FORMAT_VERSION}" in note
            assert service.catch_up() == EVENTS
        for table in ("rm_care_weeks", "rm_care_spans", "rm_stay_days", "rm_transition_days"):
            assert rows(url, f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table
        live, scratch = connect(url), connect(f"sqlite:///{tmp_path}/scratch.db")
        try:
            assert rebuild_into(app, scratch, EVENTS) == EVENTS
            results = compare(live, scratch, tables_for(None))
            assert all(r.equal for r in results), [r.live.table for r in results if not r.equal]
            seen = []
            with live.transaction() as unit:
                for month in range(1, 13):
                    t = datetime(2025 + month // 7, month % 12 + 1, 3, 12, tzinfo=UTC)
                    weeks, met = weekly_counts(unit, t)
                    new = {level: (n, met[level]) for level, n in weeks.items() if n}
                    assert new == weekly_walk(unit, t, default_catalog()), t
                    seen.append(new)
            assert any(met for found in seen for _, met in found.values())
        finally:
            live.close()
            scratch.close()
    finally:
        app.close()
