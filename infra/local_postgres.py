"""PostgreSQL 15 from the machine's binaries, on 127.0.0.1 (default port 55432).

initdb/pg_ctl refuse to run as root, so as root they run as the `postgres` user on a data
directory that user owns.  Trust authentication on loopback: a throw-away dev/CI cluster.
"""

from __future__ import annotations

import functools
import os
import pwd
from pathlib import Path

from devtools._common import STATE, TIMEOUT_S, ServiceError, check, port_open, run, tail

PG_BIN = Path(os.environ.get("JOURNEY_SERVICES_PG_BIN", "/usr/lib/postgresql/15/bin"))
TUNING = """
# journey dev/CI cluster: durability traded for speed (never use for real data)
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
"""


def port() -> int:
    return int(os.environ.get("JOURNEY_SERVICES_PG_PORT", "55432"))


def url() -> str:
    return f"postgresql://journey:journey@127.0.0.1:{port()}/journey"


def _as_pg() -> list[str]:
    """Prefix that runs a command as the unprivileged `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@functools.cache
def base_dir() -> Path:
    """.services/pg, or /tmp/journey-services-<uid>/pg when `postgres` cannot reach .services."""
    STATE.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return STATE / "pg"
    STATE.chmod(0o755)
    if run([*_as_pg(), "test", "-x", str(STATE)]).returncode != 0:
        return Path(f"/tmp/journey-services-{os.getuid()}") / "pg"
    return STATE / "pg"


def _pg_ctl(*args: str) -> list[str]:
    return [*_as_pg(), str(PG_BIN / "pg_ctl"), "-D", str(base_dir() / "data"), *args]


def running() -> bool:
    return run(_pg_ctl("status")).returncode == 0


def _psql(sql: str) -> str:
    cmd = [str(PG_BIN / "psql"), "-X", "-h", "127.0.0.1", "-p", str(port()), "-U", "postgres"]
    return check([*cmd, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-tAc", sql]).strip()


def _init(base: Path) -> None:
    data = base / "data"
    base.mkdir(parents=True, exist_ok=True)
    (base / "sock").mkdir(exist_ok=True)
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        for path in (base.parent, base, base / "sock"):
            if path != STATE:
                os.chown(path, pw.pw_uid, pw.pw_gid)
    if (data / "PG_VERSION").exists():
        return
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8"]
    check([*_as_pg(), *initdb, "--locale=C.UTF-8", "--auth=trust"])
    with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write(TUNING)


def _create_role_and_db() -> None:
    if _psql("SELECT 1 FROM pg_roles WHERE rolname = 'journey'") != "1":
        _psql("CREATE ROLE journey LOGIN CREATEDB PASSWORD 'journey'")
    if _psql("SELECT 1 FROM pg_database WHERE datname = 'journey'") != "1":
        _psql("CREATE DATABASE journey OWNER journey")


def up() -> str:
    """Start the cluster unless it runs; make sure role and database `journey` exist."""
    base = base_dir()
    if not running():
        if port_open(port()):
            raise ServiceError(f"port {port()} is taken by another process")
        _init(base)
        opts = f"-h 127.0.0.1 -p {port()} -k {base / 'sock'}"
        log = base / "postgres.log"
        res = run(_pg_ctl("-l", str(log), "-o", opts, "-w", "-t", str(int(TIMEOUT_S)), "start"))
        if res.returncode != 0:
            raise ServiceError(f"PostgreSQL did not start:\n{res.stderr}\n{tail(log)}")
    check([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port()), "-t", "30"])
    _create_role_and_db()
    return url()


def down() -> None:
    if running():
        check(_pg_ctl("stop", "-m", "fast", "-w", "-t", "60"))
