"""Snapshots under `journey verify`: each stored snapshot must equal the state rebuilt from
its patient's events up to its version (the events are what the chains and anchors
protect), and carry a matching digest when it has one. Snapshots taken before digests
existed have none and are checked against the events all the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg.sql import SQL, Identifier

from audit.verification import DECODE_ERRORS, Break, Verification, anchored, decode
from journey.application import JourneyApplication
from journey.chain import canonical_state
from journey.domain_events import PatientSnapshot


def check_snapshots(
    app: JourneyApplication, result: Verification, patient_id: str | None = None
) -> None:
    """Checks the snapshots of one patient, or of every patient that has any."""
    store = app.snapshots
    if store is None:
        result.compared["snapshots"] = "none: snapshotting is off"
        return
    patients = [patient_id] if patient_id is not None else snapshot_patients(store.recorder)
    for pid in patients:
        rows = list(store.recorder.select_events(pid))
        if rows:
            result.snapshots += len(rows)
            result.breaks += _check_patient(app, pid, rows)
    result.compared["snapshots"] = (
        f"{result.snapshots} snapshots, each compared with the state rebuilt from its"
        " patient's events up to its version"
    )


def snapshot_patients(recorder: Any) -> list[str]:
    """The patients that have snapshots (SQLite or PostgreSQL snapshot table)."""
    table = recorder.events_table_name
    if isinstance(recorder, PostgresAggregateRecorder):
        statement = SQL("SELECT DISTINCT originator_id FROM {}.{} ORDER BY 1").format(
            Identifier(recorder.datastore.schema), Identifier(table)
        )
        with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            return [str(r["originator_id"]) for r in curs.fetchall()]
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT DISTINCT originator_id FROM {table} ORDER BY 1")
        return [str(r[0]) for r in cursor.fetchall()]


def _check_patient(app: JourneyApplication, pid: str, rows: Sequence[StoredEvent]) -> list[Break]:
    positions = {a.version: a.position for a, _ in anchored(app).select_patient_anchors(pid)}
    breaks: list[Break] = []
    snapshots: dict[int, PatientSnapshot] = {}
    for row in rows:
        version = row.originator_version
        try:
            snapshot = decode(app, row)
        except DECODE_ERRORS as error:
            reason = f"snapshot cannot be decoded ({error})"
            breaks.append(Break(pid, version, positions.get(version), reason))
            continue
        if not isinstance(snapshot, PatientSnapshot) or not isinstance(row.state, bytes):
            reason = "snapshot row was rewritten (not a patient snapshot's bytes)"
            breaks.append(Break(pid, version, positions.get(version), reason))
            continue
        snapshots[version] = snapshot
    if snapshots:
        breaks += _against_events(app, pid, snapshots, positions)
    return breaks


def _against_events(
    app: JourneyApplication,
    pid: str,
    snapshots: dict[int, PatientSnapshot],
    positions: dict[int, int],
) -> list[Break]:
    """Replays the patient's events and compares each snapshot at its version."""
    breaks: list[Break] = []
    aggregate: Any = None
    try:
        for row in app.recorder.select_events(pid, lte=max(snapshots)):
            aggregate = decode(app, row).mutate(aggregate)
            version = aggregate.version
            snapshot = snapshots.get(version)
            reason = snapshot and _difference(snapshot, PatientSnapshot.take(aggregate))
            if reason:
                breaks.append(Break(pid, version, positions.get(version), reason))
    except DECODE_ERRORS as error:
        reached = aggregate.version if aggregate is not None else 0
        reason = f"snapshot cannot be checked: the events after version {reached} do not replay"
        return [*breaks, Break(pid, max(snapshots), None, f"{reason} ({error})")]
    reached = aggregate.version if aggregate is not None else 0
    for version in sorted(v for v in snapshots if v > reached):
        reason = f"snapshot of version {version}, but the patient's events end at version {reached}"
        breaks.append(Break(pid, version, None, reason))
    return breaks


def _part(snapshot: PatientSnapshot, key: str) -> tuple[bool, bytes]:
    return key in snapshot.state, canonical_state(snapshot.state.get(key))


def _difference(stored: PatientSnapshot, rebuilt: PatientSnapshot) -> str | None:
    """Why the stored snapshot is not the rebuilt one, or None when it is."""
    keys = sorted(set(stored.state) | set(rebuilt.state))
    differing = [k for k in keys if _part(stored, k) != _part(rebuilt, k)]
    if stored.topic != rebuilt.topic:
        differing.append("topic")
    version = stored.originator_version
    if differing:
        return (
            f"snapshot differs from the state rebuilt from events 1..{version}"
            f" ({', '.join(differing)}): edited"
        )
    if stored.digest is not None and stored.digest_problem() is not None:
        return "snapshot digest does not match its content (edited)"
    return None
