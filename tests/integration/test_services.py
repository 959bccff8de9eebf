"""The real services the integration tests run against: PostgreSQL 15 and Kafka (KRaft).

Uses the `postgres_url`, `fresh_postgres_url` and `kafka_bootstrap` fixtures of
tests/fixtures_infra.py; kcat (librdkafka) reads the topic as an independent client.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid

import psycopg
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic


@pytest.mark.postgres
def test_postgres_is_version_15(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT version(), current_setting('server_version_num')").fetchone()
    assert row is not None
    assert str(row[0]).startswith("PostgreSQL 15"), row[0]
    assert int(row[1]) // 10000 == 15


@pytest.mark.postgres
def test_fresh_database_is_empty_and_private(postgres_url: str, fresh_postgres_url: str) -> None:
    assert fresh_postgres_url != postgres_url
    with psycopg.connect(fresh_postgres_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        assert tables == (0,)
        conn.execute("CREATE TABLE probe (id int PRIMARY KEY)")
        conn.execute("INSERT INTO probe VALUES (1)")
    with psycopg.connect(fresh_postgres_url) as conn:
        assert conn.execute("SELECT id FROM probe").fetchall() == [(1,)]


def _create_topic(bootstrap: str, topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30_000)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()


def _consume_one(bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[tuple[bytes, bytes]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        consumer_timeout_ms=1_000,
    )
    got: list[tuple[bytes, bytes]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while not got and time.monotonic() < deadline:
            got.extend((rec.key, rec.value) for rec in consumer)
    finally:
        consumer.close()
    return got


@pytest.mark.kafka
def test_kafka_round_trip_with_kafka_python_and_kcat(kafka_bootstrap: str) -> None:
    topic = f"journey.test.roundtrip.{uuid.uuid4().hex[:8]}"
    _create_topic(kafka_bootstrap, topic)
    value = json.dumps({"patient": "p-1", "event": "EpisodeOpened"}).encode()

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        meta = producer.send(topic, key=b"p-1", value=value, headers=[("ce_type", b"t")]).get(30)
    finally:
        producer.close()
    assert (meta.topic, meta.offset) == (topic, 0)

    assert _consume_one(kafka_bootstrap, topic) == [(b"p-1", value)]

    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is not installed: apt-get install -y kcat"
    out = subprocess.run(
        [kcat, "-b", kafka_bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [(r["key"], r["payload"], r["offset"]) for r in records] == [("p-1", value.decode(), 0)]
