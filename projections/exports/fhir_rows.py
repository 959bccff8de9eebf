"""What the FHIR export reads: each patient's episodes, stays and sessions from the read
models, a page of patients at a time, with the identifiers the read models replace by
pseudonyms restored (`fhir_identities`). The sessions are `session_log.SessionState`s: the
read model stores each session as that fold amends it (corrections and voids applied once,
`projections.session_log.amended`), so the export, the journey, the report and the pages
show the same session the same way."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from infrastructure.sql import Dialect, Unit
from projections.care_view import CareView
from projections.exports.fhir_identities import Identities
from projections.session_log import SessionState

PAGE_SIZE = 500


@dataclass(frozen=True)
class EpisodeRow:
    number: int
    admitted_at: datetime
    discharged_at: datetime | None
    discharge_reason: str | None


@dataclass(frozen=True)
class StayRow:
    episode_number: int
    seq: int
    level: str
    started_at: datetime
    ended_at: datetime | None
    asam_code: str | None = None  # as entered; None: stored before codes were kept


@dataclass
class PatientRecord:
    patient_id: str
    episodes: list[EpisodeRow] = field(default_factory=list)
    stays: list[StayRow] = field(default_factory=list)
    sessions: list[SessionState] = field(default_factory=list)
    care: CareView | None = None  # plans and referrals as of the export (the journey's fold)

    def stay_at(self, instant: datetime) -> StayRow | None:
        """The stay in force at `instant` ([started_at, ended_at))."""
        for stay in self.stays:
            if stay.started_at <= instant and (stay.ended_at is None or instant < stay.ended_at):
                return stay
        return None


_QUERIES = {
    "episodes": "SELECT patient_id, number, admitted_at, discharged_at, discharge_reason"
    " FROM rm_episodes WHERE patient_id >= ? AND patient_id <= ? ORDER BY patient_id, number",
    "stays": "SELECT patient_id, episode_number, seq, level, started_at, ended_at, asam_code"
    " FROM rm_stays"
    " WHERE patient_id >= ? AND patient_id <= ? ORDER BY patient_id, episode_number, seq",
    "sessions": "SELECT patient_id, session_id, occurred_at, approach, format,"
    " duration_minutes, delivery, status, voided FROM rm_sessions"
    " WHERE patient_id >= ? AND patient_id <= ? ORDER BY patient_id, occurred_at, session_id",
}


def _at(d: Dialect, stored: Any) -> datetime:
    value = d.instant(stored)
    assert value is not None
    return value


def _record(d: Dialect, pid: str, rows: dict[str, list[Any]], ids: Identities) -> PatientRecord:
    episodes = [EpisodeRow(int(n), _at(d, a), d.instant(x), r) for n, a, x, r in rows["episodes"]]
    stays = [
        StayRow(int(e), int(s), lv, _at(d, a), d.instant(x), code)
        for e, s, lv, a, x, code in rows["stays"]
    ]
    sessions = [
        SessionState(ids.session(sid), _at(d, a), fm, ap, int(m), dv, st, voided=bool(v))
        for sid, a, ap, fm, m, dv, st, v in rows["sessions"]
    ]
    patient_id = ids.patient(pid)
    return PatientRecord(patient_id, episodes, stays, sessions, ids.care.get(patient_id))


def _page(unit: Unit, ids: list[str], identities: Identities) -> list[PatientRecord]:
    found: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for kind, statement in _QUERIES.items():
        for pid, *rest in unit.all(statement, (ids[0], ids[-1])):
            found[pid][kind].append(rest)
    return [_record(unit.dialect, pid, found[pid], identities) for pid in ids]


def patient_pages(
    unit: Unit, identities: Identities, page_size: int = PAGE_SIZE
) -> Iterator[list[PatientRecord]]:
    """Every patient with an episode, `page_size` at a time, in pseudonym order."""
    ids = [r[0] for r in unit.all("SELECT patient_id FROM rm_patients ORDER BY patient_id")]
    for start in range(0, len(ids), page_size):
        yield _page(unit, ids[start : start + page_size], identities)
