"""Which package may import which (docs/module-moves.md): the domain package imports only
itself and knows nothing of configuration, storage, HTTP or Kafka; nothing outside tests/
imports tests/; the edges are imported by nobody inside."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
# What the domain must not know: configuration, the environment, stores, the network, HTTP.
NOT_IN_DOMAIN = {
    "pydantic_settings",
    "os",
    "sqlite3",
    "psycopg",
    "kafka",
    "fastapi",
    "starlette",
    "http",
    "urllib",
    "socket",
}
INNER = ("journey", "config", "projections", "publishing", "consumers", "audit", "infrastructure")


def imported(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (at any depth of the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_the_packages_are_found() -> None:
    assert {"journey", "config", "publishing", "consumers", "devtools", "tests"} <= set(OURS)
    assert not (ROOT / "infra").exists()


@pytest.mark.parametrize("path", modules("journey"), ids=lambda p: p.name)
def test_the_domain_imports_only_itself(path: Path) -> None:
    names = imported(path)
    assert names & set(OURS) <= {"journey"}, f"{path.name} imports {names & set(OURS)}"
    assert not names & NOT_IN_DOMAIN, f"{path.name} imports {names & NOT_IN_DOMAIN}"


def test_nothing_outside_tests_imports_tests() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in OURS
        if package != "tests"
        for path in modules(package)
        if "tests" in imported(path)
    ]
    assert offenders == []


def test_no_inner_package_imports_the_edges() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in INNER
        for path in modules(package)
        if imported(path) & {"interfaces", "devtools", "benchmarks"}
    ]
    assert offenders == []
