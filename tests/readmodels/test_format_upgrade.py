"""Read models written by main dba9df2 (format 2: the log position in `rm_tracking`) are
recognised on start, dropped with a message naming both formats, and rebuilt from the log
in the current format, position in eventsourcing's tracking table; the result equals a
replay of the log. Never a `no such column` traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from config.settings import Settings
from consumers.read_model_service import ReadModelService
from consumers.replay import compare, rebuild_into, tables_for
from infrastructure.sql import connect
from projections.read_models.schema import FORMAT_VERSION
from services.bootstrap import build_application
from tests.readmodels.support import position, rows

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "readmodels_format2"
ROOT = Path(__file__).resolve().parents[2]
EVENTS = 7


def old_store(tmp_path: Path) -> str:
    shutil.copy(FIXTURE / "journey.db", tmp_path / "journey.db")
    return f"sqlite:///{tmp_path}/journey.db"


def test_format_2_read_models_are_rebuilt_with_a_message(tmp_path: Path) -> None:
    url = old_store(tmp_path)
    assert rows(url, "SELECT name, position FROM rm_tracking") == [("rm-log", EVENTS)]
    app = build_application(Settings(database_url=url))
    try:
        with ReadModelService(app, url) as service:
            note = service.prepare()
            assert note is not None
            assert f"format 2 found, this version writes format {FORMAT_VERSION}" in note
            assert rows(url, "SELECT COUNT(*) FROM rm_patients") == [(0,)]  # dropped
            assert service.prepare() is None  # once
            assert service.catch_up() == EVENTS
        assert rows(url, "SELECT max(version) FROM rm_format") == [(FORMAT_VERSION,)]
        assert rows(url, "SELECT name FROM sqlite_master WHERE name = 'rm_tracking'") == []
        assert position(url) == EVENTS
        live, scratch = connect(url), connect(f"sqlite:///{tmp_path}/scratch.db")
        try:
            assert rebuild_into(app, scratch, EVENTS) == EVENTS
            results = compare(live, scratch, tables_for(None))
        finally:
            live.close()
            scratch.close()
        assert all(r.equal for r in results), [r.live.table for r in results if not r.equal]
    finally:
        app.close()


def test_the_cli_says_it_rebuilds_them(tmp_path: Path) -> None:
    url = old_store(tmp_path)
    env = {**os.environ, "JOURNEY_DATABASE_URL": url}
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)
    done = subprocess.run(
        [sys.executable, "-m", "interfaces", "census", "--at", "2026-02-01T00:00:00+00:00"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "read models: format 2 found" in done.stderr
    assert "Traceback" not in done.stderr
    assert position(url) == EVENTS
