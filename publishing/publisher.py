"""Sends records (`send`) and waits until the broker acknowledged every one of them
(`confirm`: the relay records its position only after it).

Producer settings (shared with the raw-producer benchmark): kafka-python 3 defaults for
delivery guarantees (idempotence on, acks=all, unlimited retries, at most 5 in flight; none
of these is set here, since setting acks=1, retries=0 or more in flight turns idempotence
off), plus batching for throughput (`linger_ms`, `batch_size`) and bounded waits so an
unreachable broker surfaces as `PublishFailed` instead of blocking forever. With
`linger_ms` 5, the event records a relay keeping up sends before computing its summaries
leave once the linger expires and the producer's thread gets the interpreter lock (the
switch interval, 5 ms), not only after the summaries, however long they take. `linger_ms`
0 was measured in turns against it: the same throughput, and no lower latency
(docs/benchmarks.md, sixth pass).

Every record batch carries a CRC-32C. kafka-python computes it in C when the `crc32c`
package is installed (the `kafka-python[crc32c]` this project depends on), else in pure
Python, which took most of a core at 1,000 records/s here: `checksums_in_c` says which,
and each publisher started without it logs a warning (a relay retrying after a failure
starts a new one)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2
from kafka.record import util as record_util

log = logging.getLogger(__name__)
# (topic, key, value, headers): one record as `publish` takes it
Wire = tuple[str, bytes, bytes | None, list[tuple[str, bytes]]]
PARTITION_CACHE_SIZE = 200_000


class PublishFailed(RuntimeError):
    """Some record of the batch was not acknowledged: nothing may be recorded as published."""


def producer_config(bootstrap: str, *, delivery_timeout_s: float = 30.0) -> dict[str, Any]:
    timeout_ms = int(delivery_timeout_s * 1000)
    return {
        "bootstrap_servers": bootstrap,
        "client_id": "care-journey-relay",
        "linger_ms": 5,  # see the module docstring
        "batch_size": 256 * 1024,
        "max_block_ms": min(10_000, timeout_ms // 2),  # send() metadata wait, broker down
        "bootstrap_timeout_ms": min(10_000, timeout_ms // 2),  # the constructor's first connect
        "request_timeout_ms": min(10_000, timeout_ms // 2),  # must be < delivery - linger
        "delivery_timeout_ms": timeout_ms,
        "reconnect_backoff_max_ms": 2_000,
    }


def checksums_in_c() -> bool:
    """Whether kafka-python checksums record batches in C (`crc32c`), not in Python."""
    return record_util.crc32c_c is not None


class Publisher:
    def __init__(self, bootstrap: str, *, delivery_timeout_s: float = 30.0) -> None:
        if not checksums_in_c():
            log.warning(
                "kafka-python computes CRC-32C in pure Python (package crc32c missing):"
                " install kafka-python[crc32c], or publishing costs many times the CPU"
            )
        self._timeout_s = delivery_timeout_s
        self._producer = KafkaProducer(
            **producer_config(bootstrap, delivery_timeout_s=delivery_timeout_s)
        )
        self._partition_of: dict[tuple[str, bytes], int] = {}

    def connect(self, topics: Sequence[str]) -> None:
        """Fetches the topics' partitions (and so connects to the broker) before the first
        record, which would otherwise wait for them. Raises PublishFailed.

        The topics are asked for at once, one thread each: kafka-python refreshes its
        metadata at most every `retry_backoff_ms` (100 ms), so asked for one after the other
        three topics took 0.31 s here, and at once 0.10 s (docs/benchmarks.md, seventh
        pass). A relay that starts or restarts after a failure waits that long."""
        try:
            with ThreadPoolExecutor(max(1, len(topics)), "publisher-connect") as pool:
                for found in [pool.submit(self._producer.partitions_for, t) for t in topics]:
                    found.result()
        except KafkaError as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def send(self, records: Sequence[Wire]) -> list[Any]:
        """Hands the records to the producer (its thread sends them, after `linger_ms`) and
        returns their futures, for `confirm`. Raises PublishFailed."""
        send, partition = self._producer.send, self._partition
        try:
            return [
                send(topic, key=key, value=value, headers=headers, partition=partition(topic, key))
                for topic, key, value, headers in records
            ]
        except KafkaError as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def confirm(self, futures: Sequence[Any]) -> None:
        """Flushes, and raises PublishFailed unless every future's record was acknowledged."""
        try:
            self._producer.flush(timeout=self._timeout_s + 5)
            for future in futures:
                future.get(timeout=0)
        except KafkaError as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def _partition(self, topic: str, key: bytes) -> int:
        """The default partitioner's choice (murmur2 of the key, as Java clients), computed
        once per patient and topic instead of once per record. A new producer (restart,
        retry) re-reads the partition count."""
        found = self._partition_of.get((topic, key))
        if found is None:
            if len(self._partition_of) >= PARTITION_CACHE_SIZE:
                self._partition_of.clear()
            partitions = sorted(self._producer.partitions_for(topic))
            found = partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]
            self._partition_of[(topic, key)] = found
        return found

    def close(self, timeout_s: float = 5.0) -> None:
        try:
            self._producer.close(timeout=timeout_s)
        except KafkaError as error:  # unsent records are re-sent from the recorded position
            log.warning("producer closed with unsent records: %s", error)
