"""The log against an anchor head kept outside the store: an exported anchor copy
(`journey anchors --out`) or the head the relay published to `care-journey.anchors.v1`.

Whoever can write the database can rewrite events and anchors consistently, or cut the
tail of the log with its anchors; only a head kept elsewhere tells. The store is broken
when it is shorter than the head (the tail was truncated; an empty store included), when
it lacks the anchor at the head's position, or when that anchor differs (rewritten)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from audit.anchors import Anchor
from audit.verification import Break, Verification, anchor_at, anchor_stream, anchored
from journey.application import JourneyApplication


@dataclass(frozen=True)
class Head:
    """An anchor head kept outside the store."""

    anchor: Anchor
    events: int | None  # events in the log up to the head's position, when known
    source: str  # where it comes from, for the report


def compare_head(app: JourneyApplication, result: Verification, head: Head, label: str) -> None:
    """Compares the walked log (`result`) with one head; records the outcome as `label`."""
    found = _against_head(app, result, head, label)
    a = head.anchor
    events = f", {head.events} events" if head.events is not None else ""
    what = f"position {a.position} (patient {a.patient_id} version {a.version}{events}"
    what += f"; {head.source})"
    result.compared[label] = f"{what}: {'DIFFERS' if found else 'matches the store'}"
    if found:
        result.breaks.append(found)


def _against_head(
    app: JourneyApplication, result: Verification, head: Head, label: str
) -> Break | None:
    a, end = head.anchor, result.head.position if result.head else 0
    where = (a.patient_id, a.version, a.position)
    mine = anchor_at(app, a.position)
    if mine is None and end < a.position:
        return Break(*where, _truncated(end, label))
    if mine is None:
        return Break(*where, f"the anchor at the {label}'s position is missing (deleted)")
    if mine != a:
        return Break(*where, f"the anchor differs from the {label} (the log was rewritten)")
    if head.events is not None:
        count = anchored(app).count_anchors(a.position)
        if count != head.events:
            reason = f"the store holds {count} events up to here, the {label} {head.events}"
            return Break(*where, reason)
    return None


def _truncated(end: int, label: str) -> str:
    store = f"the store ends at position {end}" if end else "the store holds no anchored event"
    return f"log is shorter than the {label}: {store} (the tail was truncated)"


def compare_exported(
    app: JourneyApplication, result: Verification, exported: Sequence[Anchor]
) -> None:
    """Every exported anchor must be in the store, unchanged (newer ones may follow)."""
    label = "exported anchors"
    if not exported:
        result.compared["exported head"] = "the exported copy is empty: nothing to compare"
        return
    ordered = sorted(exported, key=lambda x: x.position)
    end = result.head.position if result.head else 0
    breaks: list[Break] = []
    store = anchor_stream(app, ordered[0].position)
    mine = next(store, None)
    for a in ordered:
        while mine is not None and mine.position < a.position:
            mine = next(store, None)
        where = (a.patient_id, a.version, a.position)
        if mine is None and a.position > end:
            breaks.append(Break(*where, _truncated(end, label)))
            break
        if mine is None or mine.position != a.position:
            breaks.append(Break(*where, "exported anchor is missing from the store (deleted)"))
        elif mine != a:
            breaks.append(Break(*where, "anchor differs from the exported copy (rewritten)"))
    last = ordered[-1]
    outcome = "DIFFERS" if breaks else "every exported anchor matches the store"
    result.compared["exported head"] = (
        f"{len(ordered)} exported anchors up to position {last.position}"
        f" (patient {last.patient_id} version {last.version}): {outcome}"
    )
    result.breaks += breaks
