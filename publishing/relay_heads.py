"""The anchor heads the relay publishes (publishing.anchor_head), and its refusal to publish
a log that no longer extends the head it published last.

Without that refusal, a relay left running would hide a truncation: after the tail was cut
with its anchors, new events (at fresh positions on PostgreSQL, at the freed ones on
SQLite) would soon pass the old head, and the next published head would describe the cut
log. So before each head the relay checks that the store still holds the last published
head unchanged: the one it published itself, or, on its first batch, the latest on the
topic."""

from __future__ import annotations

from datetime import UTC, datetime

from audit.verification import anchor_at, anchored
from journey.application import JourneyApplication
from publishing.anchor_head import AnchorHead, latest_head

HINT = "nothing is published (run journey verify --all)"


class AnchorMissing(RuntimeError):
    """The log no longer extends the published head, or an event lacks its anchor: the relay
    stops instead of vouching for it."""


class HeadKeeper:
    def __init__(
        self, app: JourneyApplication, bootstrap: str, topic: str, *, timeout_s: float = 10.0
    ) -> None:
        self._app, self._bootstrap, self._topic = app, bootstrap, topic
        self._timeout_s = timeout_s  # reading the topic's last head
        self._last: AnchorHead | None = None
        self._checked_topic = False
        self._events: int | None = None  # events up to the last head (anchors counted)

    def next_head(self, position: int, previous: int, new_events: int) -> AnchorHead | None:
        """The head at `position`, the last event of a batch of `new_events` events after
        `previous`; None when the head published last is further on (a relay resumed from
        a position written before its last heads were): heads never move backwards.
        Raises AnchorMissing (see the module), HeadUnavailable (broker)."""
        self._check_last()
        recorder = anchored(self._app)
        if self._events is None:
            self._events = recorder.count_anchors(previous)
        anchor = anchor_at(self._app, position)
        if anchor is None:
            raise AnchorMissing(f"no anchor at log position {position}: {HINT}")
        head = AnchorHead(
            store=self._app.name,
            position=position,
            running_hash=anchor.running_hash,
            patient_id=anchor.patient_id,
            version=anchor.version,
            events=self._events + new_events,
            published_at=datetime.now(UTC),
        )
        if self._last is not None and position < self._last.position:
            self._events = head.events  # counted, not published
            return None
        return head

    def published(self, head: AnchorHead) -> None:
        """Records a head the broker acknowledged."""
        self._last, self._events = head, head.events

    def ready(self) -> None:
        """Reads the head published last from the topic, once (a relay does it on its first
        step, so that its first event does not wait for it)."""
        if not self._checked_topic:
            self._last = latest_head(
                self._bootstrap, self._topic, self._app.name, timeout_s=self._timeout_s
            )
            self._checked_topic = True

    def _check_last(self) -> None:
        self.ready()
        last = self._last
        if last is None:
            return
        stored = anchor_at(self._app, last.position)
        if stored is None:
            raise AnchorMissing(
                f"the anchor of the head published at log position {last.position} is gone:"
                f" the log was truncated; {HINT}"
            )
        if stored.running_hash != last.running_hash:
            raise AnchorMissing(
                f"the anchor at log position {last.position} differs from the head published"
                f" there: the log was rewritten; {HINT}"
            )
