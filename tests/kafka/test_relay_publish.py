"""The relay on a real broker: commands in through the application, `relay --once` in
process, then both topics read back with kafka-python and with kcat (librdkafka)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

import pytest
from publishing.contracts import event_versions
from publishing.relay import Relay, RelayConfig
from publishing.topics import TopicNames

from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from tests.kafka.helpers import (
    Message,
    cohort_lines,
    load,
    read_topic,
    read_with_kcat,
)

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


def relay_once(app: JourneyApplication, bootstrap: str, topics: TopicNames) -> Relay:
    relay = Relay(app, RelayConfig(bootstrap=bootstrap, topics=topics, batch_size=300))
    report = relay.run(once=True)
    assert report.lag is not None
    assert report.lag.behind == 0
    return relay


def check_events(app: JourneyApplication, messages: list[Message], stored: int) -> None:
    notifications = app.recorder.select_notifications(start=1, limit=stored + 10)
    expected = {to_envelope(app.mapper.to_domain_event(n)).event_id for n in notifications}  # type: ignore[arg-type]
    assert len(messages) == stored == len(expected)
    assert {m.headers["ce_id"] for m in messages} == expected  # each event exactly once
    by_patient: dict[str, list[Message]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition, m.offset)):
        by_patient[m.key].append(m)
    for patient, stream in by_patient.items():
        assert len({m.partition for m in stream}) == 1  # key -> one partition
        assert [int(m.headers["ce_sequence"]) for m in stream] == list(range(1, len(stream) + 1))
        for m in stream:
            assert m.headers["ce_specversion"] == "1.0"
            assert m.headers["ce_subject"] == patient == m.value["patient_id"]
            assert m.headers["ce_id"] == m.value["event_id"]
            name = m.value["payload"]["type"]  # type: ignore[index]
            assert m.headers["ce_type"] == f"org.carejourney.{name}.v{event_versions()[name]}"
            assert m.headers["content-type"] == "application/json"


def check_state(app: JourneyApplication, state: list[Message]) -> None:
    latest: dict[str, Message] = {}
    for m in sorted(state, key=lambda m: (m.partition, m.offset)):
        latest[m.key] = m
    for patient, m in latest.items():
        history = app.history(patient)
        assert m.value["last_event_version"] == len(history)
        assert m.value["last_event_id"] == history[-1].event_id
        assert m.value["status"] in {"active", "discharged"}
        assert m.value["days_in_care"] == sum(m.value["days_by_level"].values())  # type: ignore[union-attr]


def test_every_event_once_in_order_with_cloudevents_headers(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(500, patients=20))
    topics = private_topics("publish")
    relay_once(app, kafka_bootstrap, topics)
    events = read_topic(kafka_bootstrap, topics.events)
    check_events(app, events, stored)
    check_state(app, read_topic(kafka_bootstrap, topics.state))
    # an independent client (librdkafka) sees the very same records
    kcat = read_with_kcat(kafka_bootstrap, topics.events)
    seen = {(r["partition"], r["offset"]): r for r in kcat}
    assert len(kcat) == len(events)
    for m in events:
        record = seen[(m.partition, m.offset)]
        assert record["key"] == m.key
        payload = record["payload"]
        assert (json.loads(payload) if isinstance(payload, str) else payload) == m.value
        assert _kcat_headers(record)["ce_id"] == m.headers["ce_id"]


def test_new_commands_are_published_by_the_next_run(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    lines = cohort_lines(400, patients=10, seed=5)
    first = load(app, lines[:250])
    topics = private_topics("resume")
    relay_once(app, kafka_bootstrap, topics)
    assert len(read_topic(kafka_bootstrap, topics.events)) == first
    second = load(app, lines[250:])
    relay = relay_once(app, kafka_bootstrap, topics)
    assert relay.position.lag().position == first + second
    check_events(app, read_topic(kafka_bootstrap, topics.events), first + second)
    check_state(app, read_topic(kafka_bootstrap, topics.state))


def _kcat_headers(record: dict[str, object]) -> dict[str, str]:
    headers = record.get("headers") or {}
    if isinstance(headers, list):  # older kcat: [name, value, name, value, ...]
        return dict(zip(headers[::2], headers[1::2], strict=True))
    assert isinstance(headers, dict)
    return headers
