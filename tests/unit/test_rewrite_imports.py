"""devtools/rewrite_imports.py, which the other branches' merges rely on: it rewrites moved
modules everywhere they are named and leaves everything else as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devtools import rewrite_imports

ROOT = Path(__file__).resolve().parents[2]
MOVES = """# moves
Prose such as `old` -> `new` is not a move.

- `infra` -> `devtools`
- `infra.services` -> `devtools.services`
- `tests.infra` -> `devtools.provision`
- `journey.settings` -> `config.settings`
- `consumers.relay` -> `publishing.relay`
- `consumers.contracts` -> `publishing.contracts`
- `consumers.histories` -> `publishing.history_cache`
- `audit.anchored_sqlite` -> `infrastructure.anchored_sqlite`
"""
BEFORE = {
    "bench.py": (
        "from journey import chain, settings\n"
        "from tests import infra\n"
        "from consumers.relay import Relay\n"
        "from consumers.relay_batch import build_batch\n"
        "from projections.read_models import counters, weeks\n"
        "\n"
        "with infra.postgres_server() as url:\n"
        "    settings.get_settings(); chain.GENESIS\n"
        'TOPIC = "audit.anchored_sqlite:AnchoredSQLiteApplicationRecorder"\n'
        'PATCH = "consumers.histories.HistoryCache.extended"\n'
    ),
    "Makefile": "include infra/services.mk\n\t$(PY) infra/services.py up\n",
    "docs/notes.md": (
        "Run `python -m consumers.contracts`; the old infra lived beside infrastructure/.\n"
        "See consumers/histories.py and tests/infra.py; old.db stays old.db.\n"
    ),
}
AFTER = {
    "bench.py": (
        "from journey import chain\n"
        "from config import settings\n"
        "from devtools import provision\n"
        "from publishing.relay import Relay\n"
        "from consumers.relay_batch import build_batch\n"
        "from projections.read_models import counters, weeks\n"
        "\n"
        "with provision.postgres_server() as url:\n"
        "    settings.get_settings(); chain.GENESIS\n"
        'TOPIC = "infrastructure.anchored_sqlite:AnchoredSQLiteApplicationRecorder"\n'
        'PATCH = "publishing.history_cache.HistoryCache.extended"\n'
    ),
    "Makefile": "include devtools/services.mk\n\t$(PY) devtools/services.py up\n",
    "docs/notes.md": (
        "Run `python -m publishing.contracts`; the old infra lived beside infrastructure/.\n"
        "See publishing/history_cache.py and devtools/provision.py; old.db stays old.db.\n"
    ),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for name, text in {**BEFORE, "docs/module-moves.md": MOVES}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    return tmp_path


def test_rewrites_imports_names_and_paths_and_nothing_else(tree: Path) -> None:
    assert rewrite_imports.main([str(tree), "--check"]) == 1
    assert (tree / "bench.py").read_text(encoding="utf-8") == BEFORE["bench.py"]  # --check
    assert rewrite_imports.main([str(tree)]) == 0
    for name, text in AFTER.items():
        assert (tree / name).read_text(encoding="utf-8") == text, name
    assert rewrite_imports.main([str(tree), "--check"]) == 0  # a second run changes nothing


def test_a_moves_file_without_moves_is_refused(tree: Path) -> None:
    (tree / "empty.md").write_text("`old` -> `new` in prose only\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no `old` -> `new` lines"):
        rewrite_imports.main([str(tree), "--moves", str(tree / "empty.md")])


def test_this_tree_names_no_moved_module(capsys: pytest.CaptureFixture[str]) -> None:
    """Everything here already uses the new names (README.md is the coordinator's)."""
    rewrite_imports.main([str(ROOT), "--check"])
    assert set(capsys.readouterr().out.split()) <= {"README.md"}
