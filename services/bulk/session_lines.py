"""A `record_session` line straight to its stored row, in one step, on the common shape.

Most lines of an intake file record a session. The bulk workers take such a line here
without a command model, an event object or a second walk of its values: the JSON text is
read once (`orjson`), its fields checked by the rules `RecordSession` declares (the same
identifier pattern, lengths, range, catalog lists, instant parser and defaults), then
decided, hashed, applied and written in one step (`_record`): the patient's rules of
`SessionDecisions.record`, the canonical bytes and chain hash it writes, the session the
patient keeps, and the stored row `RowEncoder.session_row` writes for the event, from the
line's values directly (no values dict, no event, no second encoding pass). The chain
content, its hash and the stored state are written by the compiled step
(`services/bulk/_rowstep.c`) where it was built, else by `_written`, the reference: the
same bytes (tests/app/test_bulk_row_step.py; the comparisons below run both).

Only a line whose every field is of the plain form is taken (the object holds the command's
fields alone, each of the exact JSON type the model asks for, every value valid). Anything
else (a field the model would reject, coerce or default otherwise, text orjson cannot read)
and every case `SessionDecisions.record` hands back (a retry, a clash, an instant the rules
reject) returns None: the caller then decides the line by the reference path (`parse_line`,
`Decider`), which names the error or gives the outcome, so the result is the same either way.

`SHAPE` holds when `RecordSession` still declares the fields and rules below
(`_declared`); else no line is taken here. tests/app/test_bulk_session_lines.py compares this
path with the reference path on generated lines and histories (rows, hashes, anchors,
outcomes, errors) and checks that it was taken."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import orjson
from eventsourcing.utils import get_topic

from audit.anchors import Row
from journey import values as value_types
from journey.commands import RecordSession
from journey.patient import Patient
from journey.session_batch import Event, SessionDecisions
from services.bulk.rows import RowEncoder, iso_text

Step = Callable[..., tuple[str, bytes] | None]
compiled_step: Step | None
try:  # the compiled byte writing (setup.py builds it where a C compiler is): same bytes
    from services.bulk._rowstep import session_row as compiled_step
except ImportError:  # pragma: no cover - a machine without a C compiler
    compiled_step = None

# The schema `RecordSession` declares, as its JSON Schema states it (catalog lists aside:
# they are read from the same catalog as the model's validators read them)
_DECLARED: dict[str, dict[str, Any]] = {
    "session_id": {"type": "string", "pattern": value_types.IDENTIFIER},
    "format": {"type": "string", "enum": True},
    "approach": {"type": "string", "enum": True},
    "duration_minutes": {"type": "integer", "minimum": 1, "maximum": 720},
    "delivery": {"type": "string", "enum": True, "default": "in_person"},
    "status": {"type": "string", "enum": True, "default": "attended"},
    "clinician_id": {
        "anyOf": [{"pattern": value_types.IDENTIFIER, "type": "string"}, {"type": "null"}],
        "default": None,
    },
    "patient_id": {"type": "string", "pattern": value_types.IDENTIFIER},
    "command": {"const": "record_session", "default": "record_session", "type": "string"},
    "occurred_at": {"format": "date-time", "type": "string"},
    "actor": {
        "anyOf": [{"maxLength": 128, "minLength": 1, "type": "string"}, {"type": "null"}],
        "default": None,
    },
}
_DEFAULTS = {"delivery": "in_person", "status": "attended", "clinician_id": None, "actor": None}
_REQUIRED = frozenset(
    {"command", "patient_id", "session_id", "format", "approach", "duration_minutes"}
    | {"occurred_at"}
)
_CATALOG = {"format": "format", "approach": "approach", "delivery": "delivery", "status": "status"}


def _facts(schema: dict[str, Any]) -> dict[str, Any]:
    """A property's rules as declared: what `_DECLARED` lists (title, description off; an
    enum's values stand as True)."""
    facts = {k: v for k, v in schema.items() if k not in ("title", "description")}
    if "enum" in facts:
        facts["enum"] = True
    if "anyOf" in facts:
        facts["anyOf"] = [_facts(option) for option in facts["anyOf"]]
    return facts


def _declared() -> bool:
    """Whether `RecordSession` validates as this module checks: the same properties and
    rules, no other field, no coercion of the duration, `_iso_instant` reading the
    instant, the catalog kinds of `_CATALOG`."""
    fields = RecordSession.model_fields
    schema = RecordSession.model_json_schema()
    properties = {name: _facts(rules) for name, rules in schema["properties"].items()}
    config = RecordSession.model_config
    return (
        properties == _DECLARED
        and set(schema["required"]) == _REQUIRED - {"command"}  # the union requires it
        and config.get("extra") == "forbid"
        and not config.get("str_strip_whitespace")
        and not config.get("strict")
        and any(getattr(m, "strict", False) for m in fields["duration_minutes"].metadata)
        and any(
            getattr(m, "func", None) is value_types._iso_instant
            for m in fields["occurred_at"].metadata
        )
        and all(
            any(getattr(m, "kind", None) == kind for m in fields[name].metadata)
            for name, kind in _CATALOG.items()
        )
        and not _own_validators()
    )


def _own_validators() -> bool:
    found = RecordSession.__pydantic_decorators__
    return bool(
        found.validators
        or found.field_validators
        or found.root_validators
        or found.model_validators
    )


SHAPE = _declared()
_IDENTIFIER = re.compile(value_types.IDENTIFIER.removeprefix("^").removesuffix("$")).fullmatch
_TAG = '"record_session"'


def _catalog(name: str) -> frozenset[str]:
    metadata = RecordSession.model_fields[name].metadata
    (value,) = [m for m in metadata if isinstance(m, value_types.CatalogValue)]
    return frozenset(value.values())


class SessionLines:
    """`row(text, patient)`: the stored row of a `record_session` line decided on
    `patient`, or None (the reference path decides it). `taken` counts the rows made."""

    def __init__(self, sessions: SessionDecisions, rows: RowEncoder, actor: str | None) -> None:
        self.sessions, self.rows, self.actor = sessions, rows, actor
        self.formats, self.approaches = _catalog("format"), _catalog("approach")
        self.deliveries, self.statuses = _catalog("delivery"), _catalog("status")
        self.instants, self.topic = rows.session_instants, get_topic(Event)
        self.taken = 0
        # the compiled step writes instants as orjson does: only when they are stored so
        self.step = compiled_step if rows.session_instants[1] is iso_text else None

    def row(self, text: str, patient: Patient) -> Row | None:
        if _TAG not in text:
            return None
        try:
            line = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        if type(line) is not dict:
            return None
        if line.keys() != _DECLARED.keys():  # optional fields left out: their defaults
            if not _REQUIRED <= line.keys() <= _DECLARED.keys():
                return None
            line = {**_DEFAULTS, **line}
        try:
            at = self._instant(line, patient)
        except TypeError:  # a value of another JSON type (a list or object: unhashable)
            return None
        if at is None:
            return None
        row = self._record(line, at, patient)
        if row is not None:
            self.taken += 1
        return row

    def _record(self, line: dict[str, Any], at: datetime, patient: Patient) -> Row | None:
        """`SessionDecisions.record` of a valid line's session, written straight to its
        chain hash and stored row (no event, no values dict; the same rules, bytes and
        aggregate state: `record`, `_canonical_content`, `ev.recorded_session`,
        `fp.session_fingerprint`, `RowEncoder.session_row`). None, the patient untouched,
        when the reference path must decide it."""
        decisions = self.sessions
        session_id = line["session_id"]
        at_utc = decisions.common_case(patient, session_id, at)
        if at_utc is None:
            return None
        timestamp = Event.create_timestamp()
        version, patient_id, by = patient.version + 1, patient.id, decisions.by
        actor = line["actor"]
        if actor is None:
            actor = self.actor
        form, status = line["format"], line["status"]
        approach, minutes = line["approach"], line["duration_minutes"]
        delivery, clinician = line["delivery"], line["clinician_id"]
        timestamp_utc = timestamp if timestamp.tzinfo is UTC else timestamp.astimezone(UTC)
        step = self.step
        made = None
        if step is not None:
            made = step(
                patient.chain_head,
                patient_id,
                version,
                by,
                actor,
                approach,
                clinician,
                delivery,
                minutes,
                form,
                session_id,
                status,
                at,
                at_utc,
                timestamp,
                timestamp_utc,
                self.instants[0],
            )
        if made is None:
            chain_hash, stored = self._written(
                patient,
                version=version,
                by=by,
                actor=actor,
                form=form,
                status=status,
                approach=approach,
                minutes=minutes,
                delivery=delivery,
                clinician=clinician,
                session_id=session_id,
                at=at,
                at_utc=at_utc,
                timestamp=timestamp,
                timestamp_utc=timestamp_utc,
            )
        else:
            chain_hash, stored = made
        patient.sessions[session_id] = {  # `ev.recorded_session`, `fp.session_fingerprint`
            "fingerprint": f"{at.timestamp()!r}|{form}|{approach}|{minutes}|{delivery}|{status}|"
            f"{clinician}",
            "occurred_at": at,
            "voided": False,
            "values": {
                "format": form,
                "approach": approach,
                "duration_minutes": minutes,
                "delivery": delivery,
                "status": status,
            },
            "last_correction": None,
        }
        patient.chain_head = chain_hash
        patient.version = version
        patient.modified_on = timestamp
        return patient_id, version, self.topic, stored

    def _written(
        self,
        patient: Patient,
        *,
        version: int,
        by: str | None,
        actor: str | None,
        form: str,
        status: str,
        approach: str,
        minutes: int,
        delivery: str,
        clinician: str | None,
        session_id: str,
        at: datetime,
        at_utc: datetime,
        timestamp: datetime,
        timestamp_utc: datetime,
    ) -> tuple[str, bytes]:
        """The chain hash and stored state of the session, written in Python (the reference
        for the compiled step, and what runs without it)."""
        hashed = {  # `_canonical_content`: sorted keys, instants in UTC
            "actor": actor,
            "approach": approach,
            "clinician_id": clinician,
            "delivery": delivery,
            "duration_minutes": minutes,
            "format": form,
            "occurred_at": at_utc,
            "recorded_by": by,
            "session_id": session_id,
            "status": status,
            "timestamp": timestamp_utc,
        }
        if by is None:  # hashed as schema version 1, without it
            del hashed["recorded_by"]
        content = orjson.dumps(
            {
                "fields": hashed,
                "patient_id": patient.id,
                "schema_version": 1 if by is None else 2,
                "type": "SessionRecorded",
                "version": version,
            }
        )
        chain_hash = sha256(patient.chain_head.encode() + b"\n" + content).hexdigest()
        name, text = self.instants
        state = {  # `RowEncoder.session_row`
            "timestamp": {"_type_": name, "_data_": text(timestamp)},
            "occurred_at": {"_type_": name, "_data_": text(at)},
            "actor": actor,
            "recorded_by": by,
            "chain_hash": chain_hash,
            "session_id": session_id,
            "format": form,
            "approach": approach,
            "duration_minutes": minutes,
            "delivery": delivery,
            "status": status,
            "clinician_id": clinician,
            "class_version": 2,
        }
        return chain_hash, orjson.dumps(state)

    def _instant(self, line: dict[str, Any], patient: Patient) -> datetime | None:
        """The line's instant when every field is valid as given (None: not so), each
        checked as `RecordSession` checks it; the catalog sets hold text alone, the
        identifiers match text alone (TypeError for anything else)."""
        duration, actor, clinician = line["duration_minutes"], line["actor"], line["clinician_id"]
        if not (
            line["command"] == "record_session"
            and line["patient_id"] == patient.id  # a valid identifier, as given
            and _IDENTIFIER(line["session_id"])
            and line["format"] in self.formats
            and line["approach"] in self.approaches
            and line["delivery"] in self.deliveries
            and line["status"] in self.statuses
            and type(duration) is int
            and 1 <= duration <= 720
            and (clinician is None or _IDENTIFIER(clinician))
            and (actor is None or (type(actor) is str and 1 <= len(actor) <= 128))
        ):
            return None
        try:
            at = datetime.fromisoformat(line["occurred_at"])
        except ValueError:
            return None
        return at if at.tzinfo is not None else None
