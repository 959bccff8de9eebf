"""Rewrites references to moved modules in a source tree, from the list in
docs/module-moves.md (its list items: a line starting `- `, then `old.module`, an arrow
`->` and `new.module`, each in backquotes).

Usage: python devtools/rewrite_imports.py [ROOT] [--moves FILE] [--check]

What it rewrites, in tracked text files (Python, Markdown, TOML, YAML, Makefiles, .ci/run,
Dockerfile):
- file paths: `consumers/relay.py` -> `publishing/relay.py`, and `infra/` -> `devtools/`
  for a moved package;
- `from parent import name` when `parent.name` moved (the imported name and its
  `name.attr` uses in that file follow a renamed module);
- dotted names anywhere (`import x.y`, `from x.y import`, `python -m x.y`, `"x.y:Class"`,
  mock targets); a one-part name (a package) only where it is clearly a module (`import x`,
  `from x import`, `x.attr`), never a word of prose.
`--check` lists the files it would change and exits 1 when there are any. Stdlib only."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

MOVE_LINE = re.compile(r"^- `([A-Za-z_][\w.]*)` -> `([A-Za-z_][\w.]*)`")
SUFFIXES = {".py", ".md", ".toml", ".yml", ".yaml", ".mk", ".in", ".cfg", ".ini", ".txt", ".sh"}
NAMES = {"Makefile", "Dockerfile", "run", ".gitignore", ".dockerignore"}
SKIP = {
    "docs/module-moves.md",
    "devtools/rewrite_imports.py",
    "tests/unit/test_rewrite_imports.py",  # its sample trees name the old modules on purpose
}
FROM_IMPORT = re.compile(
    r"(?m)^(?P<indent>[ \t]*)from (?P<parent>[\w.]+) import (?P<names>[^(\n#]+?)[ \t]*$"
)


def read_moves(path: Path) -> dict[str, str]:
    moves: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := MOVE_LINE.search(line):
            moves[match.group(1)] = match.group(2)
    if not moves:
        raise SystemExit(f"{path}: no `old` -> `new` lines")
    return moves


def _as_path(dotted: str) -> str:
    return dotted.replace(".", "/")


def _rewrite_paths(text: str, moves: dict[str, str]) -> str:
    pairs: dict[str, str] = {}
    for old, new in moves.items():
        pairs[_as_path(old) + ".py"] = _as_path(new) + ".py"
        pairs[_as_path(old) + "/"] = _as_path(new) + "/"
    keys = sorted(pairs, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(map(re.escape, keys)) + r")")
    return pattern.sub(lambda m: pairs[m.group(1)], text)


def _split_names(names: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for part in names.split(","):
        words = part.split()
        if not words:
            continue
        out.append((words[0], words[2] if len(words) == 3 and words[1] == "as" else None))
    return out


def _join(names: list[tuple[str, str | None]]) -> str:
    return ", ".join(name if alias is None else f"{name} as {alias}" for name, alias in names)


def _rewrite_from_imports(text: str, moves: dict[str, str]) -> str:
    renamed: dict[str, str] = {}  # local name -> new local name, for `name.attr` uses

    def one(match: re.Match[str]) -> str:
        parent, indent = match.group("parent"), match.group("indent")
        groups: dict[str, list[tuple[str, str | None]]] = {}
        for name, alias in _split_names(match.group("names")):
            target = moves.get(f"{parent}.{name}")
            if target is None:
                groups.setdefault(parent, []).append((name, alias))
                continue
            new_parent, _, new_name = target.rpartition(".")
            if not new_parent:  # a module moved to the top level: `import new`
                groups.setdefault("", []).append((new_name, alias))
                continue
            if alias is None and new_name != name:
                renamed[name] = new_name
            groups.setdefault(new_parent, []).append((new_name, alias))
        if list(groups) == [parent]:
            return match.group(0)
        lines = []
        for new_parent, names in groups.items():
            if new_parent:
                lines.append(f"{indent}from {new_parent} import {_join(names)}")
            else:
                lines.extend(f"{indent}import {_join([n])}" for n in names)
        return "\n".join(lines)

    text = FROM_IMPORT.sub(one, text)
    for old, new in renamed.items():
        text = re.sub(rf"(?<![\w.]){re.escape(old)}\.(?=[A-Za-z_])", f"{new}.", text)
    return text


def _rewrite_dotted(text: str, moves: dict[str, str]) -> str:
    dotted = sorted((old for old in moves if "." in old), key=len, reverse=True)
    if dotted:
        pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, dotted)) + r")(?!\w)")
        text = pattern.sub(lambda m: moves[m.group(1)], text)
    for old in (old for old in moves if "." not in old):
        new = moves[old]
        text = re.sub(rf"(?m)^([ \t]*)(from|import) {old}(?=[ .\n,])", rf"\1\2 {new}", text)
        text = re.sub(rf"(?<![\w./-]){old}\.(?=[a-z_]\w*)(?!py\b)", f"{new}.", text)
    return text


def rewrite(text: str, moves: dict[str, str], python: bool) -> str:
    text = _rewrite_paths(text, moves)
    if python:
        text = _rewrite_from_imports(text, moves)
    return _rewrite_dotted(text, moves)


def tracked_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    return [
        root / name
        for name in listed
        if name not in SKIP
        and not name.startswith("tests/fixtures/")
        and (Path(name).suffix in SUFFIXES or Path(name).name in NAMES)
        and (root / name).is_file()
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=".", type=Path)
    parser.add_argument("--moves", type=Path, default=None)
    parser.add_argument("--check", action="store_true", help="list, change nothing")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    moves = read_moves(args.moves or root / "docs" / "module-moves.md")
    changed = []
    for path in tracked_files(root):
        before = path.read_text(encoding="utf-8")
        after = rewrite(before, moves, python=path.suffix == ".py")
        if after != before:
            changed.append(path.relative_to(root))
            if not args.check:
                path.write_text(after, encoding="utf-8")
    for name in changed:
        print(name)
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
