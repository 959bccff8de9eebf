"""Worker processes that die with their parent, even when it is killed with SIGKILL.

A `multiprocessing` worker blocked on its queue outlives a parent killed by `kill -9`
(nothing runs in the parent to stop it) and waits forever. `die_with_parent`, called first
in the worker, asks Linux to SIGKILL it when its parent dies (`prctl(PR_SET_PDEATHSIG)`),
and starts a watchdog thread that exits the process once its parent pid changes (the
portable fallback, within `WATCH_SECONDS`). Only for workers that write nothing of their
own: they are stopped abruptly. `start_method`: how such a worker is started."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
WATCH_SECONDS = 0.5
EXIT_ORPHANED = 128 + signal.SIGKILL


def die_with_parent(parent_pid: int) -> None:
    """Ends this process when `parent_pid` (the process that started it) is gone."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(error)}")
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    os._exit(EXIT_ORPHANED)


def start_method() -> str:
    """fork where the platform has it (Linux) and the caller runs no other thread: a worker
    then starts with the caller's modules (no second interpreter start). A thread holding a
    lock at the fork (a server's, a Kafka client's) would leave that lock held forever in
    the worker, which then hangs: then spawn."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    return "fork" if forkable and threading.active_count() == 1 else "spawn"
