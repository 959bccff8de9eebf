"""SIGTERM and SIGINT stop a long-running command (`journey relay`, `journey project`).

A signal handler runs in the main thread between two bytecodes, possibly while that thread
is inside `threading.Event.wait` holding the event's lock. A handler that called
`stop.set()` there would wait for that same lock forever: the process hung on SIGTERM (seen
with `journey relay`: the main thread stuck in `Event.set` inside `Event.wait`). So the
handler only writes a byte to a pipe, which takes no lock, and a thread started before the
handlers were installed reads it and sets the event. A process forked inside the block
inherits the handler and the pipe, but a signal sent to it does not stop this one."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set when SIGTERM or SIGINT arrives while the block runs (main thread only:
    Python installs handlers there); the previous handlers are back afterwards."""
    stop = threading.Event()
    read_end, write_end = os.pipe()

    def forward() -> None:
        os.read(read_end, 1)  # a signal, or the block's end
        stop.set()

    owner = os.getpid()

    def handler(signum: int, frame: FrameType | None) -> None:
        if os.getpid() == owner:  # not in a process forked inside the block: its signal
            os.write(write_end, b"\0")  # is its own, and must not stop this one

    thread = threading.Thread(target=forward, name="journey-stop-on-signal", daemon=True)
    thread.start()
    previous = {signum: signal.signal(signum, handler) for signum in SIGNALS}
    try:
        yield stop
    finally:
        for signum, earlier in previous.items():
            signal.signal(signum, earlier)
        os.write(write_end, b"\0")
        thread.join()
        os.close(read_end)
        os.close(write_end)
