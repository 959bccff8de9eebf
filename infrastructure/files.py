"""Files the service creates hold patient data (SQLite stores, read-model copies): they
are created readable and writable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY = 0o600


def create_private_file(path: str) -> None:
    """Creates the SQLite file with mode 0600 when it does not exist yet (SQLite gives its
    -wal and -shm files the database file's permissions); an existing file is left as is."""
    if path in ("", ":memory:") or path.startswith("file:") or Path(path).exists():
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, OWNER_ONLY)
    except (FileExistsError, FileNotFoundError):  # SQLite reports a missing folder itself
        return
    os.close(fd)
    os.chmod(path, OWNER_ONLY)  # whatever the umask
