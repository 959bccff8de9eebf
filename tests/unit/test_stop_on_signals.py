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


FORKED = """
import os, signal, time
from interfaces.cli_signals import stop_on_signals
with stop_on_signals() as stop:
    child = os.fork()
    if child == 0:  # inherits the handler and the pipe
        time.sleep(30)
        os._exit(0)
    time.sleep(0.2)
    os.kill(child, signal.SIGTERM)
    time.sleep(0.3)
    print("stopped by the child's signal" if stop.is_set() else "still running", flush=True)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
"""


def test_a_signal_to_a_process_forked_inside_the_block_does_not_stop_the_parent() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", FORKED],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "still running"
