"""Imports JSON Lines of commands: each line parsed, then applied in order in batches.

By default an import is atomic: if any line is rejected, nothing is stored and every
rejected line is named. With `continue_on_error`, rejected lines are skipped and the others
are stored, `batch_size` commands per transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar, overload

from journey.application import JourneyApplication, Outcome
from journey.commands import Command, parse_command, parse_command_json
from journey.errors import InvalidCommand, JourneyError, invalid
from journey.mapper import cyclic_gc_paused

T = TypeVar("T")


@dataclass(frozen=True)
class RejectedLine:
    line: int
    error: JourneyError

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}"


@dataclass
class ImportReport:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RejectedLine] = field(default_factory=list)
    applied: bool = True

    @property
    def lines(self) -> int:
        return self.accepted + self.duplicates + len(self.rejected)

    def summary(self) -> str:
        head = (
            f"{self.lines} lines: {self.accepted} accepted, {self.duplicates} duplicates, "
            f"{len(self.rejected)} rejected"
        )
        if self.applied or not self.accepted:
            return head if self.applied else f"nothing imported ({head})"
        valid = "valid line was" if self.accepted == 1 else "valid lines were"
        return (
            f"nothing imported: the import is atomic, so the {self.accepted} {valid} not "
            f"stored either ({head}); fix the rejected lines and import again, or use "
            "--continue-on-error to store the valid lines alone"
        )


class Counted(Sequence[T]):
    """A sequence that reports each item handed out while iterated (a consumer that only
    iterates, like the application's `handle_many`, then shows its progress)."""

    def __init__(self, items: list[T], tick: Callable[[int], None]) -> None:
        self._items, self._tick = items, tick

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...
    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            yield item
            self._tick(1)


def parse_entry(raw: str | dict[str, Any], actor: str | None) -> Command | JourneyError:
    """One command from its JSON text (or parsed object), or the error naming what is wrong;
    `actor` fills in for a command that names none."""
    try:
        command = parse_command_json(raw) if isinstance(raw, str) else parse_command(raw)
    except InvalidCommand as error:
        return error
    if actor is not None and command.actor is None:
        command = command.model_copy(update={"actor": actor})
    return command


def decoded_lines(raw: Iterable[bytes]) -> Iterator[str | InvalidCommand]:
    """The lines of a UTF-8 byte stream as text; a UTF-8 byte order mark at its start is
    dropped, and a line that is not UTF-8 becomes the error naming the bad bytes (so it is
    rejected like any other bad line, with its number)."""
    for number, read in enumerate(raw, start=1):
        line = read.removeprefix(b"\xef\xbb\xbf") if number == 1 else read
        try:
            yield line.decode("utf-8")
        except UnicodeDecodeError as error:
            bad = line[error.start : error.end]
            yield invalid(
                "line",
                "utf8",
                f"is not UTF-8: byte {bad.hex(' ')} at byte {error.start + 1} of the line",
            )


def _parsed(
    lines: Iterable[str | InvalidCommand], actor: str | None
) -> Iterator[tuple[int, Command | JourneyError]]:
    for number, text in enumerate(lines, start=1):
        if isinstance(text, InvalidCommand):
            yield number, text
        elif text.strip():
            yield number, parse_entry(text, actor)


def _record(report: ImportReport, number: int, result: Outcome | JourneyError) -> None:
    if isinstance(result, JourneyError):
        report.rejected.append(RejectedLine(number, result))
    elif result.status == "duplicate":
        report.duplicates += 1
    else:
        report.accepted += 1


def _apply(
    app: JourneyApplication,
    batch: list[tuple[int, Command | JourneyError]],
    report: ImportReport,
    *,
    atomic: bool,
    now: datetime,
    recorded_by: str | None,
    tick: Callable[[int], None] | None = None,
) -> None:
    numbers = [n for n, c in batch if not isinstance(c, JourneyError)]
    decided = [c for _, c in batch if not isinstance(c, JourneyError)]
    commands: Sequence[Command] = Counted(decided, tick) if tick else decided
    for number, item in batch:
        if isinstance(item, JourneyError):
            report.rejected.append(RejectedLine(number, item))
    invalid_lines = any(isinstance(c, JourneyError) for _, c in batch)
    results = app.handle_many(
        commands,
        atomic=atomic,
        now=now,
        dry_run=atomic and invalid_lines,
        recorded_by=recorded_by,
    )
    for number, result in zip(numbers, results, strict=True):
        _record(report, number, result)
    report.rejected.sort(key=lambda r: r.line)


def import_lines(
    app: JourneyApplication,
    lines: Iterable[str | InvalidCommand],
    *,
    continue_on_error: bool = False,
    actor: str | None = None,
    batch_size: int = 2_000,
    now: datetime | None = None,
    recorded_by: str | None = None,
    tick: Callable[[int], None] | None = None,
) -> ImportReport:
    """Applies the commands of `lines` (JSON Lines) and reports what became of each;
    `recorded_by` is the principal recording them (stored on every event); `tick(n)` hears
    each command decided (progress)."""
    report = ImportReport()
    now = now or datetime.now(UTC)
    parsed = _parsed(lines, actor)
    with cyclic_gc_paused():
        if not continue_on_error:
            _apply(
                app, list(parsed), report, atomic=True, now=now, tick=tick, recorded_by=recorded_by
            )
            report.applied = not report.rejected
            return report
        while batch := list(islice(parsed, batch_size)):
            _apply(app, batch, report, atomic=False, now=now, tick=tick, recorded_by=recorded_by)
    return report
