"""A reference downstream consumer of care-journey.events.v1 (kafka-python), for the README.

Run: python -m consumers.example_downstream [bootstrap servers]

Importing this module connects to nothing; `main()` does."""

from __future__ import annotations

import sys
from collections.abc import Callable

from kafka import KafkaConsumer

TOPIC = "care-journey.events.v1"
DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


def connect(
    bootstrap_servers: str, topic: str = TOPIC, group_id: str = "billing", idle_ms: float = -1
) -> KafkaConsumer:
    """A consumer of `topic`; with `idle_ms` >= 0 its iteration ends after that much silence."""
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        isolation_level="read_committed",
        enable_auto_commit=False,  # commit after handling: at least once
        auto_offset_reset="earliest",
        consumer_timeout_ms=idle_ms if idle_ms >= 0 else float("inf"),
    )


def consume(consumer: KafkaConsumer, seen: set[str], handle: Callable[[str, str], None]) -> None:
    """Hands each event (type, subject) to `handle` once: delivery is at least once, so
    records are deduplicated by ce_id (`seen`; a real consumer keeps it durably)."""
    for record in consumer:
        headers = {name: value.decode() for name, value in record.headers}
        if headers["ce_id"] not in seen:
            seen.add(headers["ce_id"])
            handle(headers["ce_type"], headers["ce_subject"])
        consumer.commit()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    consumer = connect(args[0] if args else DEFAULT_BOOTSTRAP)
    try:
        consume(consumer, set(), lambda kind, subject: print(kind, subject, flush=True))
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
