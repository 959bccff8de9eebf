"""The bulk import's workers stop when the import fails, whatever SIGTERM handler the
importing process had when it forked them (an in-process `journey project` or `relay`
leaves one that only flags a stop: the forked workers inherited it and `terminate()` then
waited forever, which hung a test run after tests/app/test_runtime.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FAILING_IMPORT = """
import signal, sys
from datetime import UTC, datetime
from config.settings import Settings
from services.bulk.workers import Deciders
from services.bulk.orphans import start_method

signal.signal(signal.SIGTERM, lambda *_: None)  # as `journey project` leaves it
assert start_method() == "fork"
deciders = Deciders(Settings(database_url=sys.argv[1]), datetime.now(UTC), workers=2, keep=0)
try:
    with deciders:  # the workers wait for `begin`: the store failed to open
        raise RuntimeError("the store failed")
except RuntimeError:
    assert not any(p.is_alive() for p in deciders.processes)
    print("stopped", all(p.exitcode < 0 for p in deciders.processes))
"""


def test_workers_stop_when_the_import_fails_despite_an_inherited_handler(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FAILING_IMPORT, f"sqlite:///{tmp_path}/s.db"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stopped True"
