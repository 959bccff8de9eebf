"""The log's anchor: a running SHA-256 per notification position over the stored rows
(position, patient, version, topic and the stored bytes), written in the same transaction
as the events it covers. Exported, it lets an auditor prove later that the log was not
rewritten, even by someone able to rewrite the anchors table too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from journey.chain import GENESIS


@dataclass(frozen=True, slots=True)
class Anchor:
    position: int
    patient_id: str
    version: int
    running_hash: str


Row = tuple[str, int, str, bytes]  # patient_id, version, topic, stored state


def next_hash(previous: str, position: int, row: Row) -> str:
    patient_id, version, topic, state = row
    text = f"{position}|{patient_id}|{version}|{topic}|{hashlib.sha256(state).hexdigest()}"
    return hashlib.sha256(previous.encode() + b"\n" + text.encode()).hexdigest()


def anchor_rows(
    previous: str | None, positions: Iterable[int], rows: Iterable[Row]
) -> list[tuple[int, str, int, str]]:
    """The anchors of newly stored rows (patient, version, topic, state) at `positions`, as
    the anchors table's rows (position, patient, version, running hash), after the running
    hash `previous` (None: the log was empty). `next_hash` written inline, no object per
    row: the same bytes hashed (UTF-8 of the previous hash, a newline and the text). The
    stores write with this; `audit.verify` checks with `next_hash`."""
    running = previous or GENESIS
    result: list[tuple[int, str, int, str]] = []
    append, sha256 = result.append, hashlib.sha256
    for position, (patient_id, version, topic, state) in zip(positions, rows, strict=True):
        digest = sha256(state).hexdigest()
        running = sha256(
            f"{running}\n{position}|{patient_id}|{version}|{topic}|{digest}".encode()
        ).hexdigest()
        append((position, patient_id, version, running))
    return result
