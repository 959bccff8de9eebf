"""kill -9 of a relay process mid-stream, then `relay --once`: nothing is missing
downstream, and the only duplicates are of the batch it had not yet recorded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from config.settings import Settings
from journey.envelopes import to_envelope
from publishing.relay_position import RelayPosition
from publishing.topics import TopicNames
from services.bootstrap import build_application
from tests.kafka.helpers import cohort_lines, load, read_topic

pytestmark = [pytest.mark.kafka, pytest.mark.xdist_group("kafka")]
EVENTS = 20_000
BATCH = 500


def relay_process(
    url: str, bootstrap: str, topics: TopicNames, *flags: str
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JOURNEY_DATABASE_URL": url, "JOURNEY_KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    command = [sys.executable, "-m", "interfaces", "relay", "--events-topic", topics.events,
               "--state-topic", topics.state, "--anchors-topic", topics.anchors,
               "--batch-size", str(BATCH), *flags]  # fmt: skip
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE)


def test_kill_9_mid_stream_then_resume_loses_nothing(
    tmp_path: Path, kafka_bootstrap: str, private_topics: Callable[[str], TopicNames]
) -> None:
    url = f"sqlite:///{tmp_path}/crash.db"
    app = build_application(Settings(database_url=url))
    stored = load(app, cohort_lines(EVENTS, patients=EVENTS // 40))
    topics = private_topics("crash")
    position = RelayPosition(app, topics.events)
    relay = relay_process(url, kafka_bootstrap, topics)
    try:
        deadline = time.monotonic() + 120
        while position.get() < 3 * BATCH and time.monotonic() < deadline:
            assert relay.poll() is None, relay.stderr.read() if relay.stderr else ""
            time.sleep(0.05)
    finally:
        relay.send_signal(signal.SIGKILL)
        relay.wait()
    killed_at = position.get()
    assert 0 < killed_at < stored, "the relay was not killed mid-stream"
    resumed = relay_process(url, kafka_bootstrap, topics, "--once")
    _, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, err.decode()[-2000:]
    assert b"lag 0" in err
    notifications = app.recorder.select_notifications(start=1, limit=stored + 1)
    expected = {to_envelope(app.mapper.to_domain_event(n)).event_id for n in notifications}  # type: ignore[arg-type]
    published = Counter(m.headers["ce_id"] for m in read_topic(kafka_bootstrap, topics.events))
    assert set(published) == expected  # nothing missing, nothing foreign
    duplicates = sum(published.values()) - len(published)
    assert duplicates <= BATCH  # only the unrecorded tail was published twice
    assert position.get() == stored
    app.close()
