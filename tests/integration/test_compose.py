"""docker-compose.yml checked without Docker: the file validates against the Compose
Specification schema (tests/fixtures/compose-spec.json, see tests/fixtures/README.md), and
each service built from this repo runs its compose `command` with exactly the compose
file's environment, against the local PostgreSQL and Kafka instead of the compose hosts.

Substitutions, and nothing else: the `postgres` / `kafka` hosts become the test services (a
fresh database, the test broker); a secret's /run/secrets/<name> becomes a file holding
the committed example (secrets/<name>.example); the API binds 127.0.0.1 on a free port; the
relay and projector get `--once` and, to keep the shared broker clean, private topic and
group names (JOURNEY_RELAY_EVENTS_TOPIC, JOURNEY_RELAY_STATE_TOPIC, JOURNEY_RELAY_ANCHORS_TOPIC,
JOURNEY_PROJECTOR_GROUP:
variables the compose file leaves at their defaults)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from kafka import KafkaAdminClient

from config.settings import Settings, read_api_keys_file
from services.bootstrap import build_application
from tests.kafka.helpers import cohort_lines, load

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SPEC = ROOT / "tests" / "fixtures" / "compose-spec.json"
IMAGE = "care-journey:dev"
pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def our_services() -> dict[str, dict[str, Any]]:
    """The services running this repo's image, in file order."""
    return {n: s for n, s in compose()["services"].items() if s.get("image") == IMAGE}


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(spec)
    validator = Draft7Validator(spec)
    errors = sorted(validator.iter_errors(compose()), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    broken = compose()
    broken["services"]["api"]["secrets"] = "journey_api_keys"  # a string, not a list
    assert not validator.is_valid(broken)  # the schema does reject what compose would


def test_every_secret_a_service_names_is_declared_with_a_committed_example() -> None:
    document = compose()
    declared = document.get("secrets", {})
    for name, service in document["services"].items():
        for secret in service.get("secrets", []):
            source = secret if isinstance(secret, str) else secret["source"]
            assert source in declared, (name, source)
            example = ROOT / f"{declared[source]['file']}.example"
            assert example.is_file(), example
            assert read_api_keys_file(example)  # the example is in the format the API reads


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Local:
    """The compose environment with the compose hosts replaced by the local services."""

    def __init__(self, database_url: str, bootstrap: str, tmp: Path) -> None:
        self.database_url, self.bootstrap, self.tmp = database_url, bootstrap, tmp
        self.label = f"compose{uuid.uuid4().hex[:10]}"

    def environment(self, service: dict[str, Any]) -> dict[str, str]:
        declared = compose().get("secrets", {})
        secrets = {}
        for name in service.get("secrets", []):
            path = self.tmp / "secrets" / name
            path.parent.mkdir(exist_ok=True)
            path.write_text((ROOT / f"{declared[name]['file']}.example").read_text())
            secrets[f"/run/secrets/{name}"] = str(path)
        env = {}
        for key, value in service.get("environment", {}).items():
            env[key] = secrets.get(str(value), self._address(key, str(value)))
        return env

    def _address(self, key: str, value: str) -> str:
        if key == "JOURNEY_DATABASE_URL":
            assert urlsplit(value).hostname == "postgres", value  # the compose service
            return self.database_url
        if key == "JOURNEY_KAFKA_BOOTSTRAP_SERVERS":
            assert value.split(":", maxsplit=1)[0] == "kafka", value
            return self.bootstrap
        assert "postgres:" not in value and "kafka:" not in value, (key, value)
        return value

    def isolation(self) -> dict[str, str]:
        return {
            "JOURNEY_RELAY_EVENTS_TOPIC": f"test.{self.label}.events",
            "JOURNEY_RELAY_STATE_TOPIC": f"test.{self.label}.state",
            "JOURNEY_RELAY_ANCHORS_TOPIC": f"test.{self.label}.anchors",
            "JOURNEY_PROJECTOR_GROUP": f"test.{self.label}",
        }

    def delete_topics(self) -> None:
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            names = [n for n in admin.list_topics() if n.startswith(f"test.{self.label}.")]
            if names:
                admin.delete_topics(names)
        finally:
            admin.close()

    def process_env(self, service: dict[str, Any]) -> dict[str, str]:
        """Only what any shell has, the repo on the path, and the compose environment."""
        bin_dir = str(Path(sys.executable).parent)
        base = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(self.tmp), "LANG": "C.UTF-8"}
        base["PYTHONPATH"] = str(ROOT)
        return {**base, **self.environment(service)}


def run_api(command: list[str], env: dict[str, str], cwd: Path, patient: str) -> None:
    port = free_port()
    args = [a if a != "0.0.0.0" else "127.0.0.1" for a in command] + ["--port", str(port)]
    keys = read_api_keys_file(Path(env["JOURNEY_API_KEYS_FILE"]))
    key = next(k.split("=", 1)[0] for k in keys.split(";") if k.endswith(":clinician"))
    server = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz", key, server)
        assert health == {"status": "ok"}
        view = get(f"http://127.0.0.1:{port}/v1/patients/{patient}/journey", key)
        assert view["patient_id"] == patient
        with pytest.raises(urllib.error.HTTPError) as refused:
            get(f"http://127.0.0.1:{port}/v1/patients/{patient}/journey", "not-a-key")
        assert refused.value.code == 401
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert "no API keys are configured" not in output, output


def get(url: str, key: str) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, Any] = json.loads(response.read())
        return body


def wait_for(url: str, key: str, server: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the api exited with {server.returncode}: {server.communicate()[0]}")
        try:
            return get(url, key)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    pytest.fail(f"no answer from {url} within 60 s")


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [*command, "--once"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_each_service_starts_with_the_compose_environment(
    fresh_postgres_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    services = our_services()
    assert list(services) == ["api", "relay", "projector"]  # a new service needs a runner here
    local = Local(fresh_postgres_url, kafka_bootstrap, tmp_path)
    app = build_application(Settings(database_url=fresh_postgres_url))
    try:
        stored = load(app, cohort_lines(120, patients=4, prefix="compose"))
        patient = app.recorder.select_notifications(start=1, limit=1)[0].originator_id
    finally:
        app.close()
    try:
        run_services(services, local, tmp_path, stored, str(patient))
    finally:
        local.delete_topics()


def run_services(
    services: dict[str, dict[str, Any]], local: Local, cwd: Path, stored: int, patient: str
) -> None:
    for name, service in services.items():
        env = local.process_env(service)
        assert "JOURNEY_AUTH" not in env  # authentication stays on, as deployed
        command = [str(c) for c in service["command"]]
        if name == "api":
            run_api(command, env, cwd, patient)
        elif name == "relay":
            out = run_once(command, {**env, **local.isolation()}, cwd)
            assert f"published {stored} events" in out, out
        else:
            out = run_once(command, {**env, **local.isolation()}, cwd)
            assert f"projected {stored} events from the kafka" in out, out
