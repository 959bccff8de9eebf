"""The patient aggregate: decides whether a command is allowed, then records one event.

Every rule of SPEC section 4 that depends on the patient's history is checked here, before
any event is triggered, so a rejected command leaves the aggregate untouched."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import BaseAggregate
from eventsourcing.utils import get_topic

from journey import chain
from journey import domain_events as ev
from journey import fingerprints as fp
from journey.care_program import CareProgram
from journey.catalog import default_catalog
from journey.errors import Issue, RuleViolation, conflict, violation
from journey.timekeeping import not_in_future as _not_in_future

if TYPE_CHECKING:  # the commands name these methods in their registry entries
    from journey.commands import (
        Admit,
        CorrectSession,
        Discharge,
        RecordSession,
        Transition,
        VoidSession,
    )

# 2: sessions keep their current values and their last correction; 3: the clinical program
# (primary therapist assignments, plans, referrals: journey.care_program)
STATE_VERSION = 3
STATE_ADDED = {3: ("assignments", "plans", "referrals")}  # state keys each version added


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _chained(
    patient_id: str, version: int, previous: str, event_class: type[Any], fields: dict[str, Any]
) -> dict[str, Any]:
    """The event's fields with its recording time and its `chain_hash` (journey.chain)."""
    fields = {"timestamp": event_class.create_timestamp(), **fields}
    schema_version, hashed = ev.hashed_form(event_class, fields)
    content = chain.canonical_content(
        patient_id, version, event_class.__name__, schema_version, hashed
    )
    return {**fields, "chain_hash": chain.link(previous, content)}


class Patient(CareProgram, BaseAggregate[str]):
    """One patient's care journey: episodes, the stay in force and the sessions recorded."""

    Snapshot = ev.PatientSnapshot

    def __init__(self) -> None:
        self.timezone = ""
        self.age_group = ""
        self.episodes: list[list[datetime | None]] = []  # [admitted_at, discharged_at]
        self.level: str | None = None
        self.stay_started_at: datetime | None = None
        self.sessions: dict[str, dict[str, Any]] = {}
        self.assignments: list[list[Any]] = []
        self.plans: dict[str, dict[str, Any]] = {}
        self.referrals: dict[str, dict[str, Any]] = {}
        self.chain_head = chain.GENESIS
        self.state_version = STATE_VERSION

    def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None:
        self.record(event_class, **kwargs)

    def not_in_future(self, occurred_at: datetime, now: datetime) -> None:
        _not_in_future(occurred_at, now)

    def record(self, event_class: type[ev.PatientEvent], **fields: Any) -> ev.PatientEvent:
        """Records the next event (chained to the previous one for tamper evidence,
        journey.chain): applies it and returns it."""
        version = self.version + 1
        fields = _chained(self.id, version, self.chain_head, event_class, fields)
        identity = {"originator_id": self.id, "originator_version": version}
        event = ev.decided(event_class, {**identity, **fields})
        event.mutate(self)
        self._pending_events.append(event)
        return event

    def record_for(
        self,
        event_class: type[ev.PatientEvent],
        cmd: Any,
        by: str | None,
        *,
        occurred_at: datetime | None = None,
        **fields: Any,
    ) -> ev.PatientEvent:
        """`record` of the event a command decided: at the command's clinical time (or
        `occurred_at`: a correction or void is dated when it is recorded), with the actor it
        names and `by`, the principal recording it."""
        at = cmd.occurred_at if occurred_at is None else occurred_at
        return self.record(event_class, occurred_at=at, actor=cmd.actor, recorded_by=by, **fields)

    # -- admissions -------------------------------------------------------------------
    @classmethod
    def admit_new(
        cls, cmd: Admit, *, now: datetime, default_timezone: str, by: str | None = None
    ) -> Patient:
        _not_in_future(cmd.occurred_at, now)
        fields = {
            "occurred_at": cmd.occurred_at,
            "actor": cmd.actor,
            "recorded_by": by,
            "level": cmd.level,
            "asam_code": cmd.asam_code,
            "age_group": cmd.age_group,
            "timezone": cmd.timezone or default_timezone,
        }
        fields = _chained(cmd.patient_id, 1, chain.GENESIS, ev.PatientAdmitted, fields)
        identity = {"originator_id": cmd.patient_id, "originator_version": cls.INITIAL_VERSION}
        event = ev.decided(
            ev.PatientAdmitted, {**identity, "originator_topic": get_topic(cls), **fields}
        )
        patient: Patient = event.mutate(None)
        patient._pending_events.append(event)
        return patient

    def readmit(self, cmd: Admit, *, now: datetime, by: str | None = None) -> ev.PatientEvent:
        _not_in_future(cmd.occurred_at, now)
        if self.episode_open:
            raise conflict("command", "no_open_episode", "the patient already has an open episode")
        last_discharge = self.episodes[-1][1]
        if last_discharge is not None and cmd.occurred_at < last_discharge:
            raise violation(
                "occurred_at",
                "after_last_discharge",
                f"is earlier than the last discharge ({last_discharge.isoformat()})",
            )
        if cmd.timezone is not None and cmd.timezone != self.timezone:
            raise violation(
                "timezone",
                "timezone_fixed",
                f"differs from the patient's time zone '{self.timezone}' set at first admission",
            )
        return self.record_for(
            ev.PatientAdmitted,
            cmd,
            by,
            originator_topic=get_topic(type(self)),
            level=cmd.level,
            asam_code=cmd.asam_code,
            age_group=cmd.age_group,
            timezone=self.timezone,
        )

    # -- level of care ----------------------------------------------------------------
    def transition(
        self, cmd: Transition, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent:
        _not_in_future(cmd.occurred_at, now)
        current = self._open_stay("transition")
        if cmd.to_level == self.level:
            raise violation("to_level", "new_level", f"the patient is already at '{self.level}'")
        self._not_before_stay(cmd.occurred_at, current)
        levels = default_catalog().levels
        assert self.level is not None
        direction = (
            "step_down" if levels[cmd.to_level].rank < levels[self.level].rank else "step_up"
        )
        return self.record_for(
            ev.LevelOfCareChanged,
            cmd,
            by,
            from_level=self.level,
            to_level=cmd.to_level,
            asam_code=cmd.asam_code,
            direction=direction,
            reason=cmd.reason,
        )

    def discharge(self, cmd: Discharge, *, now: datetime, by: str | None = None) -> ev.PatientEvent:
        _not_in_future(cmd.occurred_at, now)
        self._not_before_stay(cmd.occurred_at, self._open_stay("discharge"))
        self._no_session_after(cmd.occurred_at)
        self._no_program_fact_after(cmd.occurred_at)
        return self.record_for(
            ev.PatientDischarged,
            cmd,
            by,
            reason=cmd.reason,
        )

    @property
    def episode_open(self) -> bool:
        return bool(self.episodes) and self.episodes[-1][1] is None

    def _open_stay(self, command: str) -> datetime:
        if not self.episode_open or self.stay_started_at is None:
            raise conflict("command", "open_episode", f"{command} needs an open episode")
        return self.stay_started_at

    def _no_session_after(self, discharged_at: datetime) -> None:
        """Sessions of earlier episodes lie before the current admission, so a live session
        after `discharged_at` belongs to the open episode and would end up outside it."""
        later = [
            (s["occurred_at"], sid)
            for sid, s in self.sessions.items()
            if not s["voided"] and s["occurred_at"] > discharged_at
        ]
        if later:
            at, session_id = max(later)
            raise conflict(
                "occurred_at",
                "sessions_after_discharge",
                f"is earlier than session '{session_id}' of the episode ({at.isoformat()});"
                " correct or void the later sessions first",
            )

    def _no_program_fact_after(self, discharged_at: datetime) -> None:
        latest = self.latest_program_fact()
        if latest is not None and latest[0] > discharged_at:
            raise conflict(
                "occurred_at",
                "facts_after_discharge",
                f"is earlier than the {latest[1]} of the episode ({latest[0].isoformat()})",
            )

    @staticmethod
    def _not_before_stay(occurred_at: datetime, stay_start: datetime) -> None:
        if occurred_at < stay_start:
            raise violation(
                "occurred_at",
                "after_current_stay_start",
                f"is earlier than the start of the current stay ({stay_start.isoformat()})",
            )

    # -- sessions ---------------------------------------------------------------------
    def record_session(
        self, cmd: RecordSession, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent | None:
        """Records the session; None when it is a retry of one already recorded."""
        _not_in_future(cmd.occurred_at, now)
        content = fp.session_content(cmd)
        known = self.sessions.get(cmd.session_id)
        if known is not None:
            if known["fingerprint"] == fp.session_fingerprint(content):
                return None
            raise conflict(
                "session_id",
                "unique_session_id",
                "is already used with different content",
            )
        self._within_an_episode(cmd.occurred_at, "occurred_at")
        return self.record(
            ev.SessionRecorded,
            actor=cmd.actor,
            recorded_by=by,
            session_id=cmd.session_id,
            **content,
        )

    def correct_session(
        self, cmd: CorrectSession, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent | None:
        """Records the correction; None when it repeats the session's last correction."""
        changes = cmd.changes()
        known = self.sessions.get(cmd.session_id)
        if known is not None and known["last_correction"] == fp.correction_fingerprint(
            changes, cmd.reason
        ):
            return None
        session = self._live_session(cmd.session_id)
        if "occurred_at" in changes:
            _not_in_future(changes["occurred_at"], now)
            self._within_an_episode(changes["occurred_at"], "occurred_at")
        self._changes_something(session, changes)
        return self.record_for(
            ev.SessionCorrected,
            cmd,
            by,
            occurred_at=now,
            session_id=cmd.session_id,
            reason=cmd.reason,
            format=cmd.format,
            approach=cmd.approach,
            duration_minutes=cmd.duration_minutes,
            session_occurred_at=cmd.session_occurred_at,
            delivery=cmd.delivery,
            status=cmd.status,
        )

    @staticmethod
    def _changes_something(session: dict[str, Any], changes: dict[str, Any]) -> None:
        current = {**session["values"], "occurred_at": session["occurred_at"]}
        if all(current[name] == value for name, value in changes.items()):
            raise RuleViolation(
                *(
                    Issue(name, "no_change", f"is already {_text(value)}: nothing to correct")
                    for name, value in changes.items()
                )
            )

    def void_session(
        self, cmd: VoidSession, *, now: datetime, by: str | None = None
    ) -> ev.PatientEvent:
        self._live_session(cmd.session_id)
        return self.record_for(
            ev.SessionEnteredInError,
            cmd,
            by,
            occurred_at=now,
            session_id=cmd.session_id,
            reason=cmd.reason,
        )

    def _live_session(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise violation("session_id", "known_session", f"no session '{session_id}' recorded")
        if session["voided"]:
            raise violation("session_id", "not_voided", f"session '{session_id}' is voided")
        return session

    def _within_an_episode(self, at: datetime, field: str) -> None:
        for admitted, discharged in self.episodes:
            assert admitted is not None
            if admitted <= at and (discharged is None or at <= discharged):
                return
        raise violation(
            field,
            "within_episode",
            "lies outside every episode (before admission or after discharge)",
        )
