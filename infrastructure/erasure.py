"""Erasure of one patient (crypto-shredding, SPEC section 10).

Erasing appends an erasure marker to the patient's stream, in clear: when, why, who, and
the patient's chain head and version at erasure; the anchored recorder destroys the
patient's wrapped data key in the same transaction. The patient's events stay (the log's
anchors, over the stored bytes, still verify) but can no longer be decrypted; the marker is
an anchored fact an auditor can read, and readers following the log (relay, projector)
see it as any other notification and forget the patient."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.persistence import IntegrityError, StoredEvent

from journey.errors import (
    ConcurrentUpdate,
    Conflict,
    Issue,
    UnknownPatient,
    invalid,
)

ERASURE_TOPIC = "infrastructure.erasure:ErasureMarker"
MAX_REASON = 500
ATTEMPTS = 5


@dataclass(frozen=True)
class ErasureMarker:
    """The stored erasure fact (its JSON is the stored state, never encrypted)."""

    erased_at: str
    reason: str
    actor: str | None
    erased_version: int  # the patient's last version before erasure
    chain_head: str  # the patient's chain hash at that version


def read_marker(state: bytes) -> ErasureMarker:
    return ErasureMarker(**orjson.loads(state))


class ErasureNeedsEncryption(Conflict):
    """Erasure destroys a data key: a plain store has none (HTTP 409, CLI exit 4)."""

    def __init__(self) -> None:
        super().__init__(
            Issue(
                "JOURNEY_CIPHER_KEY",
                "encryption_at_rest_required",
                "erasure needs encryption at rest: this store is plain (no "
                "JOURNEY_CIPHER_KEY), so its records cannot be crypto-shredded",
            )
        )


def erase_patient(
    app: Any, patient_id: str, reason: str, *, actor: str | None, now: datetime | None = None
) -> ErasureMarker:
    """Erases the patient of `app` (a JourneyApplication built by services.bootstrap).
    Raises ErasureNeedsEncryption, UnknownPatient, or PatientErased when already erased."""
    if getattr(app.mapper, "keyring", None) is None:
        raise ErasureNeedsEncryption
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise invalid("reason", "erasure_reason", f"must be 1 to {MAX_REASON} characters")
    for attempt in range(ATTEMPTS):
        with app._write_lock:
            app.forget(patient_id)
            patient = app.load_patient(patient_id)
            if patient is None:
                raise UnknownPatient(patient_id)
            at = (now or datetime.now(UTC)).astimezone(UTC).isoformat()
            marker = ErasureMarker(at, reason, actor, patient.version, patient.chain_head)
            stored = StoredEvent(
                patient_id, patient.version + 1, ERASURE_TOPIC, orjson.dumps(asdict(marker))
            )
            try:
                app.recorder.insert_events([stored])
            except IntegrityError:
                time.sleep(0.01 * 2**attempt)
                continue
            finally:
                app.forget(patient_id)
                app.mapper.keyring.forget(patient_id)
            return marker
    raise ConcurrentUpdate(Issue("patient_id", "no_concurrent_update", "kept changing: retry"))
