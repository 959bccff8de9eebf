"""Long CLI work shows its progress on stderr: plain lines with count, percent, rate and
ETA when stderr is not a terminal, rich's bar when it is (driven through a real pty)."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from interfaces.cli_progress import Progress, count_lines

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(
    r"^(?P<label>[\w -]+): (?P<done>[\d,]+)/(?P<total>[\d,]+) (?P<unit>\w+) \(\d+%\), "
    r"[\d,]+ (?P=unit)/s, ETA (\d+s|\d+m\d\ds|\d+h\d\dm|-)$"
)


def journey(
    cwd: Path, *args: str, stderr: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    env |= {"PYTHONPATH": str(ROOT), "JOURNEY_PROGRESS_EVERY_S": "0"}
    return subprocess.run(
        [sys.executable, "-m", "interfaces", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        check=False,
        timeout=300,
    )


def progress_lines(stderr: str, label: str) -> list[tuple[int, int]]:
    found = []
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match and match["label"] == label:
            found.append(
                (int(match["done"].replace(",", "")), int(match["total"].replace(",", "")))
            )
    return found


def check_lines(stderr: str, label: str, total: int, at_least: int = 2) -> None:
    """Lines of `label` over `total`, counting up to it (one per batch at least)."""
    lines = progress_lines(stderr, label)
    assert len(lines) >= at_least, stderr[-2000:]
    assert {t for _, t in lines} == {total}
    done = [d for d, _ in lines]
    assert done == sorted(done) and done[-1] == total


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("progress")
    made = journey(work, "demo", "--patients", "12", "--until", "2026-10-01", "--out", "c.jsonl")
    assert made.returncode == 0, made.stderr
    return work / "c.jsonl"


def test_import_and_demo_show_plain_progress_lines(cohort: Path, tmp_path: Path) -> None:
    total = count_lines(cohort)
    done = journey(tmp_path, "import", str(cohort))
    assert done.returncode == 0, done.stderr
    check_lines(done.stderr, "import", total)
    demo = journey(tmp_path / "..", "demo", "--patients", "12", "--until", "2026-10-01")
    assert demo.returncode == 0, demo.stderr
    check_lines(demo.stderr, "demo", total)
    (tmp_path / ".." / "journey.db").unlink()


def test_bulk_import_rebuild_and_replay_show_plain_progress_lines(
    cohort: Path, tmp_path: Path
) -> None:
    total = count_lines(cohort)
    bulk = journey(tmp_path, "import", "--bulk", str(cohort))
    assert bulk.returncode == 0, bulk.stderr
    check_lines(bulk.stderr, "import", total)
    rebuild = journey(tmp_path, "project", "--rebuild", "--once")
    assert rebuild.returncode == 0, rebuild.stderr
    check_lines(rebuild.stderr, "rebuild", total)  # batches of 500 events
    for workers in ("1", "2"):
        replay = journey(tmp_path, "replay", "--workers", workers)
        assert replay.returncode == 0, replay.stderr
        check_lines(replay.stderr, "replay", total, at_least=1)  # pages of 5,000 events


def test_on_a_terminal_a_bar_with_rate_and_eta_is_drawn(cohort: Path, tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    try:
        done = journey(tmp_path, "import", str(cohort), stderr=terminal)
    finally:
        os.close(terminal)
    screen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal side is closed and drained
            break
        if not chunk:
            break
        screen += chunk
    os.close(controller)
    assert done.returncode == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode())
    total = count_lines(cohort)
    assert "━" in text  # rich's bar
    assert f"{total}/{total}" in text and "100%" in text
    assert "lines/s" in text and "ETA" in text
    assert not progress_lines(text.replace("\r", "\n"), "import")  # not the plain form


def test_plain_line_form_and_line_count(tmp_path: Path) -> None:
    sink = io.StringIO()
    with Progress("work", None, "items", stream=sink, every_s=0) as progress:
        progress.advance(3)
    assert re.fullmatch(r"work: 3 items, [\d,]+ items/s\n", sink.getvalue())
    known = Progress("work", 10, "items", stream=io.StringIO(), every_s=3600)
    known.advance(4)
    assert re.fullmatch(r"work: 4/10 items \(40%\), [\d,]+ items/s, ETA \d+s", known.line())
    (tmp_path / "a").write_text("1\n2\n3")
    (tmp_path / "b").write_text("1\n2\n")
    assert (count_lines(tmp_path / "a"), count_lines(tmp_path / "b")) == (3, 2)
