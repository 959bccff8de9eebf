"""Paths and process helpers shared by the local service modules (stdlib only)."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".services"
TIMEOUT_S = 120.0


class ServiceError(RuntimeError):
    """A service could not be started or stopped; the message says why."""


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, check=False, text=True, capture_output=True, stdin=subprocess.DEVNULL
    )


def check(cmd: list[str]) -> str:
    """Run `cmd`, return its stdout, raise ServiceError with its output when it fails."""
    res = run(cmd)
    if res.returncode != 0:
        raise ServiceError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    return res.stdout


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1.0)
        return s.connect_ex(("127.0.0.1", port)) == 0
