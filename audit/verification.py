"""What `journey verify` reports (breaks and what was compared) and the helpers its checks
share: anchored recorders, and decoding stored rows that may have been tampered with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import Notification, StoredEvent

from audit.anchors import Anchor
from journey.application import JourneyApplication

PAGE = 1_000
# What decoding a stored row may raise when the row was tampered with (bytes that are not
# JSON, JSON that is not an event, a topic naming no class, a failed decryption).
DECODE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, EventSourcingError)


class AnchoredRecorder(Protocol):
    def select_anchors(self, start: int, limit: int) -> list[Anchor]: ...
    def select_patient_anchors(self, patient_id: str) -> list[tuple[Anchor, str | None]]: ...
    def count_anchors(self, up_to: int) -> int: ...


@dataclass(frozen=True)
class Break:
    patient_id: str
    version: int
    position: int | None
    reason: str

    def __str__(self) -> str:
        where = f" (log position {self.position})" if self.position is not None else ""
        return f"patient {self.patient_id} version {self.version}{where}: {self.reason}"


@dataclass
class Verification:
    events: int = 0
    patients: int = 0
    anchors: int = 0
    snapshots: int = 0
    head: Anchor | None = None
    breaks: list[Break] = field(default_factory=list)
    compared: dict[str, str] = field(default_factory=dict)  # what was compared -> outcome
    erased: dict[str, str] = field(default_factory=dict)  # patient -> its erasure, described

    @property
    def ok(self) -> bool:
        return not self.breaks

    def first(self) -> Break | None:
        return min(self.breaks, key=lambda b: (b.position or 0, b.version)) if self.breaks else None


def anchored(app: JourneyApplication) -> AnchoredRecorder:
    recorder: Any = app.recorder
    return recorder  # type: ignore[no-any-return]


def stored_bytes(row: StoredEvent) -> bytes | None:
    """The row's stored state, or None when it is not bytes (e.g. rewritten as TEXT)."""
    return row.state if isinstance(row.state, bytes) else None


def anchor_at(app: JourneyApplication, position: int) -> Anchor | None:
    """The anchor at exactly `position`, or None when there is none there."""
    found = anchored(app).select_anchors(position, 1)
    return found[0] if found and found[0].position == position else None


def decode(app: JourneyApplication, row: StoredEvent) -> Any:
    """The domain event of a stored row (raises one of DECODE_ERRORS when it cannot be)."""
    state = stored_bytes(row)
    if state is None:  # decoded anyway (as its UTF-8 bytes) to follow the chain past it
        state = str(row.state).encode()
    plain = StoredEvent(row.originator_id, row.originator_version, row.topic, state)
    return app.mapper.to_domain_event(plain)


def anchor_stream(app: JourneyApplication, start: int = 1) -> Iterator[Anchor]:
    return stream(lambda s: anchored(app).select_anchors(s, PAGE), start)


def stream(fetch: Any, start: int = 1) -> Iterator[Any]:
    while page := fetch(start):
        yield from page
        last = page[-1]
        start = (last.id if isinstance(last, Notification) else last.position) + 1
