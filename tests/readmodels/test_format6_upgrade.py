"""Read models written by main ad563f9 (format 5) are upgraded in place on start: the
overdue read model is filled from their episodes, plans and reviews, nothing is replayed
(the position is kept), and every table then equals a rebuild from the log; the overdue
figures equal the former statement's."""

from __future__ import annotations

import shutil
from pathlib import Path

from config.settings import Settings
from consumers.read_model_service import ReadModelService
from consumers.replay import compare, rebuild_into, tables_for
from infrastructure.sql import connect
from projections.read_models.schema import FORMAT_VERSION
from services.bootstrap import build_application
from tests.analytics.test_overdue_spans import _agree
from tests.readmodels.support import position, rows

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "readmodels_format5"
EVENTS = 182


def test_format_5_read_models_are_upgraded_in_place(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "journey.db", tmp_path / "journey.db")
    url = f"sqlite:///{tmp_path}/journey.db"
    assert rows(url, "SELECT version FROM rm_format") == [(5,)]
    assert position(url) == EVENTS
    app = build_application(Settings(database_url=url))
    try:
        with ReadModelService(app, url) as service:
            note = service.prepare()
            assert note is not None and "format 5 found, upgraded in place" in note, note
            assert service.catch_up() == 0  # nothing replayed
        assert rows(url, "SELECT version FROM rm_format") == [(FORMAT_VERSION,)]
        assert rows(url, "SELECT COUNT(*) FROM rm_overdue_spans")[0][0] > 0
        indexes = {r[0] for r in rows(url, "SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"rm_stays_ended_days", "rm_episodes_discharged_days"} <= indexes
        assert not indexes & {"rm_stays_ended", "rm_episodes_discharged"}  # replaced
        live, scratch = connect(url), connect(f"sqlite:///{tmp_path}/scratch.db")
        try:
            assert rebuild_into(app, scratch, EVENTS) == EVENTS
            results = compare(live, scratch, tables_for(None))
            assert all(r.equal for r in results), [r.live.table for r in results if not r.equal]
        finally:
            live.close()
            scratch.close()
        assert _agree(url, least=100) > 10
    finally:
        app.close()
