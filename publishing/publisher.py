"""Sends a batch of records and waits until the broker acknowledged every one of them.

Producer settings (shared with the raw-producer benchmark): kafka-python 3 defaults for
delivery guarantees (idempotence on, acks=all, unlimited retries, at most 5 in flight; none
of these is set here, since setting acks=1, retries=0 or more in flight turns idempotence
off), plus batching for throughput (`linger_ms`, `batch_size`) and bounded waits so an
unreachable broker surfaces as `PublishFailed` instead of blocking forever.

`send` hands a batch to the producer and returns at once with its `InFlight`, so that a
relay keeping up can send the next batch while this one waits for its acknowledgement.
A thread of the publisher calls the producer's `flush` whenever records were sent: while
it flushes, every record is sent as soon as it is handed over instead of after
`linger_ms` (kafka-python's public way of saying "send now"; the caller never waits for
records other than its own)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

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
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "max_block_ms": min(10_000, timeout_ms // 2),  # send() metadata wait, broker down
        "bootstrap_timeout_ms": min(10_000, timeout_ms // 2),  # the constructor's first connect
        "request_timeout_ms": min(10_000, timeout_ms // 2),  # must be < delivery - linger
        "delivery_timeout_ms": timeout_ms,
        "reconnect_backoff_max_ms": 2_000,
    }


class InFlight:
    """One batch handed to the producer: settled once the broker acknowledged, or failed,
    every one of its records (each record's future reports its own outcome; they are looked
    at in order, so a batch already settled costs one attribute read per record)."""

    def __init__(self, futures: Sequence[Any]) -> None:
        self._futures = futures
        self._settled = 0  # futures[:_settled] are done
        self._error: BaseException | None = None

    def wait(self, timeout_s: float) -> bool:
        """True once every record is settled (acknowledged or failed)."""
        deadline = time.monotonic() + timeout_s
        futures = self._futures
        while self._settled < len(futures):
            future = futures[self._settled]
            if not future.is_done:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                with suppress(KafkaError):  # the outcome is read from the future below
                    future.get(timeout=remaining)
                if not future.is_done:
                    return False
            if future.exception is not None and self._error is None:
                self._error = future.exception
            self._settled += 1
        return True

    def raise_failure(self) -> None:
        """Raises PublishFailed unless every record was acknowledged (call once settled)."""
        if self._settled < len(self._futures):
            raise PublishFailed("records not yet acknowledged")
        if self._error is not None:
            raise PublishFailed(f"{type(self._error).__name__}: {self._error}") from self._error


class _Flusher:
    """Calls the producer's flush, in a thread of its own, whenever records were sent."""

    def __init__(self, producer: KafkaProducer, timeout_s: float) -> None:
        self._producer, self._timeout_s = producer, timeout_s
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="relay-flush", daemon=True)
        self._thread.start()

    def kick(self) -> None:
        self._wanted.set()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout=self._timeout_s)

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            if self._stopping:
                return
            self._wanted.clear()
            try:
                self._producer.flush(timeout=self._timeout_s)
            except KafkaError as error:  # each record's own future carries its failure
                log.debug("flush ended early: %s", error)


class Publisher:
    def __init__(self, bootstrap: str, *, delivery_timeout_s: float = 30.0) -> None:
        self._timeout_s = delivery_timeout_s
        self._producer = KafkaProducer(
            **producer_config(bootstrap, delivery_timeout_s=delivery_timeout_s)
        )
        self._partition_of: dict[tuple[str, bytes], int] = {}
        self._flusher = _Flusher(self._producer, delivery_timeout_s + 5)

    def connect(self, topics: Sequence[str]) -> None:
        """Fetches the topics' partitions (and so connects to the broker) before the first
        record, which would otherwise wait for them. Raises PublishFailed."""
        try:
            for topic in topics:
                self._producer.partitions_for(topic)
        except KafkaError as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error

    def send(self, records: Sequence[Wire]) -> InFlight:
        """Hands every record to the producer, sent at once; raises PublishFailed when the
        producer refuses one (broker unreachable for `max_block_ms`)."""
        send, partition = self._producer.send, self._partition
        try:
            futures = [
                send(topic, key=key, value=value, headers=headers, partition=partition(topic, key))
                for topic, key, value, headers in records
            ]
        except KafkaError as error:
            raise PublishFailed(f"{type(error).__name__}: {error}") from error
        self._flusher.kick()
        return InFlight(futures)

    def publish(self, records: Sequence[Wire]) -> None:
        """Sends every record and raises PublishFailed unless all were acknowledged."""
        flight = self.send(records)
        flight.wait(self._timeout_s + 5)
        flight.raise_failure()

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
        """Closes the producer: records still unsent after `timeout_s` fail (and are sent
        again from the recorded position by whoever sends next)."""
        try:
            self._producer.close(timeout=timeout_s)
        except KafkaError as error:
            log.warning("producer closed with unsent records: %s", error)
        finally:
            self._flusher.stop()
