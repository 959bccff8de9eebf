"""A kafka-python producer left open after its topic is deleted: the CPU its process uses
while idle, in 3-second windows (the relay's producer settings, with the metadata refreshed
every 2 s instead of every 5 minutes, so it shows at once). This is why the Kafka tests
close every relay (tests/kafka/conftest.py): the fixture deletes the topics.

Run (with `make services-up`): PYTHONPATH=$PWD .venv/bin/python -m benchmarks.producer_deleted_topic
"""

from __future__ import annotations

import os
import time
import uuid

from publishing import publisher
from publishing.topics import TopicNames, delete_topics, ensure_topics


def idle_cpu(seconds: float) -> float:
    began = time.process_time()
    time.sleep(seconds)
    return time.process_time() - began


def main() -> None:
    bootstrap = os.environ["JOURNEY_TEST_KAFKA_BOOTSTRAP_SERVERS"]
    prefix = f"bench.deleted.{uuid.uuid4().hex[:8]}"
    topics = TopicNames(events=f"{prefix}.events", state=f"{prefix}.state", anchors=f"{prefix}.a")
    ensure_topics(bootstrap, topics)
    relay_config = publisher.producer_config

    def refreshed_often(bootstrap: str, **options: float) -> dict[str, object]:
        return {**relay_config(bootstrap, **options), "metadata_max_age_ms": 2000}

    publisher.producer_config = refreshed_often  # type: ignore[assignment]
    sender = publisher.Publisher(bootstrap)
    sender.connect([topics.events])
    sender.confirm(sender.send([(topics.events, b"k", b"v", [])]))
    print(f"topic kept:    CPU {idle_cpu(3):.2f} s in 3 s")
    delete_topics(bootstrap, [topics])
    for window in range(3):
        print(f"topic deleted: CPU {idle_cpu(3):.2f} s in 3 s (window {window + 1})")
    sender.close()


if __name__ == "__main__":
    main()
