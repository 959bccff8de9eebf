"""Start and stop the local PostgreSQL 15 and Kafka 4.3 (KRaft) used by development and CI.

Usage: python devtools/services.py up|down|status [--postgres] [--kafka] [--clean]

No Docker needed: PostgreSQL comes from the machine's binaries (initdb, pg_ctl), Kafka from
the jars that devtools/kafka/pom.xml resolves into devtools/kafka/lib/ (Maven runs on first use).
State lives under .services/ in the checkout (the PostgreSQL data goes to
/tmp/journey-services-<uid>/ instead when the `postgres` user cannot reach the checkout).
`up` is idempotent and writes .services.env with the JOURNEY_TEST_* addresses.
Ports: JOURNEY_SERVICES_PG_PORT (55432), JOURNEY_SERVICES_KAFKA_PORT (19092; controller +1).
Stdlib only (kafka-python, when importable, is used for the readiness probe).
"""

from __future__ import annotations

import argparse
import fcntl
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as a script: make the `infra` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools._common import ROOT, STATE, ServiceError

from devtools import local_kafka, local_postgres

__all__ = ["ENV_FILE", "Endpoints", "ServiceError", "down", "kafka_running", "pg_running", "up"]

ENV_FILE = ROOT / ".services.env"
pg_running = local_postgres.running
kafka_running = local_kafka.running


@dataclass(frozen=True)
class Endpoints:
    postgres_url: str | None
    kafka_bootstrap: str | None


def write_env_file() -> None:
    ENV_FILE.write_text(
        f"JOURNEY_TEST_POSTGRES_URL={local_postgres.url()}\n"
        f"JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS={local_kafka.bootstrap()}\n"
    )


def up(postgres: bool = True, kafka: bool = True) -> Endpoints:
    """Start (or find running) the selected services and return their addresses.

    A file lock serialises concurrent callers (e.g. pytest-xdist workers): the first one
    starts the services, the others wait and then find them running.
    """
    STATE.mkdir(parents=True, exist_ok=True)
    with open(STATE / "up.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        url = local_postgres.up() if postgres else None
        bootstrap = local_kafka.up() if kafka else None
        write_env_file()
    return Endpoints(url, bootstrap)


def down(postgres: bool = True, kafka: bool = True, clean: bool = False) -> None:
    """Stop the selected services; `clean` also deletes their state and .services.env."""
    if kafka:
        local_kafka.down()
    if postgres:
        local_postgres.down()
    if clean:
        pg_base = local_postgres.base_dir()
        # the PostgreSQL data may live in /tmp/journey-services-<uid>/ (see base_dir)
        shutil.rmtree(pg_base if pg_base.parent == STATE else pg_base.parent, ignore_errors=True)
        shutil.rmtree(STATE, ignore_errors=True)
        ENV_FILE.unlink(missing_ok=True)


def status() -> list[str]:
    pg = "running" if pg_running() else "stopped"
    pid = local_kafka.pid()
    kf = f"running (pid {pid})" if pid else "stopped"
    return [
        f"postgres: {pg} at {local_postgres.url()} (data {local_postgres.base_dir() / 'data'})",
        f"kafka:    {kf} at {local_kafka.bootstrap()} (log {local_kafka.LOG})",
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Local PostgreSQL 15 and Kafka for dev/CI.")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (default: both)")
    parser.add_argument("--kafka", action="store_true", help="Kafka (default: both)")
    parser.add_argument("--clean", action="store_true", help="down: also delete .services/")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    both = not (args.postgres or args.kafka)
    pg, kf = both or args.postgres, both or args.kafka
    try:
        if args.command == "up":
            started = time.monotonic()
            ends = up(postgres=pg, kafka=kf)
            print(f"up in {time.monotonic() - started:.1f}s: {ends}; wrote {ENV_FILE}")
        elif args.command == "down":
            down(postgres=pg, kafka=kf, clean=args.clean)
        else:
            print("\n".join(status()))
    except (ServiceError, OSError) as exc:
        print(f"services.py {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
