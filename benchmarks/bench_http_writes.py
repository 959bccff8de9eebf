"""HTTP command writes on PostgreSQL: concurrent clients on a few hot patients, through one
and then three real API instances, next to raw PostgreSQL insert + commit in the same run.

Run (PostgreSQL at JOURNEY_TEST_POSTGRES_URL, e.g. from `make services-up`):
    .venv/bin/python -m benchmarks.bench_http_writes [--seconds 10] [--clients 12]
        [--patients 3] [--instances 1 3] [--profile DIR] [--code DIR]

Each instance is `journey serve --no-project` (a uvicorn subprocess, as `make run` starts
it, with API keys on) on a loopback port of its own, on a fresh database. The patients are
admitted first; then `--clients` threads, each with a keep-alive connection to one instance
(round robin) and one patient (round robin), send `record_session` commands (a new session
id each) for `--seconds` and count the answers: 201 accepted, 200 duplicate, 409 conflict,
anything else an error. The limit: `--clients` connections each inserting one row of the
size of a stored session event and committing, as fast as they can, on the same server.
`--profile DIR` runs each instance under cProfile, every thread's CPU time
(DIR/instance-N-of-M.prof); `--code DIR` runs the instances from another checkout (e.g.
the code before a change, for a before/after in the same conditions).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks.common import fresh_postgres, process_cpu

KEY = "k-bench"
KEYS = f"{KEY}=dr-bench:clinician"
FIRST_SESSION = datetime(2026, 1, 2, tzinfo=UTC)
STATE_BYTES = 700  # about the stored state of one record_session event (encrypted JSON)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(conn: http.client.HTTPConnection, path: str, body: dict[str, object]) -> int:
    conn.request(
        "POST",
        path,
        json.dumps(body),
        {"Content-Type": "application/json", "X-API-Key": KEY},
    )
    response = conn.getresponse()
    response.read()
    return response.status


@contextmanager
def instance(
    url: str, label: str, profile: Path | None, code: Path | None = None
) -> Iterator[tuple[int, int]]:
    """A `journey serve` subprocess on a free loopback port (its port and pid), stopped
    (SIGINT) afterwards; `code`: the checkout it runs from (default: this one)."""
    port = free_port()
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_API_KEYS": KEYS}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    command = [sys.executable, "-m", "interfaces", "serve", "--no-project"]
    if profile is not None:  # every thread profiled (the endpoints run in worker threads)
        out = str(profile / f"instance-{label}.prof")
        command[1:3] = ["-m", "benchmarks.profiled_serve", out]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=code,  # `python -m` looks in the working directory first
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(port, process)
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"instance on port {port} died at start:\n{stderr}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"instance on port {port} not healthy after {seconds} s")


def admit(port: int, patients: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for pid in patients:
        body = {"level": "outpatient", "occurred_at": "2026-01-01T08:00:00+00:00"}
        status = post(conn, f"/v1/patients/{pid}/admissions", {**body, "timezone": "UTC"})
        if status not in (200, 201):
            raise SystemExit(f"admitting {pid} failed: HTTP {status}")


def session(run: str, client: int, n: int) -> dict[str, object]:
    """A new session of the patient, within the year after its admission."""
    occurred = FIRST_SESSION + timedelta(minutes=(client * 7919 + n) % (60 * 24 * 300))
    return {
        "session_id": f"s-{run}-{client}-{n}",
        "format": "individual",
        "approach": "cbt",
        "duration_minutes": 50,
        "occurred_at": occurred.isoformat(),
    }


def drive(
    ports: list[int], patients: list[str], clients: int, seconds: float, run: str
) -> Counter[str]:
    """`clients` threads send commands for `seconds`; the answers by outcome."""
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", ports[index % len(ports)], timeout=60)
        path = f"/v1/patients/{patients[index % len(patients)]}/sessions"
        mine: Counter[str] = Counter()
        n = 0
        while time.monotonic() < stop:
            status = post(conn, path, session(run, index, n))
            n += 1
            mine[{201: "accepted", 200: "duplicate", 409: "conflict"}.get(status, str(status))] += 1
        with lock:
            counts.update(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return counts


def raw_inserts(url: str, clients: int, seconds: float) -> int:
    """Rows inserted by `clients` connections, one row and one commit at a time."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE raw_events (id bigserial PRIMARY KEY, originator_id text NOT NULL,"
            " originator_version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL,"
            " UNIQUE (originator_id, originator_version))"
        )
    done = [0] * clients
    stop = time.monotonic() + seconds
    state = os.urandom(STATE_BYTES)

    def client(index: int) -> None:
        with psycopg.connect(url) as conn:
            n = 0
            while time.monotonic() < stop:
                conn.execute(
                    "INSERT INTO raw_events (originator_id, originator_version, topic, state)"
                    " VALUES (%s, %s, %s, %s)",
                    (f"raw-{index}", n, "journey.domain_events:SessionRecorded", state),
                )
                conn.commit()
                n += 1
            done[index] = n

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done)


def rollbacks(url: str) -> int:
    """Transactions rolled back in the database so far (a version conflict rolls back)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0]) if row else 0


def measure(
    url: str, count: int, args: argparse.Namespace, patients: list[str]
) -> tuple[Counter[str], float, float]:
    """Answers, wall seconds and the instances' CPU seconds of `count` instances driven;
    the transactions rolled back meanwhile (version conflicts) count as `rolled back`."""
    with ExitStack() as stack:
        started = []
        for i in range(count):  # one after the other: each start migrates under a lock
            label = f"{i + 1}-of-{count}"
            started.append(stack.enter_context(instance(url, label, args.profile, args.code)))
        ports = [port for port, _ in started]
        drive(ports, patients, args.clients, 1.0, "warm")  # warm up: caches, connections
        cpu, rolled = sum(process_cpu(pid) for _, pid in started), rollbacks(url)
        start = time.perf_counter()
        counts = drive(ports, patients, args.clients, args.seconds, "run")
        seconds = time.perf_counter() - start
        cpu = sum(process_cpu(pid) for _, pid in started) - cpu
    time.sleep(1.0)  # the statistics of the instances' sessions reach pg_stat_database
    counts["rolled back"] = rollbacks(url) - rolled
    return counts, seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--patients", type=int, default=3)
    parser.add_argument("--instances", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument(
        "--code", type=Path, default=None, help="run the instances from this checkout (before)"
    )
    args = parser.parse_args()
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    print(
        f"HTTP writes, PostgreSQL, {args.clients} clients, {args.patients} patients, "
        f"{args.seconds:g} s each; load average before: {os.getloadavg()[0]:.1f}"
    )
    for count in args.instances:
        with fresh_postgres("bench_http") as raw_url:  # the limit, just before
            raw = raw_inserts(raw_url, args.clients, args.seconds) / args.seconds
        with fresh_postgres("bench_http") as url:
            patients = [f"hot-{i}" for i in range(args.patients)]
            with instance(url, "admit", None, args.code) as (port, _):
                admit(port, patients)
            counts, seconds, cpu = measure(url, count, args, patients)
        rate = counts["accepted"] / seconds
        others = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "accepted")
        print(
            f"  {count} instance(s): {rate:5.0f} cmd/s accepted | raw insert+commit from "
            f"{args.clients} connections {raw:5.0f} rows/s | ratio {rate / raw:5.1%} | "
            f"server CPU {1000 * cpu / max(1, counts['accepted']):.2f} ms/cmd "
            f"| {others or 'no other answer'}"
        )


if __name__ == "__main__":
    main()
