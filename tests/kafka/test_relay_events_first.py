"""A relay keeping up sends a batch's event records before it computes the batch's
summaries, so downstream consumers of the events topic do not wait for them; yet its
position moves only when every record of the batch (events, summaries, anchor head) is
acknowledged, so a failure while the summaries are computed re-publishes the batch, and a
log that no longer extends the published head publishes nothing at all."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import pytest

from journey.application import JourneyApplication
from journey.events import EventEnvelope
from publishing import relay_batch
from publishing.relay import Relay, RelayConfig
from publishing.state_summary import JourneySummary, summarize
from publishing.topics import TopicNames
from tests.kafka.helpers import cohort_lines, load, read_records, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
WAIT_S = 30.0


class SummariesFail(RuntimeError):
    """Raised by the summary step in place of a fault (a bug, a store error)."""


def events_on_topic(bootstrap: str, topic: str, expected: int) -> int:
    """How many records the topic holds once `expected` arrived (or after WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    found = 0
    while time.monotonic() < deadline:
        found = len(read_records(bootstrap, topic, timeout_s=1.0))
        if found >= expected:
            break
        time.sleep(0.05)
    return found


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_events_reach_the_topic_before_the_summaries_are_computed(
    make_app: Callable[..., JourneyApplication],
    kafka_bootstrap: str,
    private_topics: Callable[[str], TopicNames],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(40, patients=3, prefix="first"))
    topics = private_topics("events-first")
    seen_while_summarizing: list[int] = []

    def summarize_after_looking(events: Sequence[EventEnvelope]) -> JourneySummary:
        if not seen_while_summarizing:  # the batch's first summary
            seen_while_summarizing.append(events_on_topic(kafka_bootstrap, topics.events, stored))
            raise SummariesFail("the summaries failed after the events were sent")
        return summarize(events)

    monkeypatch.setattr(relay_batch, "summarize", summarize_after_looking)
    relay = Relay(app, RelayConfig(kafka_bootstrap, topics, batch_size=1_000))
    with pytest.raises(SummariesFail):
        relay.run(once=True)
    assert seen_while_summarizing == [stored]  # every event record was already downstream
    assert relay.position.get() == 0  # but the batch is not done: no summary, no head
    assert read_records(kafka_bootstrap, topics.state, timeout_s=1.0) == []
    assert read_records(kafka_bootstrap, topics.anchors, timeout_s=1.0) == []

    again = Relay(make_app(), RelayConfig(kafka_bootstrap, topics, batch_size=1_000))
    report = again.run(once=True)  # the batch again, whole (at least once)
    assert report.events == stored and again.position.get() == stored
    events = read_topic(kafka_bootstrap, topics.events)
    assert len(events) == 2 * stored
    assert len({m.headers["ce_id"] for m in events}) == stored  # each event twice
    patients = {m.key for m in events}
    assert len(read_topic(kafka_bootstrap, topics.state)) == report.summaries == len(patients)
    assert len(read_topic(kafka_bootstrap, topics.anchors)) == 1
