"""`journey verify`: recomputes the per-patient hash chains and the log's anchors from the
stored rows, checks every snapshot against the state rebuilt from its events
(audit.verify_snapshots), compares the log with an exported or published anchor head
(audit.verify_heads), and names the first place where they disagree."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent

from audit.anchors import Anchor, next_hash
from audit.verification import (
    DECODE_ERRORS,
    PAGE,
    Break,
    Verification,
    anchor_stream,
    anchored,
    decode,
    stored_bytes,
    stream,
)
from audit.verify_heads import compare_exported
from audit.verify_snapshots import SnapshotFold
from infrastructure.erasure import ERASURE_TOPIC, read_marker
from journey import chain
from journey.application import JourneyApplication
from journey.errors import PatientErased, UnknownPatient

__all__ = ["Break", "Verification", "verify_log", "verify_patient"]


@dataclass
class _ChainCheck:
    """Per-patient chain state while walking events in order."""

    heads: dict[str, tuple[int, str]] = field(default_factory=dict)
    erased: dict[str, str] = field(default_factory=dict)  # patient -> its erasure, described

    def check(
        self, app: JourneyApplication, row: StoredEvent, position: int | None
    ) -> tuple[Break | None, Any]:
        """The row's break (or None) and its decoded event (None when it cannot be)."""
        try:
            event = decode(app, row)
            chain_hash, content = str(event.chain_hash), event.chain_content()
        except PatientErased:
            return self._erased(row, position), None
        except DECODE_ERRORS as error:
            pid, version = str(row.originator_id), row.originator_version
            head = self.heads.get(pid, (1, chain.GENESIS))[1]
            self.heads[pid] = (version + 1, head)
            return Break(pid, version, position, f"stored event cannot be decoded ({error})"), None
        return self._link(row, position, chain_hash, content), event

    def _erased(self, row: StoredEvent, position: int | None) -> Break | None:
        """An erased patient's event (content no longer readable: its stored bytes are still
        covered by the anchors) or its erasure marker, which records the chain head."""
        pid, version = str(row.originator_id), row.originator_version
        expected, head = self.heads.get(pid, (1, chain.GENESIS))
        self.heads[pid] = (version + 1, head)
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

    def _link(
        self, row: StoredEvent, position: int | None, chain_hash: str, content: bytes
    ) -> Break | None:
        pid, version = str(row.originator_id), row.originator_version
        expected, head = self.heads.get(pid, (1, chain.GENESIS))
        self.heads[pid] = (version + 1, chain_hash)
        if stored_bytes(row) is None:
            kind = type(row.state).__name__
            return Break(pid, version, position, f"stored state is {kind}, not bytes (rewritten)")
        if version != expected:
            return Break(
                pid, version, position, f"expected version {expected}: missing or moved event"
            )
        if chain.link(head, content) != chain_hash:
            return Break(
                pid, version, position, "content does not match its chain hash (edited or moved)"
            )
        return None


def _pages(app: JourneyApplication) -> Iterator[tuple[Notification | None, Anchor | None]]:
    """Events and anchors merged by log position (None where one side is missing)."""
    events = stream(lambda s: list(app.recorder.select_notifications(start=s, limit=PAGE)))
    anchors = anchor_stream(app)
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


def _row_against_anchor(row: Notification, anchor: Anchor, running: str) -> Break | None:
    pid, version = str(row.originator_id), row.originator_version
    if (anchor.patient_id, anchor.version) != (pid, version):
        moved = f"holds {pid} version {version}: events were moved"
        return Break(anchor.patient_id, anchor.version, row.id, moved)
    state = stored_bytes(row)
    if state is None:  # already named by the chain check
        return None
    if next_hash(running, row.id, (pid, version, row.topic, state)) != anchor.running_hash:
        return Break(pid, version, row.id, "row differs from the anchored one")
    return None


def verify_log(app: JourneyApplication, exported: Sequence[Anchor] | None = None) -> Verification:
    """Walks the whole log (every event's chain, every anchor), checks every snapshot, and
    compares with an exported anchor copy when one is given."""
    result, chains, running = Verification(), _ChainCheck(), chain.GENESIS
    snapshots = SnapshotFold(app)
    for event, anchor in _pages(app):
        if anchor is not None:
            result.anchors += 1
            result.head = anchor
        if event is None:
            assert anchor is not None
            missing = "anchored event is missing (deleted)"
            result.breaks.append(Break(anchor.patient_id, anchor.version, anchor.position, missing))
            running = anchor.running_hash
            continue
        result.events += 1
        broken, decoded = chains.check(app, event, event.id)
        if decoded is not None:
            snapshots.feed(decoded, event.id)
        found = [broken]
        if anchor is None:
            found.append(Break(*_where(event), event.id, "event is not anchored (inserted)"))
        else:
            found.append(_row_against_anchor(event, anchor, running))
            running = anchor.running_hash
        result.breaks += [b for b in found if b is not None]
    result.patients = len(chains.heads)
    result.erased = chains.erased
    _describe(result, f"{result.patients} patients", snapshots)
    if exported is not None:
        compare_exported(app, result, exported)
    return result


def _where(row: StoredEvent) -> tuple[str, int]:
    return str(row.originator_id), row.originator_version


def _describe(result: Verification, whose: str, snapshots: SnapshotFold) -> None:
    for patient_id in result.erased:  # their snapshots can no longer be read: not checked
        snapshots.forget(patient_id)
    result.breaks += snapshots.finish()
    result.snapshots = snapshots.count
    result.compared["snapshots"] = snapshots.describe()
    result.compared["events"] = (
        f"{result.events} events of {whose}: every chain hash recomputed from the stored content"
    )
    head = result.head
    at = f"; head {head.running_hash} at position {head.position}" if head else ""
    result.compared["anchors"] = (
        f"{result.anchors} anchors, each recomputed from its row and the anchor before it{at}"
    )


def verify_patient(app: JourneyApplication, patient_id: str) -> Verification:
    """One patient's chain, each of its rows against its anchor, and its snapshots.
    Raises UnknownPatient when the store holds nothing of the patient."""
    result, chains = Verification(), _ChainCheck()
    rows = {r.originator_version: r for r in app.recorder.select_events(patient_id)}
    anchors = anchored(app).select_patient_anchors(patient_id)
    snapshots = SnapshotFold(app, patient_id)
    if not rows and not anchors and not snapshots.count:
        raise UnknownPatient(patient_id)
    positions = {a.version: a.position for a, _ in anchors}
    for version in sorted(rows):
        result.events += 1
        found, decoded = chains.check(app, rows[version], positions.get(version))
        if decoded is not None:
            snapshots.feed(decoded, positions.get(version))
        if found:
            result.breaks.append(found)
    for anchor, previous in anchors:
        result.anchors += 1
        result.head = anchor
        row = rows.get(anchor.version)
        if row is None:
            missing = "anchored event is missing (deleted)"
            result.breaks.append(Break(patient_id, anchor.version, anchor.position, missing))
            continue
        notification = Notification(row.originator_id, row.originator_version, row.topic,
                                    row.state, anchor.position)  # fmt: skip
        found = _row_against_anchor(notification, anchor, previous or chain.GENESIS)
        if found:
            result.breaks.append(found)
    for version in sorted(set(rows) - set(positions)):
        result.breaks.append(Break(patient_id, version, None, "event is not anchored (inserted)"))
    result.patients = 1 if rows else 0
    result.erased = chains.erased
    _describe(result, f"patient {patient_id}", snapshots)
    result.compared["exported head"] = "not compared for one patient (verify --all)"
    result.compared["published head"] = "not compared for one patient (verify --all)"
    return result
