"""`kill -9` of `journey import --bulk` takes its worker processes with it (they would
otherwise wait on their queues forever), and leaves nothing of the load stored: the import
is one transaction, and the store still verifies."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.test_cli import journey

GRACE_SECONDS = 5.0
# About 350k commands: several seconds of import even on a fast machine (400 patients took
# about one second here, and a CI run once saw the import end before the kill).
PATIENTS = 3000


def _children(pid: int) -> set[int]:
    """Live processes whose parent is `pid` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid) and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def _stat(pid: int) -> list[str] | None:
    """State and parent pid (fields 3 and 4 of /proc/PID/stat), None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text[text.rindex(")") + 2 :].split()[:2]


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie is dead, not yet reaped


def _wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_kill_9_of_the_bulk_import_kills_its_workers(tmp_path: Path) -> None:
    source, store = tmp_path / "demo.jsonl", tmp_path / "bulk.db"
    made = journey(
        store, "demo", "--patients", str(PATIENTS), "--until", "2026-06-01", "--out", str(source)
    )
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}"}
    importer = subprocess.Popen(
        [sys.executable, "-m", "interfaces", "import", str(source), "--bulk", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    try:

        def spawned() -> bool:
            workers.update(p for p in _children(importer.pid) if _is_worker(p))
            return len(workers) >= 2

        assert _wait_for(spawned, 60), "the bulk workers never started"
        # Kill once several chunks are written (a chunk of 5,000 events and their anchors is
        # a few MiB): the workers have taken work, and a load committed chunk by chunk
        # would have stored some by then.
        assert _wait_for(lambda: _written(store), 60), "the import never wrote 16 MiB"
        assert importer.poll() is None, "the import ended before it could be killed"
        importer.send_signal(signal.SIGKILL)
        importer.wait()
        assert _wait_for(lambda: not any(_alive(p) for p in workers), GRACE_SECONDS), (
            f"workers {sorted(p for p in workers if _alive(p))} outlived their parent"
        )
        assert _stored_events(store) == 0, "a killed import left events behind"
        checked = journey(store, "verify", "--all")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    finally:  # leave nothing behind, even when the test fails
        for pid in workers | _children(importer.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if importer.poll() is None:
            importer.kill()


def _written(store: Path) -> bool:
    """The store, or its write-ahead log, holds more than 16 MiB."""
    return any(
        path.exists() and path.stat().st_size > 16 << 20
        for path in (store, store.with_name(store.name + "-wal"))
    )


def _stored_events(store: Path) -> int:
    with sqlite3.connect(store) as connection:
        return int(connection.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def _is_worker(pid: int) -> bool:
    """A spawned worker, or a forked one (the import's own command line)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return b"spawn_main" in cmdline or b"interfaces\0import\0" in cmdline
