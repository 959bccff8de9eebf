"""How many worker processes a replay or a rebuild uses unless told: a module of its own,
so that the command line shows the default in its help without loading the replay."""

from __future__ import annotations

import os

DEFAULT_WORKERS = min(4, os.cpu_count() or 1)
