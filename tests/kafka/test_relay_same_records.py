"""The relay's fast path (batches prepared ahead in its worker process, the summaries'
current-week fold, headers encoded once per type) publishes exactly the records of the
plain path it replaced: the same keys, headers (names, values, order), values and order in
every partition, read back from the real broker.

The plain path is kept here as it was (commit a9efd76): each envelope's headers built as a
dict of strings, the summary's view from the whole `journey_facts` fold with its weeks
filtered afterwards, every record sent by a KafkaProducer with the default partitioner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

import pytest
from kafka import KafkaProducer

from config.settings import Settings
from consumers.log_reader import LogReader
from journey.events import EventEnvelope
from projections.calendar import iso_week_label
from projections.event_text import instant_text
from projections.facts import journey_facts
from projections.journey import journey_view
from projections.journey_view import JourneyView
from publishing.cloudevents import CONTENT_TYPE, SCHEMA_BASE, SOURCE, ce_sequence, ce_type
from publishing.history_cache import HistoryCache
from publishing.publisher import producer_config
from publishing.relay import Relay, RelayConfig
from publishing.state_summary import state_record, summarize
from publishing.topics import TopicNames, ensure_topics
from services.bootstrap import build_application
from tests.kafka.helpers import cohort_lines, load, read_records, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
BATCH = 150  # several batches: the worker prepares ahead, histories extend across batches

Record = tuple[bytes, list[tuple[str, bytes]], bytes | None]


def plain_event(envelope: EventEnvelope) -> tuple[bytes, list[tuple[str, bytes]], bytes]:
    headers = {
        "ce_specversion": "1.0",
        "ce_id": envelope.event_id,
        "ce_source": SOURCE,
        "ce_type": ce_type(envelope.type, envelope.schema_version),
        "ce_time": instant_text(envelope.occurred_at),
        "ce_subject": envelope.patient_id,
        "ce_dataschema": f"{SCHEMA_BASE}/{envelope.type}.v{envelope.schema_version}.json",
        "ce_sequence": ce_sequence(envelope.version),
        "ce_partitionkey": envelope.patient_id,
        "ce_recordedat": instant_text(envelope.recorded_at),
        "content-type": CONTENT_TYPE,
    }
    encoded = [(name, value.encode()) for name, value in headers.items()]
    return envelope.patient_id.encode(), encoded, envelope.model_dump_json().encode()


def plain_view(events: Sequence[EventEnvelope], as_of: datetime) -> JourneyView:
    facts = journey_facts(events, as_of=as_of)
    assert facts is not None
    label = iso_week_label(facts.calendar.local_date(as_of))
    return journey_view(replace(facts, weeks=[w for w in facts.weeks if w.label == label]))


def plain_records(url: str, topics: TopicNames, ends: list[int]) -> list[tuple[str, Record]]:
    """Every record the plain path built for batches ending at `ends`, in sending order."""
    app = build_application(Settings(database_url=url))
    histories = HistoryCache(lambda patient_id, version: [], max_patients=10**6)
    out: list[tuple[str, Record]] = []
    reader = LogReader(app, batch=BATCH)
    try:
        for start, end in zip([1, *(e + 1 for e in ends)], ends, strict=False):
            page = reader.page(start, end)
            assert page.end == end
            by_patient: dict[str, list[EventEnvelope]] = {}
            for envelope in page.events:
                out.append((topics.events, plain_event(envelope)))
                by_patient.setdefault(envelope.patient_id, []).append(envelope)
            for patient_id, new in by_patient.items():
                history = histories.extended(patient_id, new)
                summary = state_record(summarize(history, plain_view))
                out.append((topics.state, (summary.key, summary.headers, summary.value)))
            assert not page.erased
    finally:
        app.close()
    return out


def send_plain(bootstrap: str, records: list[tuple[str, Record]]) -> None:
    """With the default partitioner (the plain path did not choose partitions itself)."""
    producer = KafkaProducer(**producer_config(bootstrap))
    try:
        for topic, (key, headers, value) in records:
            producer.send(topic, key=key, value=value, headers=headers)
        producer.flush(timeout=60)
    finally:
        producer.close()


def by_partition(bootstrap: str, topic: str) -> dict[int, list[Record]]:
    out: dict[int, list[Record]] = {}
    for partition, r in read_records(bootstrap, topic, timeout_s=10.0):
        out.setdefault(partition, []).append((r.key, list(r.headers), r.value))
    return out


def test_fast_path_publishes_the_plain_paths_records_byte_for_byte(
    store_url: str, kafka_bootstrap: str, private_topics: Callable[[str], TopicNames]
) -> None:
    """Catching up (full pages: the worker), then keeping up (a short page: inline), then
    behind again (inline, then the worker): each side's cached histories fall behind."""
    url = store_url  # SQLite and PostgreSQL: the worker opens the store itself
    settings = Settings(database_url=url)
    app = build_application(settings)
    lines = cohort_lines(1200, patients=12, seed=5)
    first = stored = load(app, lines[:500])
    fast, plain = private_topics("fast"), private_topics("plain")
    ensure_topics(kafka_bootstrap, plain)
    relay = Relay(app, RelayConfig(kafka_bootstrap, fast, batch_size=BATCH), settings)
    while relay.step():  # 150, 150, 150, then a short page
        pass
    stored += load(app, lines[500:])
    report = relay.run(once=True)
    app.close()
    assert report.events == stored
    assert report.batches == -(-first // BATCH) + -(-(stored - first) // BATCH)
    ends = [int(m.value["position"]) for m in read_topic(kafka_bootstrap, fast.anchors)]  # type: ignore[call-overload]
    assert len(ends) == report.heads == report.batches and ends[-1] == stored
    send_plain(kafka_bootstrap, plain_records(url, plain, ends))
    for fast_topic, plain_topic in ((fast.events, plain.events), (fast.state, plain.state)):
        published, expected = (
            by_partition(kafka_bootstrap, fast_topic),
            by_partition(kafka_bootstrap, plain_topic),
        )
        assert sum(map(len, expected.values())) > 0
        assert published == expected, fast_topic
