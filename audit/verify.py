"""`journey verify`: recomputes the per-patient hash chains and the log's anchors from the
stored rows, and names the first place where they disagree."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import Notification, StoredEvent

from audit.anchors import Anchor, next_hash
from infrastructure.erasure import ERASURE_TOPIC, read_marker
from journey import chain
from journey.application import JourneyApplication
from journey.errors import PatientErased

PAGE = 1_000


class AnchoredRecorder(Protocol):
    def select_anchors(self, start: int, limit: int) -> list[Anchor]: ...
    def select_patient_anchors(self, patient_id: str) -> list[tuple[Anchor, str | None]]: ...


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
    head: Anchor | None = None
    breaks: list[Break] = field(default_factory=list)
    erased: dict[str, str] = field(default_factory=dict)  # patient -> its erasure, described

    @property
    def ok(self) -> bool:
        return not self.breaks

    def first(self) -> Break | None:
        return min(self.breaks, key=lambda b: (b.position or 0, b.version)) if self.breaks else None


@dataclass
class _ChainCheck:
    """Per-patient chain state while walking events in order."""

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    erased: dict[str, str] = field(default_factory=dict)

    def check(
        self, app: JourneyApplication, row: StoredEvent, position: int | None
    ) -> Break | None:
        pid, version = str(row.originator_id), row.originator_version
        expected, head = self.heads.get(pid, (1, chain.GENESIS))
        self.heads[pid] = (version + 1, head)
        try:
            event: Any = app.mapper.to_domain_event(row)
        except PatientErased:
            return self._erased(row, expected, position)
        except (ValueError, TypeError, KeyError, AttributeError, EventSourcingError) as error:
            return Break(pid, version, position, f"stored event cannot be decoded ({error})")
        self.heads[pid] = (version + 1, event.chain_hash)
        if version != expected:
            return Break(
                pid, version, position, f"expected version {expected}: missing or moved event"
            )
        if chain.link(head, event.chain_content()) != event.chain_hash:
            return Break(
                pid, version, position, "content does not match its chain hash (edited or moved)"
            )
        return None

    def _erased(self, row: StoredEvent, expected: int, position: int | None) -> Break | None:
        """An erased patient's event (content no longer readable: its stored bytes are still
        covered by the anchors) or its erasure marker, which records the chain head."""
        pid, version = str(row.originator_id), row.originator_version
        if version != expected:
            return Break(
                pid, version, position, f"expected version {expected}: missing or moved event"
            )
        if row.topic != ERASURE_TOPIC:
            return None
        marker = read_marker(row.state)
        if marker.erased_version != version - 1:
            return Break(pid, version, position, "erasure marker does not follow the last event")
        self.heads[pid] = (version + 1, marker.chain_head)
        self.erased[pid] = (
            f"erased at {marker.erased_at} by {marker.actor}: {marker.erased_version} events kept"
            f" as anchored encrypted bytes, chain head at erasure {marker.chain_head}"
        )
        return None


def _anchored(app: JourneyApplication) -> AnchoredRecorder:
    recorder: Any = app.recorder
    return recorder  # type: ignore[no-any-return]


def _pages(app: JourneyApplication) -> Iterator[tuple[Notification | None, Anchor | None]]:
    """Events and anchors merged by log position (None where one side is missing)."""
    events = _stream(lambda s: list(app.recorder.select_notifications(start=s, limit=PAGE)))
    anchors = _stream(lambda s: _anchored(app).select_anchors(s, PAGE))
    event, anchor = next(events, None), next(anchors, None)
    while event is not None or anchor is not None:
        e_pos = event.id if event is not None else None
        a_pos = anchor.position if anchor is not None else None
        if a_pos is None or (e_pos is not None and e_pos < a_pos):
            yield event, None
            event = next(events, None)
        elif e_pos is None or a_pos < e_pos:
            yield None, anchor
            anchor = next(anchors, None)
        else:
            yield event, anchor
            event, anchor = next(events, None), next(anchors, None)


def _stream(fetch: Any) -> Iterator[Any]:
    start = 1
    while page := fetch(start):
        yield from page
        last = page[-1]
        start = (last.id if isinstance(last, Notification) else last.position) + 1


def verify_log(app: JourneyApplication, exported: Mapping[int, str] | None = None) -> Verification:
    """Walks the whole log: every event's chain, every anchor, and an exported anchor copy."""
    result, chains, running = Verification(), _ChainCheck(), chain.GENESIS
    for event, anchor in _pages(app):
        if event is None and anchor is not None:
            result.breaks.append(
                Break(
                    anchor.patient_id,
                    anchor.version,
                    anchor.position,
                    "anchored event is missing (deleted)",
                )
            )
            running = anchor.running_hash
            continue
        assert event is not None
        result.events += 1
        found = chains.check(app, event, event.id)
        if found:
            result.breaks.append(found)
        row = (str(event.originator_id), event.originator_version, event.topic, event.state)
        if anchor is None:
            result.breaks.append(
                Break(row[0], row[1], event.id, "event is not anchored (inserted)")
            )
            continue
        if (anchor.patient_id, anchor.version) != row[:2]:
            moved = f"holds {row[0]} version {row[1]}: events were moved"
            result.breaks.append(Break(anchor.patient_id, anchor.version, event.id, moved))
        elif next_hash(running, event.id, row) != anchor.running_hash:
            result.breaks.append(
                Break(row[0], row[1], event.id, "row differs from the anchored one")
            )
        running, result.head = anchor.running_hash, anchor
        if exported is not None and exported.get(anchor.position, anchor.running_hash) != running:
            result.breaks.append(
                Break(row[0], row[1], event.id, "anchor differs from the exported copy")
            )
    if exported and result.head and max(exported) > result.head.position:
        result.breaks.append(
            Break("?", 0, max(exported), "log is shorter than the exported anchors")
        )
    result.erased = chains.erased
    return result


def verify_patient(app: JourneyApplication, patient_id: str) -> Verification:
    """One patient's chain, and each of its rows against its anchor."""
    result, chains = Verification(), _ChainCheck()
    rows = {r.originator_version: r for r in app.recorder.select_events(patient_id)}
    anchors = _anchored(app).select_patient_anchors(patient_id)
    positions = {a.version: a.position for a, _ in anchors}
    for version in sorted(rows):
        result.events += 1
        found = chains.check(app, rows[version], positions.get(version))
        if found:
            result.breaks.append(found)
    for anchor, previous in anchors:
        row = rows.get(anchor.version)
        if row is None:
            result.breaks.append(
                Break(
                    patient_id,
                    anchor.version,
                    anchor.position,
                    "anchored event is missing (deleted)",
                )
            )
        elif (
            next_hash(
                previous or chain.GENESIS,
                anchor.position,
                (patient_id, row.originator_version, row.topic, row.state),
            )
            != anchor.running_hash
        ):
            result.breaks.append(
                Break(
                    patient_id, anchor.version, anchor.position, "row differs from the anchored one"
                )
            )
        result.head = anchor
    for version in sorted(set(rows) - set(positions)):
        result.breaks.append(Break(patient_id, version, None, "event is not anchored (inserted)"))
    result.erased = chains.erased
    return result
