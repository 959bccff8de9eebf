"""The relay's in-process logic without a broker: batches, summaries, history cache, lag."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from publishing.history_cache import HistoryCache
from publishing.relay_batch import build_batch
from publishing.relay_position import RelayPosition
from publishing.state_summary import summarize
from publishing.topics import TopicNames

from journey.application import JourneyApplication
from journey.envelopes import to_envelope
from projections.queries import patient_journey
from tests.kafka.helpers import cohort_lines, load

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_one_summary_per_patient_per_batch_matching_the_journey(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(200, patients=6))
    loads: list[str] = []

    def load_history(pid: str, version: int) -> list:  # type: ignore[type-arg]
        loads.append(pid)
        return [to_envelope(e) for e in app.events.get(pid, lte=version)]  # type: ignore[arg-type]

    cache = HistoryCache(load_history)
    decode = lambda n: to_envelope(app.mapper.to_domain_event(n))  # type: ignore[arg-type]  # noqa: E731
    topics = TopicNames("e", "s")
    first = build_batch(app.recorder.select_notifications(1, 120), decode, cache, topics)
    rest = build_batch(app.recorder.select_notifications(121, 1000), decode, cache, topics)
    assert first.events + rest.events == stored
    assert not loads  # every history was extended from the cache
    for batch in (first, rest):
        keys = [o.record.key for o in batch.records if o.topic == "s"]
        assert len(keys) == len(set(keys)) == batch.summaries
    for out in (o for o in rest.records if o.topic == "s"):
        value = json.loads(out.record.value)
        view = patient_journey(
            app, value["patient_id"], as_of=summarize(app.history(value["patient_id"])).as_of
        )
        assert value["days_in_care"] == view.days_in_care
        assert value["status"] == view.status
        assert value["current_level"] == view.current_level


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_summary_is_deterministic_and_lag_counts_unpublished(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app()
    stored = load(app, cohort_lines(60, patients=2))
    history = app.history("kt-000001")
    assert summarize(history) == summarize(list(history))
    position = RelayPosition(app, "some.topic")
    assert (position.get(), position.lag().behind) == (0, stored)
    position.advance(10)
    position.advance(5)  # never backwards
    assert position.lag().position == 10
    assert position.lag().behind == stored - 10
    assert RelayPosition(app, "other.topic").get() == 0
