"""Pipelined publishing (publishing.relay): a batch is sent while earlier ones wait for their
acknowledgement, and the position, the anchor heads' event counts and the report move only
in acknowledgement order. A batch that fails in the middle of the pipeline holds the position
at the batch before it, and the next attempt sends again from there: nothing is lost, each
anchor head still counts the events up to its position, and a patient's events still first
arrive in version order.

The failure is real: the failing batch carries one more record, for a topic whose
`max.message.bytes` is smaller than that record, and the broker refuses it."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from audit.verification import anchor_at, anchored
from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from publishing import publisher as publisher_module
from publishing import relay as relay_module
from publishing.anchor_head import AnchorHead
from publishing.publisher import InFlight, Publisher, PublishFailed, Wire
from publishing.relay import Relay, RelayConfig
from publishing.topics import TopicNames, ensure_topics
from tests.kafka.helpers import cohort_lines, load, read_records, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
LIMIT = 1024  # the poison topic's max.message.bytes


@pytest.fixture
def poison_topic(kafka_bootstrap: str) -> Iterator[str]:
    """A topic that refuses any record larger than LIMIT bytes."""
    name = f"test.poison.{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": str(LIMIT)})])
        yield name
        admin.delete_topics([name])
    finally:
        admin.close()


class Watched:
    """Publishers the relay makes, each a real Publisher whose `poison_at`-th send (counted
    over all of them) also sends a record the broker refuses."""

    def __init__(self, poison: str, poison_at: int) -> None:
        self.poison, self.poison_at = poison, poison_at
        self.sends = 0
        self.flights: list[InFlight] = []

    def make(self, bootstrap: str, **options: Any) -> Publisher:
        watched = self

        class Poisoning(Publisher):
            def send(self, records: Sequence[Wire]) -> InFlight:
                watched.sends += 1
                if watched.sends == watched.poison_at:
                    records = [*records, (watched.poison, b"x", b"x" * (4 * LIMIT), [])]
                flight = super().send(records)
                watched.flights.append(flight)
                return flight

        return Poisoning(bootstrap, **options)


@pytest.fixture
def poisoning(poison_topic: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[int], Watched]:
    """Makes the relays of the test publish through Watched publishers poisoning the n-th
    send."""

    def make(poison_at: int) -> Watched:
        watched = Watched(poison_topic, poison_at)
        monkeypatch.setattr(relay_module, "Publisher", watched.make)
        return watched

    return make


def first_arrivals_in_order(bootstrap: str, topic: str) -> dict[str, int]:
    """Each patient's events, by the first arrival of each ce_sequence: in version order
    (duplicates of a re-sent batch may follow). Returns the events per patient."""
    seen: dict[str, list[int]] = {}
    for message in read_topic(bootstrap, topic):
        sequence = int(message.headers["ce_sequence"])
        mine = seen.setdefault(message.key, [])
        if sequence not in mine:
            mine.append(sequence)
    for patient, sequences in seen.items():
        assert sequences == list(range(1, len(sequences) + 1)), patient
    return {patient: len(sequences) for patient, sequences in seen.items()}


def check_heads(app: JourneyApplication, bootstrap: str, topic: str) -> int:
    """Every published head names its position's running hash and the events up to it."""
    heads = [AnchorHead.model_validate(r.value) for r in read_topic(bootstrap, topic)]
    for head in heads:
        anchor = anchor_at(app, head.position)
        assert anchor is not None and anchor.running_hash == head.running_hash
        assert head.events == anchored(app).count_anchors(head.position), head
    return len(heads)


def check_published(app: JourneyApplication, bootstrap: str, topics: TopicNames) -> None:
    head = app.recorder.max_notification_id() or 0
    notifications = app.recorder.select_notifications(start=1, limit=head + 1)
    expected = {to_envelope(app.mapper.to_domain_event(n)).event_id for n in notifications}  # type: ignore[arg-type]
    ids = {dict(r.headers)["ce_id"].decode() for _, r in read_records(bootstrap, topics.events)}
    assert ids == expected  # nothing lost
    counts = first_arrivals_in_order(bootstrap, topics.events)
    assert sum(counts.values()) == len(expected)
    assert check_heads(app, bootstrap, topics.anchors) >= 1


def wait_drained(relay: Relay) -> None:
    deadline = time.monotonic() + 60
    while relay.position.lag().behind or relay.report.batches == 0:
        assert time.monotonic() < deadline, "the relay did not drain the lag"
        time.sleep(0.02)


def test_a_batch_failing_between_two_in_flight_holds_the_position(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
    poisoning: Callable[[int], Watched],
) -> None:
    app = make_app()
    lines = cohort_lines(120, patients=6, seed=21)
    topics = private_topics("pipeline")
    watched = poisoning(2)
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics, batch_size=200, delivery_timeout_s=10))

    sent = []
    for part in (lines[:40], lines[40:80], lines[80:]):  # three small batches of a relay keeping up
        load(app, part)
        sent.append(relay._send_next())
    assert sent == [40, 40, 40]
    assert len(relay._in_flight) == 3  # sent before any acknowledgement was taken
    first_end = relay._in_flight[0].prepared.end
    with pytest.raises(PublishFailed, match="MessageSizeTooLarge"):
        relay._confirm(wait_s=20, everything=True)
    assert relay.position.get() == first_end  # the first batch counted, not the ones after
    assert relay.report.batches == relay.report.heads == 1
    assert watched.flights[2].wait(20)  # settled (kafka-python aborts it with the second)

    relay._failed(PublishFailed("the second batch"), 0.0)
    report = relay.run(once=True)
    assert report.lag is not None and report.lag.behind == 0
    assert report.failures == 1
    check_published(app, kafka_bootstrap, topics)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_running_relay_recovers_from_a_failure_mid_pipeline(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
    poisoning: Callable[[int], Watched],
) -> None:
    """Commands arrive one by one while the relay runs (small batches, several in flight);
    the fifth batch fails; the relay backs off, sends again and drains the lag."""
    app = make_app()
    lines = cohort_lines(300, patients=10, seed=22)
    topics = private_topics("pipeline-run")
    poisoning(5)
    config = RelayConfig(
        kafka_bootstrap, topics, batch_size=100, backoff_initial_s=0.1, delivery_timeout_s=10
    )
    relay = Relay(app, config)
    stop = threading.Event()
    runner = threading.Thread(target=relay.run, kwargs={"stop": stop})
    runner.start()
    try:
        load(app, lines[:1])
        wait_drained(relay)  # connected and caught up: the rest arrives while it runs
        for line in lines[1:]:
            load(app, [line])
            time.sleep(0.003)
        wait_drained(relay)
    finally:
        stop.set()
        runner.join(timeout=60)
    assert relay.report.failures == 1 and relay.report.batches > 5
    assert relay.position.lag().behind == 0
    check_published(app, kafka_bootstrap, topics)


def test_send_does_not_wait_for_linger(
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
    poison_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch goes out at once even with a minute of `linger_ms` (the publisher's flushing
    thread), and a refused record fails its batch's InFlight with the broker's error."""
    config = publisher_module.producer_config
    monkeypatch.setattr(
        publisher_module,
        "producer_config",
        lambda bootstrap, **kw: {**config(bootstrap, **kw), "linger_ms": 60_000},
    )
    topics = private_topics("linger")
    ensure_topics(kafka_bootstrap, topics)
    topic = topics.events
    publisher = Publisher(kafka_bootstrap, delivery_timeout_s=120)  # > linger + request
    try:
        publisher.connect([topic, poison_topic])
        began = time.monotonic()
        flight = publisher.send([(topic, b"k", b"v", [])])
        assert flight.wait(15) and time.monotonic() - began < 10
        flight.raise_failure()
        refused = publisher.send([(topic, b"k", b"v", []), (poison_topic, b"k", b"x" * 4096, [])])
        assert refused.wait(15)
        with pytest.raises(PublishFailed, match="MessageSizeTooLarge"):
            refused.raise_failure()
    finally:
        publisher.close()


def test_no_more_than_a_batch_of_notifications_waits_for_acknowledgement(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    """What a crash may re-publish stays bounded: a batch that would take the unacknowledged
    notifications beyond `batch_size` is sent only once the earlier ones are acknowledged."""
    app = make_app()
    lines = cohort_lines(120, patients=6, seed=23)
    topics = private_topics("pipeline-bound")
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics, batch_size=100, delivery_timeout_s=10))
    in_flight = []
    for part in (lines[:40], lines[40:80], lines[80:]):
        load(app, part)
        relay._send_next()
        in_flight.append(len(relay._in_flight))
    assert in_flight == [1, 2, 1]  # 40 + 40 + 40 > 100: the first two acknowledged first
    assert relay.position.get() == relay._in_flight[0].prepared.start - 1
    relay._confirm(wait_s=20, everything=True)
    assert relay.position.lag().behind == 0
