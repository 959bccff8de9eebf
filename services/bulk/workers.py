"""Where the bulk import decides: in worker processes, or inline when there are none.

A chunk of work is split in one task per worker: lines routed by patient (so a patient is
always decided by the same worker, which keeps its aggregate), or patient indices whose
commands the worker generates itself (the demo cohort: `devtools.demo.bulk`). Each worker
opens its own composition root from the settings and answers every task, in order, with its
patients' batches (`decide`). A few chunks are in flight while the caller writes the
previous one.

On Linux the workers are forked: they start with the modules the caller imported (no second
interpreter start, which costs as much CPU as deciding thousands of commands). They are
forked before the caller opens any connection to the store (SQLite must not see a
connection cross a fork), so `Deciders` is entered first and told, once the caller's
session is open, whether the store holds patients to continue (`begin`). Elsewhere they
are spawned, as they are when the caller runs other threads (`start_method`)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from config.settings import Settings
from journey.application import JourneyApplication
from journey.errors import JourneyError
from services.bulk.decide import Decider, PatientBatch, Rejection
from services.bulk.orphans import die_with_parent, start_method
from services.importing import parse_entry
from services.runtime import Runtime

IN_FLIGHT = 3  # chunks handed to the workers ahead of the one being written
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class LinesTask:
    """Numbered JSON lines, each with the patient id it was routed by."""

    lines: list[tuple[int, str, str]]
    actor: str | None


# The commands of the patients at these indices, one list per patient, in order; a function
# that pickles (a module's function, or a functools.partial of one): it runs in the worker.
Generate = Callable[[Sequence[int]], Iterable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class GeneratedTask:
    """Patients whose commands the worker generates (`generate`); their commands are
    numbered from 1 within each patient."""

    indices: Sequence[int]
    generate: Generate
    actor: str | None


Task = LinesTask | GeneratedTask
C = TypeVar("C")


@dataclass(frozen=True)
class _Failure:
    rejection: Rejection | None
    trace: str


class WorkerFailed(RuntimeError):
    """A worker process failed or exited; its traceback is the message."""


def run_task(decider: Decider, task: Task) -> list[PatientBatch]:
    """Lines: a batch per patient, in order of first line. Generated: one per index, in
    order (an empty one for a patient without commands), numbered from each patient's
    first."""
    if isinstance(task, LinesTask):
        return decider.decide_lines(task.lines, task.actor)
    batches: list[PatientBatch] = []
    for commands in task.generate(task.indices):
        items = (
            (n, c["patient_id"], parse_entry(c, task.actor)) for n, c in enumerate(commands, 1)
        )
        batches += decider.decide(items) or [PatientBatch("")]
    return batches


def _serve(config: dict[str, Any], inbox: Any, outbox: Any) -> None:
    """A worker process: waits for `begin` (whether to load stored patients), builds its
    application, then answers tasks until None. It dies with its parent (a `kill -9` of the
    import must not leave it waiting forever)."""
    die_with_parent(config["parent"])
    gc.disable()  # long-lived aggregates, no cycles: reference counting frees the rest
    load_existing = inbox.get()
    if load_existing is None:  # the caller stopped before it began
        return
    with Runtime(Settings(**config["settings"]), create_tables=False) as runtime:
        decider = Decider(
            runtime.application,
            config["now"],
            load_existing=load_existing,
            keep=config["keep"],
            recorded_by=config["recorded_by"],
        )
        while (task := inbox.get()) is not None:
            try:
                outbox.put(run_task(decider, task))
            except JourneyError as error:
                outbox.put(_Failure(Rejection.of(error), traceback.format_exc()))
            except Exception:  # handed to the parent, which raises it
                outbox.put(_Failure(None, traceback.format_exc()))


class Deciders(Generic[C]):
    """Runs chunks (each a list of one task per worker) and yields them with their results,
    in order. Entered (workers started) before the caller opens the store, then `begin`
    once it did. `workers` = 0 decides inline with the caller's application."""

    def __init__(
        self,
        settings: Settings,
        now: datetime,
        *,
        workers: int,
        keep: int,
        recorded_by: str | None = None,
    ) -> None:
        self.now, self.keep, self.recorded_by = now, keep, recorded_by
        self.inline: Decider | None = None
        self.config = {
            "settings": settings.model_dump(),
            "now": now,
            "keep": keep,
            "recorded_by": recorded_by,
            "parent": os.getpid(),
        }
        self.workers = workers
        self.processes: list[Any] = []
        self.queues: list[tuple[Any, Any]] = []
        self.stopped = False

    def begin(self, app: JourneyApplication, *, load_existing: bool) -> None:
        """The caller's store is open: `load_existing`, whether it holds patients to
        continue (else every patient is new, and nothing is read)."""
        self.inline = Decider(
            app, self.now, load_existing=load_existing, keep=self.keep, recorded_by=self.recorded_by
        )
        for inbox, _ in self.queues:
            inbox.put(load_existing)

    def __enter__(self) -> Deciders[C]:
        context: Any = multiprocessing.get_context(start_method())
        for _ in range(self.workers):
            inbox, outbox = context.Queue(), context.Queue()
            process = context.Process(target=_serve, args=(self.config, inbox, outbox), daemon=True)
            process.start()
            self.processes.append(process)
            self.queues.append((inbox, outbox))
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        if error is None:
            self._stop()
        for process in self.processes:
            if error is None:
                process.join(timeout=30)
            if process.is_alive():  # SIGKILL: a handler inherited from the caller (an
                process.kill()  # in-process `journey project`) would catch a SIGTERM
                process.join()

    def run(
        self, chunks: Iterable[tuple[C, list[Task]]]
    ) -> Iterator[tuple[C, list[list[PatientBatch]]]]:
        if self.inline is None:
            raise RuntimeError("Deciders.begin() first: the store is not open yet")
        if not self.workers:
            for chunk, tasks in chunks:
                yield chunk, [run_task(self.inline, tasks[0])]
            return
        pending: deque[C] = deque()
        for chunk, tasks in chunks:
            for (inbox, _), task in zip(self.queues, tasks, strict=True):
                inbox.put(task)
            pending.append(chunk)
            if len(pending) > IN_FLIGHT:
                yield pending.popleft(), self._results()
        self._stop()  # they answer what they have, then exit while the caller writes it
        while pending:
            yield pending.popleft(), self._results()

    def _stop(self) -> None:
        """No more tasks: each worker ends after answering those it was given."""
        if not self.stopped:
            self.stopped = True
            for inbox, _ in self.queues:
                inbox.put(None)

    def _results(self) -> list[list[PatientBatch]]:
        return [
            self._receive(outbox, process)
            for (_, outbox), process in zip(self.queues, self.processes, strict=True)
        ]

    @staticmethod
    def _receive(outbox: Any, process: Any) -> list[PatientBatch]:
        while True:
            try:
                result = outbox.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not process.is_alive():
                    raise WorkerFailed(f"a bulk worker exited ({process.exitcode})") from None
                continue
            if isinstance(result, _Failure):
                if result.rejection is not None:
                    raise result.rejection.error()
                raise WorkerFailed(result.trace)
            return result  # type: ignore[no-any-return]
