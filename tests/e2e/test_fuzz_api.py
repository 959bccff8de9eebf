"""Schemathesis against the real API server (`journey serve` in a subprocess, API keys on, a
temporary SQLite store holding a few patients): every operation of the OpenAPI document,
with valid and invalid data (a bounded number of examples each), must never answer 500."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.e2e.test_cli import ADMIT, journey, jsonl

KEY = "fuzz-admin-key"
# Instants over the whole range `datetime` holds, with any offset (the default strategy
# keeps to ordinary years): years 1 and 9999 are where bad instants break calendars.
_OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.one_of(
    st.datetimes(datetime(1980, 1, 1), datetime(2030, 1, 1), timezones=_OFFSETS),
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31), timezones=_OFFSETS),
    st.datetimes(datetime(1, 1, 1), datetime(1, 1, 2), timezones=_OFFSETS),
    st.datetimes(datetime(9999, 12, 30), datetime(9999, 12, 31, 23, 59), timezones=_OFFSETS),
).map(datetime.isoformat)
EXAMPLES = 25  # per operation and generation mode
PATIENTS = ("p-1", "p-2", "p-3")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module", autouse=True)
def wide_instants() -> None:
    schemathesis.openapi.format("date-time", INSTANTS)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    store = folder / "journey.db"
    admitted = journey(
        store, "import", "-", stdin=jsonl(*({**ADMIT, "patient_id": p} for p in PATIENTS))
    )
    assert admitted.returncode == 0, admitted.stderr
    port = _free_port()
    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{store}",
           "JOURNEY_API_KEYS": f"{KEY}=fuzzer:admin"}  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "interfaces", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _wait_until_up(url: str, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


def _fuzz(operation: Any, mode: GenerationMode, server: str) -> str | None:
    """The first case of `operation` that got a 5xx answer (its curl command), or None."""
    found: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
        database=None,
    )
    def run(case: Any) -> None:
        path = case.path_parameters or {}
        if isinstance(path.get("patient_id"), str) and len(path["patient_id"]) % 2 == 0:
            path["patient_id"] = PATIENTS[len(path["patient_id"]) % len(PATIENTS)]  # known
        response = case.call(base_url=server, headers={"X-API-Key": KEY}, timeout=30)
        if response.status_code >= 500 and not found:
            found.append(f"{response.status_code} {case.as_curl_command()} -> {response.text}")

    try:
        run()
    except Unsatisfiable:  # no invalid data exists for it (e.g. no parameter, no body)
        assert mode is GenerationMode.NEGATIVE
    return found[0] if found else None


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_no_operation_answers_500(server: str, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = [f for op in operations if (f := _fuzz(op, mode, server)) is not None]
    assert not failures, "\n".join(failures)
