"""The `journey` command line in a subprocess, as an operator runs it: the one runner the
end-to-end tests share."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

# Settings a test must name to have: the runner never inherits them from the test's shell.
NOT_INHERITED = ("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", "JOURNEY_CIPHER_KEY")


def run_journey(
    database_url: str,
    *args: str,
    stdin: str | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`journey ARGS` on the store at `database_url`; `env` adds settings (None unsets)."""
    environment = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environment["JOURNEY_DATABASE_URL"] = database_url
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-m", "interfaces", *args],
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
