"""Read commands never create a store and say which store they opened; an atomic import
that fails says why the valid lines were not stored; JOURNEY_API_KEYS_FILE. Subprocesses on
real SQLite files, run from a directory of their own (as a newcomer would)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
ADMIT = {
    "command": "admit",
    "patient_id": "p-1",
    "level": "detox",
    "occurred_at": "2026-01-01T10:00:00-07:00",
    "timezone": "America/Phoenix",
}
READS = [
    ["show", "p-1"],
    ["show", "p-1", "--json"],
    ["history", "p-1"],
    ["verify", "--all"],
    ["verify", "p-1"],
    ["census"],
    ["los"],
    ["access-log"],
    ["replay"],
]


def journey(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEY_")}
    return subprocess.run(
        [sys.executable, "-m", "interfaces", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_read_commands_create_no_store_and_name_the_one_looked_for(
    tmp_path: Path, args: list[str]
) -> None:
    done = journey(tmp_path, *args)
    assert done.returncode == 7, done.stderr
    assert f"no store at sqlite:///{tmp_path / 'journey.db'}" in done.stderr
    assert "JOURNEY_DATABASE_URL" in done.stderr
    assert done.stdout == ""
    assert list(tmp_path.iterdir()) == []  # nothing created, not even an empty file


def test_read_commands_say_which_store_they_opened(tmp_path: Path) -> None:
    source = tmp_path / "one.jsonl"
    source.write_text(json.dumps(ADMIT) + "\n")
    here = tmp_path / "work"
    here.mkdir()
    assert journey(here, "import", str(source)).returncode == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite:///{here / 'journey.db'}"
    shown = journey(elsewhere, "show", "p-1", "--json", JOURNEY_DATABASE_URL=url)
    assert shown.returncode == 0, shown.stderr
    assert f"store: sqlite:///{here / 'journey.db'}" in shown.stderr
    assert json.loads(shown.stdout)["patient_id"] == "p-1"  # stdout stays clean JSON
    assert list(elsewhere.iterdir()) == []


def test_postgres_store_is_named_without_its_password(
    fresh_postgres_url: str, tmp_path: Path
) -> None:
    done = journey(tmp_path, "show", "nobody", JOURNEY_DATABASE_URL=fresh_postgres_url)
    assert done.returncode == 3, done.stderr
    store_line = next(line for line in done.stderr.splitlines() if line.startswith("store: "))
    url = urlsplit(fresh_postgres_url)
    assert store_line == f"store: postgresql://{url.username}@{url.hostname}:{url.port}{url.path}"
    assert f":{url.password}@" not in done.stderr


def test_an_atomic_import_says_why_the_valid_line_was_not_stored(tmp_path: Path) -> None:
    source = tmp_path / "mixed.jsonl"
    source.write_text(json.dumps(ADMIT) + "\n" + json.dumps({**ADMIT, "level": "spa"}) + "\n")
    done = journey(tmp_path, "import", str(source))
    assert done.returncode == 1
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith("nothing imported: the import is atomic")
    assert "the 1 valid line was not stored either" in summary
    assert "--continue-on-error" in summary


def test_api_keys_from_a_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# one key per line\nk-1=svc-a:service\n\nk-2=aud-b:auditor;k-3=x:admin\n")
    settings = Settings(api_keys_file=keys)
    assert settings.api_keys == "k-1=svc-a:service;k-2=aud-b:auditor;k-3=x:admin"
    with pytest.raises(ValueError, match="not both"):
        Settings(api_keys="k=a:admin", api_keys_file=keys)
    (tmp_path / "empty").write_text("# nothing\n")
    with pytest.raises(ValueError, match="holds no key"):
        Settings(api_keys_file=tmp_path / "empty")
    done = journey(tmp_path, "serve", JOURNEY_API_KEYS_FILE=str(tmp_path / "missing"))
    assert done.returncode == 2
    assert f"JOURNEY_API_KEYS_FILE: cannot read {tmp_path / 'missing'}" in done.stderr
    assert "Traceback" not in done.stderr
