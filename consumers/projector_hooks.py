"""Small pieces shared by the projector drivers: the stop signal and the crash test hook."""

from __future__ import annotations

import os
from dataclasses import dataclass

CRASH_EXIT_CODE = 137  # what a SIGKILL looks like to a shell


@dataclass
class CrashHook:
    """Test hook (`JOURNEY_PROJECTOR_CRASH_AFTER_BATCHES=N`): after the N-th committed batch
    the process dies at once (`os._exit`), before any other step such as the Kafka commit,
    like a `kill -9` landing right after the database commit. None disables it."""

    after_batches: int | None = None
    committed: int = 0

    def batch_committed(self) -> None:
        self.committed += 1
        if self.after_batches is not None and self.committed >= self.after_batches:
            os._exit(CRASH_EXIT_CODE)
