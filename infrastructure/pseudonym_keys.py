"""The read models' pseudonyms: which key (derived from the master key, or the random key
of a plain store kept in `journey_meta`), and how an event envelope is pseudonymized before
the read-model handlers see it."""

from __future__ import annotations

import secrets
from typing import Any

from eventsourcing.application import LRUCache

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
        self._cache: LRUCache[tuple[str, str], str] = LRUCache(maxsize=CACHED)

    def id(self, value: str, kind: str = "patient") -> str:
        try:
            return self._cache.get((kind, value))
        except KeyError:
            found = pseudonym(self.key, value, kind)
            self._cache.put((kind, value), found)
            return found

    def __call__(self, envelope: EventEnvelope) -> EventEnvelope:
        payload: Any = envelope.payload
        changes: dict[str, Any] = {}
        for name, kind in ID_FIELDS:
            value = getattr(payload, name, None)
            if value is not None:
                changes[name] = self.id(value, kind)
        if getattr(payload, "reason", None) and not isinstance(payload, PatientDischarged):
            # free text: none in the read models (a discharge reason is a catalog code)
            changes["reason"] = None if isinstance(payload, LevelOfCareChanged) else ""
        if isinstance(payload, TreatmentPlanCreated):
            changes["goals"] = []  # goals and objectives carry free-text descriptions
        elif isinstance(payload, TreatmentPlanReviewed):
            changes["objectives"] = {}  # keyed by the plan's objective ids: not needed
        return envelope.model_copy(
            update={
                "patient_id": self.id(envelope.patient_id),
                "actor": None,
                "payload": payload.model_copy(update=changes) if changes else payload,
            }
        )


def _undescribed(goal: Any) -> Any:
    objectives = [{**o, "description": None} for o in goal["objectives"]]
    return {**goal, "description": None, "objectives": objectives}


def app_pseudonymizer(app: Any) -> Pseudonymizer:
    """The pseudonymizer of an application's store (built by interfaces.bootstrap)."""
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
