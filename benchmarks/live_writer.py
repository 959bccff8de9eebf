"""A paced writer for the live part of `bench_analytics`: a separate process that sends the
commands of a fresh demo cohort through `JourneyApplication.handle_many` at a fixed rate, as
clinics would, ACTIVE patients interleaved (each patient's commands stay in order).

Every TICK seconds it sends the commands due by then, so the rate holds on average even
when one transaction is slow; it reports how many commands it stored and in how long."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from benchmarks.common import UNTIL
from config.settings import Settings
from devtools.demo.cohort import generate_cohort
from journey.commands import Command, parse_command
from services.bootstrap import build_application

TICK = 0.1  # seconds between two transactions
ACTIVE = 200  # patients whose commands are interleaved at any time


def interleaved(patients: int, prefix: str, active: int = ACTIVE) -> Iterator[dict[str, Any]]:
    """The cohort's commands, one command of each of `active` patients in turn; a patient
    whose journey ends makes room for the next one."""
    journeys: dict[str, list[dict[str, Any]]] = {}
    for command in generate_cohort(patients, seed=11, until=UNTIL, id_prefix=prefix):
        journeys.setdefault(command["patient_id"], []).append(command)
    waiting = deque(deque(commands) for commands in journeys.values())
    running: deque[deque[dict[str, Any]]] = deque()
    while waiting or running:
        while waiting and len(running) < active:
            running.append(waiting.popleft())
        journey = running.popleft()
        yield journey.popleft()
        if journey:
            running.append(journey)


def paced_write(url: str, rate: float, seconds: float, report: Any) -> None:
    """Process body: stores `rate` commands per second for `seconds`; puts (commands,
    elapsed seconds) on `report`."""
    patients = int(rate * seconds / 60) + 10  # ~100 commands each: enough for the run
    commands: list[Command] = [parse_command(c) for c in interleaved(patients, "live")]
    app = build_application(Settings(database_url=url))
    sent, started = 0, time.perf_counter()
    try:
        while (elapsed := time.perf_counter() - started) < seconds and sent < len(commands):
            due = min(int(elapsed * rate), len(commands))
            if due > sent:
                results = app.handle_many(commands[sent:due], atomic=False)
                rejected = [r for r in results if isinstance(r, Exception)]
                assert not rejected, rejected[:3]
                sent = due
            time.sleep(max(0.0, TICK - (time.perf_counter() - started - elapsed)))
    finally:
        app.close()
    report.put((sent, time.perf_counter() - started))
