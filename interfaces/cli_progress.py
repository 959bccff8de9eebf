"""Progress of long CLI work on stderr: a bar with count, rate and ETA on a terminal (rich),
plain lines every `every_s` seconds (JOURNEY_PROGRESS_EVERY_S, default 5) otherwise, so
that logs and CI output stay readable. Work of unknown size shows count and rate only."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress

T = TypeVar("T")


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str,
        *,
        stream: TextIO | None = None,
        every_s: float | None = None,
    ) -> None:
        self.label, self.total, self.unit, self.done = label, total, unit, 0
        self._stream = stream or sys.stderr
        self._every = _every_s() if every_s is None else every_s
        self._began = self._shown = time.monotonic()
        self._bar: RichProgress | None = None
        if self._stream.isatty():
            self._bar = _rich_bar(self._stream, unit)
            self._task = self._bar.add_task(label, total=total)
            self._bar.start()

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
            return
        now = time.monotonic()
        if now - self._shown >= self._every:
            self._shown = now
            self._stream.write(self.line(now) + "\n")
            self._stream.flush()

    def line(self, now: float | None = None) -> str:
        """The plain form: label, count of total (percent), rate and ETA."""
        seconds = (now or time.monotonic()) - self._began
        rate = self.done / seconds if seconds > 0 else 0.0
        if not self.total:
            return f"{self.label}: {self.done:,} {self.unit}, {rate:,.0f} {self.unit}/s"
        share = min(self.done / self.total, 1.0)
        left = max(self.total - self.done, 0) / rate if rate else None
        eta = f"ETA {_duration(left)}" if left is not None else "ETA -"
        return (
            f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({share:.0%}), "
            f"{rate:,.0f} {self.unit}/s, {eta}"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def lines_of(self, lines: Iterable[T]) -> Iterator[T]:
        """The items of `lines`, counted as they are consumed."""
        for item in lines:
            self.advance()
            yield item


def count_lines(path: Path) -> int:
    """Lines of a file (a fast binary pass), for a total known before the import starts."""
    count, last = 0, b"\n"
    with path.open("rb") as source:
        while block := source.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _every_s() -> float:
    """JOURNEY_PROGRESS_EVERY_S (the settings: loaded by every command that runs)."""
    from config.settings import get_settings

    return get_settings().progress_every_s


def _duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    if whole < 60:
        return f"{whole}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _rich_bar(stream: TextIO, unit: str) -> RichProgress:
    """rich's bar (loaded only on a terminal): label, bar, count, percent, rate, ETA."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = f"{speed:,.0f}" if speed is not None else "-"
            return Text(f"{shown} {unit}/s", style="progress.data.speed")

    columns: list[Any] = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        Rate(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    return Bar(*columns, console=Console(file=stream), transient=False)
