"""Kafka helpers for the projector tests: a fresh topic per test, records produced from a
store's notification log with the relay's record format (`publishing.cloudevents`)."""

from __future__ import annotations

import uuid
from contextlib import closing

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from publishing.cloudevents import event_record

from consumers.projector import KafkaProjector, make_consumer, run_projector
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.envelopes import to_envelope


def new_topic(bootstrap: str, partitions: int = 3) -> str:
    name = f"rm-test-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name


def produce_log(app: JourneyApplication, bootstrap: str, topic: str, start: int = 1) -> int:
    """Sends the log's events from notification `start` on, keyed by patient; returns count."""
    notifications = app.recorder.select_notifications(start=start, limit=1_000_000)
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    try:
        for notification in notifications:
            record = event_record(to_envelope(app.mapper.to_domain_event(notification)))
            producer.send(topic, key=record.key, value=record.value, headers=record.headers)
        producer.flush()
    finally:
        producer.close()
    return len(notifications)


def share_pseudonym_key(source: str, target: str) -> None:
    """Gives the read-model store `target` the plain event store's pseudonym key (the
    operator's step when the read models live in another database): same pseudonyms."""
    with closing(connect(source)) as db, db.transaction() as unit:
        row = unit.one("SELECT value FROM journey_meta WHERE name = 'pseudonym_key'")
    assert row is not None
    with closing(connect(target)) as db, db.transaction() as unit:
        unit.execute(
            "CREATE TABLE IF NOT EXISTS journey_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        unit.execute(
            "INSERT INTO journey_meta (name, value) VALUES ('pseudonym_key', ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (row[0],),
        )


def project_once(url: str, bootstrap: str, topic: str, group: str, batch_size: int = 500) -> int:
    """Runs the Kafka projector in-process until caught up; returns the records it read."""
    db, consumer = connect(url), make_consumer(bootstrap, group)
    try:
        projector = KafkaProjector(consumer, db, topic, group, batch_size)
        return run_projector(projector, once=True)
    finally:
        consumer.close()
        db.close()
