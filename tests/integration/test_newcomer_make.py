"""A fresh clone's make targets (dry runs in a copy holding no .venv) and the test-tool
check that `make test` runs first."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def fresh_clone(tmp: Path) -> Path:
    copied = ("Makefile", "pyproject.toml", "setup.py", "services/bulk/_rowstep.c")
    for relative in (*copied, "devtools/services.mk"):
        (tmp / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp / relative)
    return tmp


def dry_run(clone: Path, target: str) -> list[str]:
    done = subprocess.run(
        ["make", "-n", target], cwd=clone, capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


def index(lines: list[str], fragment: str) -> int:
    return next(i for i, line in enumerate(lines) if fragment in line)


def test_make_run_installs_only_what_running_needs(tmp_path: Path) -> None:
    lines = dry_run(fresh_clone(tmp_path), "run")
    installs = [line for line in lines if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/python -m pip install -q -e ."]
    assert index(lines, "pip install -q -e .") < index(lines, "journey serve")


def test_make_test_brings_tools_then_test_extras_then_runs(tmp_path: Path) -> None:
    lines = dry_run(fresh_clone(tmp_path), "test")
    tools = index(lines, "devtools/test_tools.py")
    extras = index(lines, "pip install -q -e '.[test]'")
    assert tools < extras < index(lines, "-m pytest")  # missing kcat stops before anything


def test_make_services_up_on_a_fresh_clone_creates_the_venv_first(tmp_path: Path) -> None:
    lines = dry_run(fresh_clone(tmp_path), "services-up")
    assert index(lines, "-m venv .venv") < index(lines, "devtools/services.py up")


def tool_check(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "devtools" / "test_tools.py"), "--check"],
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
    )


def test_missing_test_tools_stop_at_once_with_the_line_to_run(tmp_path: Path) -> None:
    done = tool_check(str(tmp_path))  # a PATH without kcat or chromium
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith("sudo apt-get install -y --no-install-recommends kcat chromium")


def test_the_test_tools_are_present() -> None:
    done = tool_check(os.environ["PATH"])
    assert done.returncode == 0, done.stderr  # `make test` installs them (devtools/test_tools.py)
