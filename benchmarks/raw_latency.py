"""The limit next to bench_relay's latency: the same event records sent by a raw
kafka-python producer (the relay's producer settings) at the same offered rate, to the
same kind of consumer process, in this process instead of a relay's.

Every record due by the time the previous group was flushed is sent, then flushed, as a
relay that keeps up sends its small batches. Latency = the record's first arrival at the
consumer - the moment its group was handed to the producer: Kafka's own share of the
relay's latency on this machine (client, broker, consumer fetch), with no store, no
relay poll and no preparing."""

from __future__ import annotations

import multiprocessing
import time

from kafka import KafkaProducer

from benchmarks.relay_latency import (
    DRAIN_S,
    SETTLE_S,
    Stamps,
    by_second,
    due_groups,
    report,
    stamp_arrivals,
)
from publishing.publisher import producer_config
from publishing.relay_batch import Outgoing


def measure_raw_latency(
    bootstrap: str, events_topic: str, records: list[Outgoing], load: tuple[float, float]
) -> None:
    seconds, rate = load
    context = multiprocessing.get_context("spawn")
    ready, stop, out = context.Event(), context.Event(), context.Queue()
    consumer = context.Process(
        target=stamp_arrivals, args=(bootstrap, events_topic, ready, stop, out)
    )
    consumer.start()
    ready.wait(60)
    producer = KafkaProducer(**producer_config(bootstrap))
    producer.partitions_for(events_topic)  # connected, as the relay is before its first event
    time.sleep(SETTLE_S)
    stamps = send_grouped(producer, events_topic, records[: int(seconds * rate)], rate)
    time.sleep(DRAIN_S)
    stop.set()
    arrived: dict[str, float] = out.get(timeout=60)
    consumer.join()
    producer.close()
    title = "limit: the same event records, raw kafka-python producer -> the same consumer"
    report(stamps, arrived, rate, title)
    by_second(stamps.accepted, arrived, stamps.start)


def send_grouped(
    producer: KafkaProducer, topic: str, records: list[Outgoing], rate: float
) -> Stamps:
    stamps = Stamps(start=time.perf_counter())
    for group in due_groups(stamps, len(records), rate, float("inf")):
        handed = time.perf_counter()
        futures = []
        for index in group:
            record = records[index].record
            ce_id = dict(record.headers)["ce_id"].decode()
            stamps.accepted[ce_id] = handed
            stamps.offered[ce_id] = stamps.start + index / rate
            futures.append(
                producer.send(topic, key=record.key, value=record.value, headers=record.headers)
            )
        producer.flush()
        for future in futures:
            future.get(timeout=0)
    return stamps
