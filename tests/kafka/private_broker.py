"""A second, private Kafka broker for tests that stop and restart one (never the shared
broker): the jars and template of devtools/local_kafka.py, its own ports and data dir."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from devtools import local_kafka


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PrivateBroker:
    def __init__(self, base: Path) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port, self.controller = free_port(), free_port()
        self.lib = local_kafka.lib_dir()
        self.process: subprocess.Popen[bytes] | None = None
        self.conf = self._format()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _format(self) -> Path:
        text = (local_kafka.SRC / "server.properties.in").read_text()
        values = {"KAFKA_PORT": self.port, "CONTROLLER_PORT": self.controller,
                  "LOG_DIRS": self.base / "data"}  # fmt: skip
        for key, value in values.items():
            text = text.replace(f"@{key}@", str(value))
        conf = self.base / "server.properties"
        conf.write_text(text)
        cluster = local_kafka.cluster_id()
        fmt = ["kafka.tools.StorageTool", "format", "--standalone", "-t", cluster, "-c", str(conf)]
        subprocess.run(local_kafka._java(self.lib, *fmt), check=True, capture_output=True)
        return conf

    def start(self, timeout_s: float = 90.0) -> None:
        log = (self.base / "kafka.log").open("ab")
        command = local_kafka._java(self.lib, "kafka.Kafka", str(self.conf))
        # 256 MiB ran out of heap once while loading its logs under a full `make test`
        command = ["-Xmx512m" if a.startswith("-Xmx") else a for a in command]
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"broker exited; see {self.base / 'kafka.log'}"
            with contextlib.suppress(KafkaError):
                KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=3000).close()
                return
            time.sleep(0.5)
        raise TimeoutError(f"private broker not ready; see {self.base / 'kafka.log'}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@contextlib.contextmanager
def private_broker(base: Path) -> Iterator[PrivateBroker]:
    broker = PrivateBroker(base)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
