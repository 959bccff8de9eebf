"""The read models' pseudonyms: which key (derived from the master key, or the random key
of a plain store kept in `journey_meta`), and how an event envelope is pseudonymized before
the read-model handlers see it."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel

from audit.pseudonyms import pseudonym, pseudonym_key
from infrastructure.keys import parse_master_key
from infrastructure.keystore import KeyStore
from infrastructure.sql import Database
from journey.events import (
    EventEnvelope,
    LevelOfCareChanged,
    PatientDischarged,
    TreatmentPlanCreated,
    TreatmentPlanReviewed,
)

PSEUDONYM_KEY = "pseudonym_key"  # journey_meta row of a plain store (hex)
ID_FIELDS = (
    ("session_id", "session"),
    ("clinician_id", "clinician"),
    ("previous_clinician_id", "clinician"),
    ("to_clinician_id", "clinician"),
    ("plan_id", "plan"),
    ("referral_id", "referral"),
)
CACHED = 100_000


class Pseudonymizer:
    """Envelope in, the same envelope for the read models out: patient, session and
    clinician ids replaced by keyed pseudonyms, free text (reasons, actor) left out."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        # the C LRU cache (thread-safe): a replay looks up ids for every event
        self._cached = lru_cache(maxsize=CACHED)(self._pseudonym)

    def _pseudonym(self, value: str, kind: str) -> str:
        return pseudonym(self.key, value, kind)

    def id(self, value: str, kind: str = "patient") -> str:
        return self._cached(value, kind)

    def __call__(self, envelope: EventEnvelope, *, in_place: bool = False) -> EventEnvelope:
        """The pseudonymized envelope: a copy, or with `in_place` (for an envelope its
        caller just built and shares with nobody, as a replay does) the envelope itself."""
        payload: Any = envelope.payload
        fields = payload.__dict__  # a model's field values: no AttributeError for a missing one
        changes: dict[str, Any] = {}
        for name, kind in ID_FIELDS:
            value = fields.get(name)
            if value is not None:
                changes[name] = self.id(value, kind)
        if fields.get("reason") and not isinstance(payload, PatientDischarged):
            # free text: none in the read models (a discharge reason is a catalog code)
            changes["reason"] = None if isinstance(payload, LevelOfCareChanged) else ""
        if isinstance(payload, TreatmentPlanCreated):
            changes["goals"] = []  # goals and objectives carry free-text descriptions
        elif isinstance(payload, TreatmentPlanReviewed):
            changes["objectives"] = {}  # keyed by the plan's objective ids: not needed
        if in_place:
            _update(payload, changes)
            _update(envelope, {"patient_id": self.id(envelope.patient_id), "actor": None})
            return envelope
        return _updated(
            envelope,
            {
                "patient_id": self.id(envelope.patient_id),
                "actor": None,
                "payload": _updated(payload, changes) if changes else payload,
            },
        )


M = TypeVar("M", bound=BaseModel)


def _update(model: BaseModel, changes: dict[str, Any]) -> None:
    """Assigns already valid values to a wire model's fields (no validation, no copy)."""
    if changes:
        model.__dict__.update(changes)
        model.__pydantic_fields_set__.update(changes)


def _updated(model: M, changes: dict[str, Any]) -> M:
    """`model.model_copy(update=changes)` for the wire models (no extras, no private
    attributes), without its generic copying: replays pseudonymize every event."""
    copy = model.__class__.__new__(model.__class__)
    object.__setattr__(copy, "__dict__", {**model.__dict__, **changes})
    object.__setattr__(copy, "__pydantic_fields_set__", model.model_fields_set | changes.keys())
    object.__setattr__(copy, "__pydantic_extra__", None)
    object.__setattr__(copy, "__pydantic_private__", None)
    return copy


def app_pseudonymizer(app: Any) -> Pseudonymizer:
    """The pseudonymizer of an application's store (built by services.bootstrap)."""
    keyring = getattr(app.mapper, "keyring", None)
    if keyring is not None:
        return Pseudonymizer(pseudonym_key(keyring.master))
    store = KeyStore(app.recorder.datastore, app.recorder.events_table_name)
    return Pseudonymizer(bytes.fromhex(plain_store_key(store)))


def plain_store_key(store: KeyStore) -> str:
    """The random pseudonym key of a store without master key (created once, hex)."""
    value = store.get_meta(PSEUDONYM_KEY)
    if value is None:
        store.put_meta(PSEUDONYM_KEY, secrets.token_hex(32))
        value = store.get_meta(PSEUDONYM_KEY)
    assert value is not None
    return value


def db_pseudonymizer(db: Database, cipher_key: str | None) -> Pseudonymizer:
    """The same, for a process that only has a SQL connection to the read models' store
    (the Kafka projector): without master key, the random key of that store's
    `journey_meta` (created when missing; a read-model store other than the event store
    gets the event store's `pseudonym_key` row copied to agree with it)."""
    master = parse_master_key(cipher_key)
    if master is not None:
        return Pseudonymizer(pseudonym_key(master))
    with db.transaction() as unit:
        unit.execute(
            "CREATE TABLE IF NOT EXISTS journey_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
        )
        unit.execute(
            "INSERT INTO journey_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (PSEUDONYM_KEY, secrets.token_hex(32)),
        )
        row = unit.one("SELECT value FROM journey_meta WHERE name = ?", (PSEUDONYM_KEY,))
    assert row is not None
    return Pseudonymizer(bytes.fromhex(str(row[0])))
