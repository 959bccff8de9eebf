"""Apache Kafka 4.3 (KRaft, one broker+controller node) from the jars in devtools/kafka/lib.

devtools/kafka/pom.xml resolves the broker and a log4j2 backend from Maven Central; the storage
is formatted with `StorageTool format --standalone`, then `kafka.Kafka` runs in the
background, logging to .services/kafka/kafka.log.  Default ports 19092 (PLAINTEXT) and
19093 (CONTROLLER), both on 127.0.0.1.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import time
import uuid
from pathlib import Path

from devtools._common import ROOT, STATE, TIMEOUT_S, ServiceError, check, port_open, tail

SRC = ROOT / "devtools" / "kafka"
DIR = STATE / "kafka"
PID_FILE = DIR / "kafka.pid"
LOG = DIR / "kafka.log"


def port() -> int:
    return int(os.environ.get("JOURNEY_SERVICES_KAFKA_PORT", "19092"))


def controller_port() -> int:
    return int(os.environ.get("JOURNEY_SERVICES_KAFKA_CONTROLLER_PORT", port() + 1))


def bootstrap() -> str:
    return f"127.0.0.1:{port()}"


def pid() -> int | None:
    """The pid in the pid file, if that process is alive and is our broker."""
    try:
        found = int(PID_FILE.read_text().strip())
        cmdline = Path(f"/proc/{found}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return found if b"kafka.Kafka" in cmdline else None


def running() -> bool:
    return pid() is not None


def lib_dir() -> Path:
    """devtools/kafka/lib holding the pom's Kafka version, resolved with Maven when missing."""
    lib = SRC / "lib"
    found = re.search(r"<kafka.version>(.+?)</kafka.version>", (SRC / "pom.xml").read_text())
    version = found.group(1) if found else "?"
    if not (lib / f"kafka_2.13-{version}.jar").exists():
        shutil.rmtree(lib, ignore_errors=True)
        mvn = ["mvn", "-q", "-B", "-f", str(SRC / "pom.xml")]
        check([*mvn, "dependency:copy-dependencies", "-DincludeScope=runtime"])
    return lib


def _java(lib: Path, *args: str) -> list[str]:
    heap = os.environ.get("JOURNEY_SERVICES_KAFKA_HEAP", "-Xmx512m")
    jvm = ["java", "-Xms128m", heap, "-XX:+UseG1GC", "-Djava.awt.headless=true"]
    logging = f"-Dlog4j2.configurationFile={SRC / 'log4j2.properties'}"
    return [*jvm, logging, "-cp", f"{lib}/*", *args]


def cluster_id() -> str:
    """A random cluster id for `StorageTool format -t`, as Kafka's `Uuid.randomUuid` makes
    them: URL-safe base64 of 16 random bytes, never starting with "-" (the tool would read
    it as an option and refuse to format: 1 id in 64 did)."""
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found


def _config(lib: Path) -> Path:
    """Render server.properties; (re)format the storage when new or the config changed."""
    data = DIR / "data"
    text = (SRC / "server.properties.in").read_text()
    values = {"KAFKA_PORT": port(), "CONTROLLER_PORT": controller_port(), "LOG_DIRS": data}
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    conf, stamp = DIR / "server.properties", DIR / "formatted-for"
    fresh = stamp.exists() and stamp.read_text() == text
    if not fresh or not (data / "meta.properties").exists():
        shutil.rmtree(data, ignore_errors=True)  # the quorum records the controller address
        conf.write_text(text)
        fmt = ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id()]
        check(_java(lib, *fmt, "-c", str(conf)))
        stamp.write_text(text)
    return conf


def _admin_ready() -> bool:
    """True once a real client lists topics; without kafka-python the log line decides."""
    try:
        # Optional: this module stays importable (and usable) with the stdlib alone.
        from kafka import KafkaAdminClient  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415
    except ImportError:
        return "Kafka Server started" in LOG.read_text(errors="replace")
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap(), request_timeout_ms=5000)
        try:
            admin.list_topics()
        finally:
            admin.close()
    except Exception:  # any client error means "not ready yet"
        return False
    return True


def _wait(expected: int) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if pid() != expected:
            raise ServiceError(f"Kafka exited during start-up; {LOG}:\n{tail(LOG)}")
        if port_open(port()) and _admin_ready():
            return
        time.sleep(0.5)
    raise ServiceError(f"Kafka not ready after {TIMEOUT_S:.0f}s; {LOG}:\n{tail(LOG)}")


def up() -> str:
    """Start the broker unless it runs, then wait until a client can list topics."""
    DIR.mkdir(parents=True, exist_ok=True)
    current = pid()
    if current is None:
        if port_open(port()):
            raise ServiceError(f"port {port()} is taken by another process")
        lib = lib_dir()
        conf = _config(lib)
        # A throw-away sh starts the JVM in the background and prints its pid, so the
        # broker is nobody's child here (no zombie, nothing tied to the caller's lifetime).
        launch = 'log=$1; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!'
        cmd = ["setsid", "sh", "-c", launch, "sh", str(LOG), *_java(lib, "kafka.Kafka", str(conf))]
        current = int(check(cmd).strip())
        PID_FILE.write_text(f"{current}\n")
    _wait(current)
    return bootstrap()


def down() -> None:
    """SIGTERM (controlled shutdown), SIGKILL after 60 s."""
    current = pid()
    if current is not None:
        os.kill(current, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while pid() == current and time.monotonic() < deadline:
            time.sleep(0.3)
        if pid() == current:
            os.kill(current, signal.SIGKILL)
            time.sleep(1)
    PID_FILE.unlink(missing_ok=True)
