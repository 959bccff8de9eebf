"""Group commit of concurrent HTTP commands (services.group_writer): the requests that wait
while a transaction is written are stored together in the next one, and every stored byte,
chain hash and anchor is what the same commands applied one at a time store. Each request
gets its own answer: a rejected one its own problem, a duplicate its 200."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from audit.verify import verify_log
from config.settings import Settings
from interfaces.api import create_app
from journey.application import JourneyApplication
from journey.commands import Command, parse_command
from journey.errors import JourneyError
from services.group_writer import GroupWriter
from tests.app.bulk_support import anchors, log_rows, snapshot_rows

KEYS = "k-clin=dr-a:clinician;k-svc=intake:service"
P = "/v1/patients"
PATIENTS = ("g-1", "g-2", "g-3")
ADMISSION = {"level": "outpatient", "occurred_at": "2026-01-01T08:00:00+00:00", "timezone": "UTC"}
Opener = Callable[..., JourneyApplication]


def session(n: int, **fields: Any) -> dict[str, Any]:
    body = {
        "session_id": f"s-{n}",
        "format": "individual",
        "approach": "cbt",
        "duration_minutes": 50,
        "occurred_at": f"2026-02-{1 + n % 27:02d}T10:{n % 60:02d}:00+00:00",
    }
    return body | fields


# (key, patient, body): 3 patients, two principals, one retried command (the same body twice),
# one session before its patient's admission (422) and one unknown patient (404).
COMMANDS: list[tuple[str, str, dict[str, Any]]] = [
    ("k-svc" if n % 4 == 0 else "k-clin", PATIENTS[n % 3], session(n)) for n in range(30)
]
COMMANDS.append(("k-clin", PATIENTS[1], session(1)))  # a retry of command 1
COMMANDS.append(("k-clin", PATIENTS[2], session(99, occurred_at="2025-06-01T10:00:00+00:00")))
COMMANDS.append(("k-clin", "g-unknown", session(98)))


def _client(app: JourneyApplication, url: str) -> Iterator[TestClient]:
    api = create_app(app, Settings(database_url=url, api_keys=KEYS))
    with TestClient(api) as client:
        for pid in PATIENTS:
            answer = client.post(f"{P}/{pid}/admissions", json=ADMISSION, headers=_key("k-clin"))
            assert answer.status_code == 201, answer.text
        yield client


def _key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


def _post(client: TestClient, key: str, pid: str, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{P}/{pid}/sessions", json=body, headers=_key(key))


def _stored_order(app: JourneyApplication) -> list[tuple[str, str]]:
    """(patient, session id) of each stored session, in the order of the log."""
    order = []
    for _, pid, version, _, _ in log_rows(app):
        payload = app.history(pid)[version - 1].payload
        if payload.type == "SessionRecorded":
            order.append((pid, payload.session_id))  # type: ignore[union-attr]
    return order


def _concurrently(
    app: JourneyApplication,
    client: TestClient,
    commands: list[tuple[str, str, dict[str, Any]]],
    grouped: int,
) -> tuple[list[httpx.Response], list[int]]:
    """Sends every command at once, each from its own thread, while the store is held until
    the `grouped` commands that reach the writer are all either in the group waiting for
    the store or queued behind it: those queued are then written together, in one group.
    The answers, and the size of each group written."""
    writer = client.app.state.writer  # type: ignore[attr-defined]
    assert isinstance(writer, GroupWriter)
    groups: list[int] = []
    handle_many = app.handle_many

    def recording(commands: Any, **options: Any) -> Any:
        groups.append(len(commands))
        return handle_many(commands, **options)

    app.handle_many = recording  # type: ignore[method-assign]
    with ThreadPoolExecutor(len(commands)) as pool:
        with app._write_lock:  # the first group waits here; the others queue behind it
            futures = [pool.submit(_post, client, *command) for command in commands]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if groups and groups[0] + len(writer._queue) == grouped:
                    break
                time.sleep(0.01)
            assert len(groups) == 1 and groups[0] + len(writer._queue) == grouped
        return [future.result() for future in futures], groups


@pytest.mark.usefixtures("frozen_clock")
def test_concurrent_requests_store_what_one_at_a_time_stores(
    two_stores: tuple[str, str], open_app: Opener
) -> None:
    grouped_url, plain_url = two_stores
    grouped = open_app(grouped_url)
    transactions = _count_saves(grouped)
    for client in _client(grouped, grouped_url):
        answers, groups = _concurrently(grouped, client, COMMANDS, len(COMMANDS))
    assert len(groups) == 2 and sum(groups) == len(COMMANDS)  # the first ones, then the rest
    assert len(transactions) == 3 + 2  # the admissions, then the two groups
    statuses = [a.status_code for a in answers]
    assert [s for i, s in enumerate(statuses[:30]) if i != 1] == [201] * 29
    assert sorted([statuses[1], statuses[30]]) == [200, 201]  # the retry is a duplicate
    late, unknown = answers[31].json(), answers[32].json()
    assert answers[31].status_code == 422 and late["errors"][0]["rule"] == "within_episode"
    assert answers[32].status_code == 404 and unknown["errors"][0]["field"] == "patient_id"
    assert answers[0].json()["status"] == "accepted"

    # the same accepted commands, one request at a time, in the order the log holds them
    plain = open_app(plain_url)
    by_session = {(pid, body["session_id"]): (key, body) for key, pid, body in COMMANDS}
    for client in _client(plain, plain_url):
        for pid, session_id in _stored_order(grouped):
            key, body = by_session[(pid, session_id)]
            assert _post(client, key, pid, body).status_code == 201
    assert log_rows(grouped) == log_rows(plain)
    assert len(log_rows(grouped)) == 3 + 30
    assert anchors(grouped) == anchors(plain)
    assert snapshot_rows(grouped) == snapshot_rows(plain)
    assert verify_log(grouped).ok


def _count_saves(app: JourneyApplication) -> list[int]:
    """Records the number of events of each transaction the application writes."""
    saves: list[int] = []
    save = app.save

    def counting(*objs: Any, **kwargs: Any) -> Any:
        recordings = save(*objs, **kwargs)
        saves.append(len(recordings))
        return recordings

    app.save = counting  # type: ignore[method-assign]
    return saves


def test_a_rejected_command_in_a_group_gets_its_own_error_and_stores_nothing(
    make_app: Opener, store_url: str
) -> None:
    app = make_app()
    for client in _client(app, store_url):
        before = len(log_rows(app))
        bad = session(5, duration_minutes=-3)  # invalid: 422, never queued
        late = session(6, occurred_at="2025-06-01T10:00:00+00:00")  # 422 in the group
        commands = [("k-clin", PATIENTS[0], session(n)) for n in (3, 4)]
        commands += [("k-clin", PATIENTS[0], late), ("k-clin", PATIENTS[0], bad)]
        commands += [("k-clin", PATIENTS[0], session(7))]
        answers, groups = _concurrently(app, client, commands, len(commands) - 1)
        assert len(groups) == 2
        assert [a.status_code for a in answers] == [201, 201, 422, 422, 201]
        rules = [a.json()["errors"][0]["rule"] for a in answers[2:4]]
        assert rules == ["within_episode", "greater_than_equal"], rules
        stored = log_rows(app)[before:]
        assert [row[1:3] for row in stored] == [(PATIENTS[0], v) for v in (2, 3, 4)]


def test_a_group_overtaken_by_another_instance_is_decided_again_and_stored_after_it(
    make_app: Opener,
) -> None:
    """Two instances on one store: the other one stores an event of the patient between
    this group's decision and its transaction; the group is decided again on the reloaded
    patient and stored after it, each command still answered on its own."""
    here, there = make_app(), make_app()
    writer = GroupWriter(here)
    admit = parse_command({"command": "admit", "patient_id": "g-1", **ADMISSION})
    here.handle(admit, recorded_by="dr-a")
    here.load_patient("g-1")  # cached here: the other instance's write makes it stale
    overtaken: list[int] = []
    save = here.save

    def overtaking_save(*objs: Any, **kwargs: Any) -> Any:
        if not overtaken:  # the other instance stores first, once
            overtaken.append(there.handle(_session_command(50), recorded_by="dr-b").version)
        return save(*objs, **kwargs)

    here.save = overtaking_save  # type: ignore[method-assign]
    commands = [_session_command(n) for n in (1, 2)]
    commands.append(_session_command(3, occurred_at="2025-06-01T10:00:00+00:00"))
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(writer.handle, c, recorded_by="dr-a") for c in commands]
    outcomes = [f.exception() or f.result() for f in futures]
    assert overtaken == [2]
    assert sorted(o.version for o in outcomes[:2]) == [3, 4]  # type: ignore[union-attr]
    assert isinstance(outcomes[2], JourneyError) and outcomes[2].issues[0].rule == "within_episode"
    stored = [(row[1], row[2]) for row in log_rows(here)]
    assert stored == [("g-1", v) for v in (1, 2, 3, 4)]
    assert verify_log(here).ok


def _session_command(n: int, **fields: Any) -> Command:
    return parse_command({"command": "record_session", "patient_id": "g-1", **session(n, **fields)})
