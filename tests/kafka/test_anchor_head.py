"""The relay publishes the anchor head to the anchors topic after each batch, and
`journey verify --all` compares the store with the latest one: a store whose tail was cut
with its anchors is consistent with itself, but shorter than the published head."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from jsonschema import Draft202012Validator

from journey.application import JourneyApplication
from journey.commands import parse_command
from publishing.anchor_head import AnchorHead, latest_head
from publishing.contracts import ROOT
from publishing.relay import Relay, RelayConfig
from publishing.relay_heads import AnchorMissing
from publishing.topics import TopicNames
from tests.audit.helpers import NOW, journey
from tests.audit.test_tamper_evidence import run
from tests.kafka.helpers import cohort_lines, load, read_records, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
NO_HEAD = "no published anchor head to compare; tail truncation cannot be detected"


def late_patient(app: JourneyApplication) -> None:
    """A patient admitted after everyone else: its events are the log's tail."""
    for command in (
        {"command": "admit", "patient_id": "late-1", "level": "detox",
         "occurred_at": "2026-10-20T10:00:00Z"},
        {"command": "record_session", "patient_id": "late-1", "session_id": "s-1",
         "format": "individual", "approach": "cbt", "duration_minutes": 50,
         "occurred_at": "2026-10-21T10:00:00Z"},
    ):  # fmt: skip
        app.handle(parse_command(command), now=NOW)


def test_verify_compares_the_store_with_the_published_head(
    make_app: Callable[..., JourneyApplication],
    store_url: str,
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(250, patients=8)) + 2
    late_patient(app)
    topics = private_topics("anchors")
    kafka = {
        "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "JOURNEY_RELAY_ANCHORS_TOPIC": topics.anchors,
    }
    before = journey(store_url, "verify", "--all", **kafka)
    assert before.returncode == 0 and f"{NO_HEAD} (none on topic {topics.anchors})" in before.stdout

    report = Relay(app, RelayConfig(kafka_bootstrap, topics, batch_size=100)).run(once=True)
    assert report.heads == report.batches == 3
    heads = read_topic(kafka_bootstrap, topics.anchors)
    schema = Draft202012Validator(json.loads((ROOT / "schemas/AnchorHead.v1.json").read_text()))
    for message in heads:
        schema.validate(message.value)
        assert message.key == app.name and message.partition == 0
    last = AnchorHead.model_validate(heads[-1].value)
    position = app.recorder.max_notification_id()
    anchor = app.recorder.select_anchors(position, 1)[0]  # type: ignore[attr-defined]
    assert (last.position, last.running_hash, last.events) == (
        position,
        anchor.running_hash,
        stored,
    )
    assert (last.patient_id, last.version) == ("late-1", 2)
    assert latest_head(kafka_bootstrap, topics.anchors, app.name) == last

    same = journey(store_url, "verify", "--all", **kafka)
    assert same.returncode == 0, same.stderr
    assert f"published head: position {position} (patient late-1 version 2" in same.stdout
    assert "matches the store" in same.stdout

    run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "late-1")
    run(store_url, "DELETE FROM audit_anchors WHERE originator_id = {p}", "late-1")
    unaware = journey(store_url, "verify", "--all")  # no Kafka: consistent with itself
    assert unaware.returncode == 0 and NO_HEAD in unaware.stdout
    cut = journey(store_url, "verify", "--all", **kafka)
    assert cut.returncode == 5, cut.stdout
    assert (
        f"BROKEN: patient late-1 version 2 (log position {position}): log is shorter than the"
        f" published head: the store ends at position {position - 2} (the tail was truncated)"
    ) in cut.stderr
    assert "published head: " in cut.stdout and "DIFFERS" in cut.stdout


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_rewritten_tail_differs_from_the_published_head(
    make_app: Callable[..., JourneyApplication],
    store_url: str,
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    load(app, cohort_lines(60, patients=3))
    late_patient(app)
    topics = private_topics("rewrite")
    Relay(app, RelayConfig(kafka_bootstrap, topics)).run(once=True)
    run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "late-1")
    run(store_url, "DELETE FROM audit_anchors WHERE originator_id = {p}", "late-1")
    again = make_app()  # SQLite hands the freed positions to new events
    late_patient(again)
    assert journey(store_url, "verify", "--all").returncode == 0
    kafka = {
        "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "JOURNEY_RELAY_ANCHORS_TOPIC": topics.anchors,
    }
    done = journey(store_url, "verify", "--all", **kafka)
    assert done.returncode == 5
    assert "the anchor differs from the published head (the log was rewritten)" in done.stderr


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_relay_does_not_vouch_for_an_unanchored_event(
    make_app: Callable[..., JourneyApplication],
    store_url: str,
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    load(app, cohort_lines(150, patients=4))
    run(store_url, "DELETE FROM audit_anchors WHERE notification_id = {p}", 100)
    topics = private_topics("unanchored")
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics, batch_size=100))
    with pytest.raises(AnchorMissing, match="no anchor at log position 100"):
        relay.run(once=True)
    assert relay.position.get() == 0
    for topic in (topics.events, topics.state, topics.anchors):  # checked before any send
        assert read_records(kafka_bootstrap, topic, timeout_s=1.0) == [], topic


def test_a_running_relay_does_not_hide_a_truncation(
    make_app: Callable[..., JourneyApplication],
    store_url: str,
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
) -> None:
    app = make_app()
    load(app, cohort_lines(60, patients=3))
    late_patient(app)
    topics = private_topics("hide")
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics))
    relay.step()
    published = latest_head(kafka_bootstrap, topics.anchors, app.name)
    assert published is not None
    run(store_url, "DELETE FROM {table} WHERE originator_id = {p}", "late-1")
    run(store_url, "DELETE FROM audit_anchors WHERE originator_id = {p}", "late-1")
    writer = make_app()
    for patient in ("new-1", "new-2"):  # past the old head, on either store
        writer.handle(
            parse_command({"command": "admit", "patient_id": patient, "level": "detox",
                           "occurred_at": "2026-10-25T10:00:00Z"}), now=NOW,
        )  # fmt: skip
    late_patient(writer)
    with pytest.raises(AnchorMissing, match=f"log position {published.position}"):
        relay.step()  # the relay that published the head
    relay.close()
    restarted = Relay(make_app(), RelayConfig(kafka_bootstrap, topics))
    with pytest.raises(AnchorMissing, match=f"log position {published.position}"):
        restarted.run(once=True)  # a new process: the latest head is read from the topic
    assert latest_head(kafka_bootstrap, topics.anchors, app.name) == published
    kafka = {
        "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "JOURNEY_RELAY_ANCHORS_TOPIC": topics.anchors,
    }
    assert journey(store_url, "verify", "--all", **kafka).returncode == 5
