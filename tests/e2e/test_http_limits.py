"""Request bodies are limited before they are parsed, and authentication comes first:
100 MB bodies are refused (413) without the server's memory growing, an unauthenticated
body is refused (401) without being read, a JSON text nested 100,000 deep and a
5,000-digit number are 422 naming the rule; never a 500. In-process (TestClient) for the
rules, and a real `journey serve` process for what only a socket shows."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from config.settings import Settings
from interfaces.api import create_app
from services.bootstrap import build_application

KEYS = "k-clin=dr-a:clinician;k-svc=intake:service"
CLIN = {"X-API-Key": "k-clin"}
MB = 1 << 20


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", api_keys=KEYS)
    application = build_application(settings)
    with TestClient(create_app(application, settings), raise_server_exceptions=False) as c:
        yield c
    application.close()


def rule(answer: Any) -> str:
    return str(answer.json()["errors"][0]["rule"])


def test_deep_json_is_422_before_parsing(client: TestClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for path in ("/v1/commands", "/v1/patients/p-1/admissions"):
        answer = client.post(path, content=deep, headers=CLIN)
        assert answer.status_code == 422 and rule(answer) == "max_json_depth", answer.text
    brackets_in_text = {"level": "detox", "occurred_at": "2026-01-01T10:00:00Z"}
    brackets_in_text["actor"] = "[{" * 60  # text, not nesting
    answer = client.post("/v1/patients/p-1/admissions", json=brackets_in_text, headers=CLIN)
    assert answer.status_code == 422 and rule(answer) == "authenticated_actor"


def test_a_5000_digit_number_is_422(client: TestClient) -> None:
    body = '{"level": "detox", "occurred_at": "2026-01-01T10:00:00Z", "age_group": ' + "9" * 5000
    answer = client.post("/v1/patients/p-1/admissions", content=body + "}", headers=CLIN)
    assert answer.status_code == 422 and rule(answer) == "json_number_size"
    batch = "[" + "1" * 5000 + "]"
    answer = client.post("/v1/commands", content=batch, headers=CLIN)
    assert answer.status_code == 422 and rule(answer) == "json_number_size"


def test_a_body_over_the_limit_is_413(client: TestClient) -> None:
    answer = client.post("/v1/patients/p-1/admissions", content=b" " * (MB + 1), headers=CLIN)
    assert answer.status_code == 413 and rule(answer) == "max_body_bytes"
    assert answer.headers["content-type"] == "application/problem+json"


def largest_batch() -> list[dict[str, Any]]:
    """1,000 commands of the largest valid size (SPEC section 4 limits), their text escaped
    as JSON does by default (a character outside the BMP takes 12 bytes)."""
    return [
        {
            "command": "correct_session",
            "patient_id": f"{i:064d}",
            "session_id": "s" * 64,
            "reason": "\U0001f600" * 500,
            "actor": "a" * 128,
            "format": "individual",
            "approach": "twelve_step_facilitation",
            "duration_minutes": 720,
            "occurred_at": "2026-01-01T10:00:00.000000+00:00",
            "delivery": "telehealth",
            "status": "attended",
        }
        for i in range(1000)
    ]


def test_the_largest_batch_of_1000_commands_fits(client: TestClient) -> None:
    body = json.dumps(largest_batch())
    assert 6 * MB < len(body) < Settings().max_batch_body_bytes
    answer = client.post("/v1/commands", content=body, headers={"X-API-Key": "k-svc"})
    assert answer.status_code == 200, answer.text[:300]
    assert len(answer.json()["results"]) == 1000


# -- a real server process --------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """(port, pid) of `journey serve` on a fresh SQLite store."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "JOURNEY_DATABASE_URL": f"sqlite:///{tmp_path}/s.db",
        "JOURNEY_API_KEYS": KEYS,
    }
    env.pop("JOURNEY_KAFKA_BOOTSTRAP_SERVERS", None)
    command = [sys.executable, "-m", "interfaces", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "no server"
                time.sleep(0.2)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def peak_memory_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def exchange(port: int, head: str, chunks: Iterator[bytes]) -> tuple[int, int]:
    """Sends the request head, then `chunks` (lazily, until the server answers or closes);
    returns (status, bytes of body sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    answered = threading.Event()
    sent = [0]

    def feed() -> None:
        try:
            for chunk in chunks:
                if answered.is_set():
                    return
                sock.sendall(chunk)
                sent[0] += len(chunk)
        except OSError:
            return

    sock.sendall(head.encode())
    sender = threading.Thread(target=feed, daemon=True)
    sender.start()
    received = b""
    while b"\r\n" not in received:
        data = sock.recv(65536)
        assert data, "connection closed without an answer"
        received += data
    answered.set()
    sock.close()
    sender.join(timeout=30)
    return int(received.split(b" ")[1]), sent[0]


def lazily(total: int, framed: bool) -> Iterator[bytes]:
    block = b"[" + b"0," * 32_000
    for _ in range(total // len(block)):
        yield b"%x\r\n%s\r\n" % (len(block), block) if framed else block


def request_head(headers: dict[str, str]) -> str:
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return f"POST /v1/commands HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n"


def test_100_mb_bodies_are_413_with_low_memory(server: tuple[int, int]) -> None:
    port, pid = server
    before = peak_memory_kb(pid)
    chunked = request_head({**CLIN, "Transfer-Encoding": "chunked"})
    status, sent = exchange(port, chunked, lazily(100 * MB, framed=True))
    assert status == 413 and sent < 100 * MB
    declared = request_head({**CLIN, "Content-Length": str(100 * MB)})
    status, sent = exchange(port, declared, lazily(100 * MB, framed=False))
    assert status == 413
    grown = peak_memory_kb(pid) - before
    assert grown < 30 * 1024, f"peak resident memory grew by {grown} kB"


def test_an_unauthenticated_body_is_401_without_being_read(server: tuple[int, int]) -> None:
    port, _ = server
    head = request_head({"X-API-Key": "wrong", "Content-Length": str(100 * MB)})
    started = time.monotonic()
    status, sent = exchange(port, head, iter(()))  # not one byte of the body is sent
    assert (status, sent) == (401, 0)
    assert time.monotonic() - started < 10
