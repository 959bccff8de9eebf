"""Snapshots under `journey verify`: each stored snapshot must equal the state rebuilt from
its patient's events up to its version (the events are what the chains and anchors
protect), and carry a matching digest when it has one. Snapshots taken before digests
existed have none and are checked against the events all the same.

The state is rebuilt while verify walks the events it decodes anyway: only the patients
that have snapshots are folded, each dropped after its last snapshot's version, and a
snapshot is read only when its version is reached (memory stays small on a large log)."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.utils import get_topic

from audit.verification import DECODE_ERRORS, Break, decode
from infrastructure.postgres_store import is_postgres
from journey.application import JourneyApplication
from journey.chain import canonical_state
from journey.domain_events import PatientSnapshot
from journey.patient import STATE_ADDED


class SnapshotFold:
    """Fed every decoded event of the walk in order; collects the snapshots' breaks."""

    def __init__(self, app: JourneyApplication, patient_id: str | None = None) -> None:
        self._app = app
        recorder = app.snapshots.recorder if app.snapshots is not None else None
        self.enabled = recorder is not None
        self._pending = snapshot_versions(recorder, patient_id) if recorder else {}
        self.count = sum(len(v) for v in self._pending.values())
        self._aggregates: dict[str, Any] = {}
        self.breaks: list[Break] = []

    def feed(self, event: Any, position: int | None) -> None:
        pid = str(event.originator_id)
        wanted = self._pending.get(pid)
        if not wanted:
            return
        try:
            aggregate = event.mutate(self._aggregates.get(pid))
        except DECODE_ERRORS as error:
            replay = f"snapshot cannot be checked: the events do not replay ({error})"
            self.breaks.append(Break(pid, wanted[0], None, replay))
            self._forget(pid)
            return
        self._aggregates[pid] = aggregate
        while wanted and wanted[0] <= aggregate.version:
            version = wanted.pop(0)
            reason = (
                self._compare(pid, aggregate)
                if version == aggregate.version
                else f"snapshot of version {version}, but the patient's events skip it"
            )
            if reason:
                self.breaks.append(Break(pid, version, position, reason))
        if not wanted:
            self._forget(pid)

    def finish(self) -> list[Break]:
        """The breaks, including snapshots whose version the events never reached."""
        for pid, wanted in self._pending.items():
            aggregate = self._aggregates.get(pid)
            end = aggregate.version if aggregate is not None else 0
            for version in wanted:
                reason = f"snapshot of version {version}, but the patient's events end at {end}"
                self.breaks.append(Break(pid, version, None, reason))
        return self.breaks

    def describe(self) -> str:
        if not self.enabled:
            return "none: snapshotting is off"
        return (
            f"{self.count} snapshots, each compared with the state rebuilt from its"
            " patient's events up to its version"
        )

    def forget(self, pid: str) -> None:
        """Stops checking the patient's snapshots (an erased patient: unreadable)."""
        self.count -= len(self._pending.get(pid, ()))
        self._forget(pid)

    def _forget(self, pid: str) -> None:
        self._pending.pop(pid, None)
        self._aggregates.pop(pid, None)

    def _compare(self, pid: str, aggregate: Any) -> str | None:
        """Why the stored snapshot at the aggregate's version is wrong, or None."""
        assert self._app.snapshots is not None
        version = aggregate.version
        rows = self._app.snapshots.recorder.select_events(pid, gt=version - 1, lte=version)
        if not rows:
            return "snapshot was deleted while verifying"
        row = rows[0]
        try:
            stored = decode(self._app, row)
        except DECODE_ERRORS as error:
            return f"snapshot cannot be decoded ({error})"
        if not isinstance(stored, PatientSnapshot) or not isinstance(row.state, bytes):
            return "snapshot row was rewritten (not a patient snapshot's bytes)"
        return _difference(stored, aggregate)


def snapshot_versions(recorder: Any, patient_id: str | None = None) -> dict[str, list[int]]:
    """Patient -> versions of its snapshots, ascending (SQLite or PostgreSQL table)."""
    versions: dict[str, list[int]] = {}
    for pid, version in _snapshot_keys(recorder, patient_id):
        versions.setdefault(str(pid), []).append(int(version))
    return versions


def _snapshot_keys(recorder: Any, patient_id: str | None) -> list[tuple[Any, Any]]:
    params = (patient_id,) if patient_id is not None else ()
    if is_postgres(recorder):
        return _postgres_snapshot_keys(recorder, params)
    where_sqlite = " WHERE originator_id = ?" if params else ""
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT originator_id, originator_version FROM {recorder.events_table_name}"
            f"{where_sqlite} ORDER BY 1, 2",
            params,
        )
        return [(r[0], r[1]) for r in cursor.fetchall()]


def _postgres_snapshot_keys(recorder: Any, params: tuple[str, ...]) -> list[tuple[Any, Any]]:
    from psycopg.sql import SQL, Identifier  # noqa: PLC0415 - PostgreSQL only

    where = SQL(" WHERE originator_id = %s" if params else "")
    statement = SQL("SELECT originator_id, originator_version FROM {}.{}{} ORDER BY 1, 2")
    table = Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement.format(*table, where), params)
        return [(r["originator_id"], r["originator_version"]) for r in curs.fetchall()]


def _part(state: dict[str, Any], key: str) -> tuple[bool, bytes]:
    return key in state, canonical_state(state.get(key))


def _difference(stored: PatientSnapshot, aggregate: Any) -> str | None:
    """Why the stored snapshot is not the aggregate's state (what PatientSnapshot.take
    stores of it), or None when it is."""
    rebuilt: dict[str, Any] = _as_taken_then(dict(vars(aggregate)), stored.state)
    differing = []
    if _fast(stored.state) != _fast(rebuilt):  # else equal: skip the per-field comparison
        keys = sorted(set(stored.state) | set(rebuilt))
        differing = [k for k in keys if _part(stored.state, k) != _part(rebuilt, k)]
    if stored.topic != get_topic(type(aggregate)):
        differing.append("topic")
    if differing:
        return (
            f"snapshot differs from the state rebuilt from events 1..{stored.originator_version}"
            f" ({', '.join(differing)}): edited"
        )
    if stored.digest is not None and stored.digest_problem() is not None:
        return "snapshot digest does not match its content (edited)"
    return None


# What a session held in a snapshot of state version 1 (before journey.patient.STATE_VERSION
# 2 added each session's current values and last correction).
STATE_V1_SESSION_KEYS = ("fingerprint", "occurred_at", "voided")


def _as_taken_then(rebuilt: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The rebuilt state in the shape of the stored snapshot's state version: a snapshot
    taken by an earlier version is compared with what that version kept, no more (every
    patient-level key and every session still compared)."""
    current = rebuilt.get("state_version")
    version = stored.get("state_version", 1)
    if not isinstance(current, int) or not isinstance(version, int) or version >= current:
        return rebuilt
    for added in range(version + 1, current + 1):
        for key in STATE_ADDED.get(added, ()):
            rebuilt.pop(key, None)
    if version > 1:
        rebuilt["state_version"] = version
        return rebuilt
    rebuilt.pop("state_version")
    sessions = rebuilt.get("sessions")
    if isinstance(sessions, dict):
        rebuilt["sessions"] = {
            sid: {k: v for k, v in session.items() if k in STATE_V1_SESSION_KEYS}
            for sid, session in sessions.items()
        }
    return rebuilt


def _fast(state: dict[str, Any]) -> bytes:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS)
