"""The records decoded by the official CloudEvents Python SDK (PyPI `cloudevents`, its Kafka
binding `cloudevents.core.bindings.kafka`, binary content mode): every record the relay
builds for a demo cohort, in process, and the same records read back from the real broker.
Also: `ce_sequence` strings sort as the versions do (the sequence extension) and
`partitionkey` is the patient id, the record key (the partitioning extension)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pytest
from cloudevents.core.base import BaseCloudEvent
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat

from consumers.log_reader import LogReader
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from publishing.cloudevents import SOURCE, ce_sequence
from publishing.contracts import event_versions
from publishing.history_cache import HistoryCache
from publishing.relay import Relay, RelayConfig
from publishing.relay_batch import build_batch
from publishing.state_summary import SUMMARY_VERSION
from publishing.topics import TopicNames
from tests.kafka.helpers import cohort_lines, load, read_records

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
SEQUENCE = "sequence"


def decode(key: bytes, value: bytes, headers: Iterable[tuple[str, bytes]]) -> BaseCloudEvent:
    message = KafkaMessage(headers=dict(headers), key=key, value=value)
    return from_binary(message, JSONFormat())


def check_event(event: BaseCloudEvent, value: bytes, summary: bool) -> None:
    data = event.get_data()
    assert isinstance(data, dict)
    assert data == json.loads(value)
    patient = data["patient_id"]
    assert event.get_specversion() == "1.0"
    assert event.get_source() == SOURCE
    assert event.get_subject() == patient
    assert event.get_extension("partitionkey") == patient
    assert event.get_datacontenttype() == "application/json"
    assert isinstance(event.get_time(), datetime)
    assert event.get_time().tzinfo is not None  # type: ignore[union-attr]
    sequence = event.get_extension(SEQUENCE)
    if summary:
        assert event.get_type() == f"org.carejourney.JourneySummary.v{SUMMARY_VERSION}"
        assert sequence == ce_sequence(data["last_event_version"])
    else:
        assert event.get_id() == data["event_id"]
        version = event_versions()[data["payload"]["type"]]
        assert event.get_type() == f"org.carejourney.{data['payload']['type']}.v{version}"
        assert sequence == ce_sequence(data["version"])


def check_sequences(events: list[BaseCloudEvent]) -> None:
    """Per patient, in record order: the strings increase exactly as the numbers do."""
    by_patient: dict[str, list[str]] = {}
    for event in events:
        by_patient.setdefault(event.get_subject() or "", []).append(event.get_extension(SEQUENCE))
    assert len(by_patient) > 1
    for sequences in by_patient.values():
        assert sequences == sorted(sequences, key=int)
    every = [s for seqs in by_patient.values() for s in seqs]
    assert sorted(every) == sorted(every, key=int)
    assert any(len(str(int(s))) > 1 for s in every)  # "9" vs "10" was the broken case


def relay_records(app: JourneyApplication) -> list[tuple[str, bytes, bytes, list[Any]]]:
    page = LogReader(app, batch=100_000).page(1)
    histories = HistoryCache(lambda pid, v: [to_envelope(e) for e in app.events.get(pid, lte=v)])  # type: ignore[arg-type]
    batch = build_batch(page, histories, TopicNames("e", "s"))
    return [(o.topic, o.record.key, o.record.value, o.record.headers) for o in batch.records]


def read_raw(bootstrap: str, topic: str) -> list[tuple[bytes, bytes, list[Any]]]:
    return [(r.key, r.value, r.headers) for _, r in read_records(bootstrap, topic, 30.0)]


def test_ce_sequence_strings_sort_as_the_numbers() -> None:
    numbers = [*range(1, 3_000), 10**9, 2**63 - 1]
    strings = [ce_sequence(n) for n in numbers]
    assert sorted(strings) == strings
    assert {len(s) for s in strings} == {20}


def test_the_cloudevents_sdk_decodes_every_record_built_and_published(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(600, patients=12, prefix="ce"))
    built = relay_records(app)
    assert len(built) > stored
    in_process = []
    for topic, key, value, headers in built:
        event = decode(key, value, headers)
        check_event(event, value, summary=topic == "s")
        if topic == "e":
            in_process.append(event)
    assert len(in_process) == stored
    check_sequences(in_process)

    topics = private_topics("cesdk")
    Relay(app, RelayConfig(bootstrap=kafka_bootstrap, topics=topics, batch_size=250)).run(once=True)
    for topic, summary in ((topics.events, False), (topics.state, True)):
        records = read_raw(kafka_bootstrap, topic)
        assert records
        events = [decode(k, v, h) for k, v, h in records]
        for event, (key, value, _) in zip(events, records, strict=True):
            assert event.get_extension("partitionkey") == key.decode()
            check_event(event, value, summary=summary)
        if not summary:
            assert len(events) == stored
            assert {e.get_id() for e in events} == {e.get_id() for e in in_process}
            check_sequences(events)
