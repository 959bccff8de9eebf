"""A reference downstream consumer of care-journey.events.v1 (kafka-python), for the README.

Run: python -m consumers.example_downstream [bootstrap servers]"""

import sys

from kafka import KafkaConsumer

consumer = KafkaConsumer(
    "care-journey.events.v1",
    bootstrap_servers=sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:19092",
    group_id="billing",
    isolation_level="read_committed",
    enable_auto_commit=False,  # commit after handling: at least once
    auto_offset_reset="earliest",
)
seen: set[str] = set()  # delivery is at least once: dedupe by ce_id (keep it durably)
for record in consumer:
    headers = {name: value.decode() for name, value in record.headers}
    if headers["ce_id"] not in seen:
        seen.add(headers["ce_id"])
        print(headers["ce_type"], headers["ce_subject"])
    consumer.commit()
