"""`journey serve` under cProfile in every thread, timing each thread's CPU time (the sync
endpoints run in worker threads, which `python -m cProfile` does not see):
`python -m benchmarks.profiled_serve OUT.prof serve ...` writes the merged profile to
OUT.prof when the server stops (SIGINT)."""

from __future__ import annotations

import cProfile
import pstats
import sys
import threading
import time
from types import FrameType
from typing import Any

from interfaces.cli import main as journey

PROFILES: list[cProfile.Profile] = []


def _in_new_thread(frame: FrameType, event: str, arg: Any) -> None:
    """Replaces itself in a new thread by a profiler of that thread."""
    sys.setprofile(None)
    profile = cProfile.Profile(time.thread_time)
    PROFILES.append(profile)
    profile.enable()


def main() -> None:
    out, *args = sys.argv[1:]
    sys.argv = ["journey", *args]
    threading.setprofile(_in_new_thread)
    main_profile = cProfile.Profile(time.thread_time)
    PROFILES.append(main_profile)
    main_profile.enable()
    try:
        journey()
    except SystemExit:
        pass
    finally:
        main_profile.disable()
        pstats.Stats(*PROFILES).dump_stats(out)


if __name__ == "__main__":
    main()
