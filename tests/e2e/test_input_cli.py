"""Bad input on the command line (SPEC section 4, docs/input-rules.md), in subprocesses on a
real SQLite store: every instant or date option is checked by the one parser (exit 1 naming
the option, no traceback), the import accepts a UTF-8 byte order mark and names the line of
bytes that are not UTF-8, and the time-zone setting is checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli import ADMIT, journey, jsonl


def run(
    store: Path, *args: str, stdin: bytes = b"", **env: str
) -> subprocess.CompletedProcess[str]:
    """`journey ARGS` with bytes on stdin."""
    done = subprocess.run(
        [sys.executable, "-m", "interfaces", *args],
        env={**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}", **env},
        input=stdin,
        capture_output=True,
        check=False,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


# (command, option); each gets one bad value of its kind, cycling through the list
OPTIONS = [
    (["show", "p-1"], "--as-of"),
    (["show", "p-1"], "--known-at"),
    (["history", "p-1"], "--known-at"),
    (["access-log"], "--since"),
    (["access-log"], "--until"),
    (["audit-report", "p-1", "--out", "report.html"], "--as-of"),
    (["census"], "--at"),
    (["census", "--to", "2026-01-02"], "--from"),
    (["census", "--from", "2026-01-01"], "--to"),
    (["los"], "--at"),
    (["transitions", "--from", "2026-01-01", "--to", "2026-01-02"], "--at"),
    (["transitions", "--to", "2026-01-02"], "--from"),
    (["transitions", "--from", "2026-01-01"], "--to"),
    (["retention"], "--at"),
    (["intensity"], "--at"),
    (["export", "teds", "--out", "teds.csv"], "--at"),
    (["demo", "--out", "demo.jsonl", "--patients", "1"], "--until"),
]
DATE_OPTIONS = {"--from", "--to", "--until"}
BAD_INSTANTS = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00",
                "1026-11-02T00:00:00Z", "2200-01-02T00:00:00Z", "1989-12-31T23:59:59Z"]  # fmt: skip
BAD_DATES = ["0001-01-01", "9999-12-31", "1989-12-31", "2200-01-02"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "journey.db"
    assert journey(path, "import", "-", stdin=jsonl(ADMIT)).returncode == 0
    return path


@pytest.mark.parametrize(("n", "args", "option"), [(n, *o) for n, o in enumerate(OPTIONS)],
                         ids=str)  # fmt: skip
def test_every_instant_option_out_of_range_is_exit_1_naming_it(
    store: Path, tmp_path: Path, n: int, args: list[str], option: str
) -> None:
    values = BAD_DATES if option in DATE_OPTIONS else BAD_INSTANTS
    value = values[n % len(values)]
    args = [str(tmp_path / a) if a.endswith((".html", ".csv", ".jsonl")) else a for a in args]
    done = journey(store, *args, option, value)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    assert f"{option.removeprefix('--').replace('-', '_')}: '{value}'" in done.stderr


def test_numbers_are_not_instants(store: Path) -> None:
    """(Already refused before the range check: a guard that the one parser keeps it so.)"""
    for args in (["show", "p-1", "--as-of"], ["census", "--to", "2026-01-02", "--from"]):
        done = journey(store, *args, "1700000000")
        assert done.returncode == 1 and "'1700000000' is not" in done.stderr, done.stderr


def test_import_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    source = tmp_path / "bom.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + jsonl(ADMIT).encode())
    for args in (["import", str(source)], ["import", "--bulk", "--workers", "0", str(source)]):
        done = journey(tmp_path / f"{len(args)}.db", *args)
        assert done.returncode == 0, done.stderr
        assert "1 accepted" in done.stderr
    bom = b"\xef\xbb\xbf" + jsonl(ADMIT).encode()
    piped = run(tmp_path / "stdin.db", "import", "-", stdin=bom)
    assert piped.returncode == 0, piped.stderr


def test_import_names_the_line_that_is_not_utf8(tmp_path: Path) -> None:
    body = jsonl(ADMIT).encode() + b'{"command": "admit", "patient_id": "p-\xff"}\n'
    source = tmp_path / "bad.jsonl"
    source.write_bytes(body)
    runs = {
        "file": journey(tmp_path / "a.db", "import", str(source)),
        "bulk": journey(tmp_path / "b.db", "import", "--bulk", "--workers", "1", str(source)),
        "stdin": run(tmp_path / "c.db", "import", "-", stdin=body),
    }
    for name, done in runs.items():
        assert done.returncode == 1, (name, done.stderr)
        assert "Traceback" not in done.stderr, name
        assert "line 2: line: is not UTF-8: byte ff" in done.stderr, (name, done.stderr)
        assert "nothing imported" in done.stderr, name


def test_import_of_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    done = journey(tmp_path / "x.db", "import", str(tmp_path / "missing.jsonl"))
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_a_non_canonical_time_zone_setting_is_refused(tmp_path: Path) -> None:
    for zone in ("localtime", "Factory", ".."):
        done = run(tmp_path / "z.db", "import", "-", stdin=jsonl(ADMIT).encode(),
                   JOURNEY_TIMEZONE=zone)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "JOURNEY_TIMEZONE" in done.stderr and "Traceback" not in done.stderr


def test_bulk_workers_apply_the_earliest_instant_setting(tmp_path: Path) -> None:
    early = {**ADMIT, "patient_id": "p-2", "occurred_at": "2019-06-01T10:00:00+00:00"}
    lines = jsonl(ADMIT, early).encode()
    for args in (["import", "-"], ["import", "--bulk", "--workers", "2", "-"]):
        done = run(tmp_path / f"{len(args)}.db", *args, stdin=lines,
                   JOURNEY_EARLIEST_OCCURRED_AT="2020-01-01T00:00:00Z")  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "line 2: occurred_at: is before the earliest clinical instant" in done.stderr
        assert "[not_before_earliest]" in done.stderr
