"""SIGTERM stops a long-running command however its main thread is waiting: a process
that waits on the stop event in a tight loop (as `journey relay` does between polls) gets
SIGTERM at random moments and must exit every time. A handler that set the event itself
hung here (the main thread, inside `Event.wait`, held the lock `Event.set` needs)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WAITER = """
import signal, sys
from interfaces.cli_signals import stop_on_signals
before = signal.getsignal(signal.SIGTERM)
with stop_on_signals() as stop:
    print("ready", flush=True)
    while not stop.wait(0.00005):
        pass
assert signal.getsignal(signal.SIGTERM) is before, "the previous handler is back"
print("stopped", flush=True)
"""


def _stopped(signum: int, delay: float) -> tuple[bool, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-c", WAITER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    time.sleep(delay)
    process.send_signal(signum)
    try:
        out, _ = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return False, "hung after the signal"
    return process.returncode == 0 and out.strip() == "stopped", f"exit {process.returncode}"


def test_sigterm_and_sigint_stop_a_waiting_loop_every_time() -> None:
    chance = random.Random(14)
    for attempt in range(40):
        signum = signal.SIGTERM if attempt % 4 else signal.SIGINT
        stopped, why = _stopped(signum, chance.uniform(0.0, 0.05))
        assert stopped, f"attempt {attempt} ({signal.Signals(signum).name}): {why}"
