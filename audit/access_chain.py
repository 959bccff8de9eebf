"""Tamper evidence and encryption of the access trail's rows (SPEC section 10).

Chain: every row carries `row_hash` = SHA-256 of the previous row's hash and of the row's
own canonical content (journey.chain.link; the first row links to GENESIS), so an UPDATE,
a DELETE (of any row but the last) or an INSERT around the service breaks the chain at the
first row concerned, even when the append-only triggers were dropped. Rows are chained in
`id` order; appends are serialized (PostgreSQL: a table lock in the insert transaction;
SQLite: its write lock), so writers never fork the chain.

Encryption (JOURNEY_CIPHER_KEY set): the patient id and the detail of a row are stored
only inside `sealed` (AES-256-GCM under a key derived for the trail), with `patient_ref`,
the keyed pseudonym of the patient id, to filter by patient. The chain covers the stored
(sealed) values, so `verify` needs no key."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from audit.pseudonyms import derive_key, pseudonym
from infrastructure.sql import Database, Dialect, instant_of
from journey import chain

TABLE = "audit_access_log"
# The stored columns a row's hash covers, in this order (`id` and `row_hash` aside).
STORED = (
    "at",
    "actor",
    "role",
    "channel",
    "source",
    "action",
    "patient_id",
    "detail",
    "outcome",
    "patient_ref",
    "sealed",
)
ADDED = ("patient_ref", "sealed", "row_hash")  # columns the trail of main f282db8 lacks
PAGE = 1_000


def row_content(dialect: Dialect, values: Sequence[Any]) -> bytes:
    """The canonical bytes of a row (STORED order): JSON, sorted keys, `at` in UTC."""
    document = dict(zip(STORED, values, strict=True))
    at = instant_of(dialect, document["at"]).astimezone(UTC)
    document["at"] = at.isoformat(timespec="microseconds")
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class TrailCipher:
    """The trail's keys, derived from the master key."""

    pseudonym_key: bytes
    encryption_key: bytes

    @classmethod
    def from_master(cls, master_key_b64: str) -> TrailCipher:
        return cls(
            derive_key(master_key_b64, "access-trail.pseudonym"),
            derive_key(master_key_b64, "access-trail.encryption"),
        )

    def ref(self, patient_id: str | None) -> str | None:
        return None if patient_id is None else pseudonym(self.pseudonym_key, patient_id)

    def seal(self, patient_id: str | None, detail: str) -> str:
        nonce = os.urandom(12)
        plain = orjson.dumps({"patient_id": patient_id, "detail": detail})
        sealed = nonce + AESGCM(self.encryption_key).encrypt(nonce, plain, TABLE.encode())
        return base64.b64encode(sealed).decode()

    def unseal(self, sealed: str) -> tuple[str | None, str]:
        """(patient id, detail); ValueError when the key does not open it."""
        try:
            raw = base64.b64decode(sealed, validate=True)
            plain = AESGCM(self.encryption_key).decrypt(raw[:12], raw[12:], TABLE.encode())
        except (binascii.Error, InvalidTag) as error:
            raise ValueError("the access trail row cannot be decrypted with this key") from error
        document = orjson.loads(plain)
        return document["patient_id"], document["detail"]


@dataclass(frozen=True)
class TrailBreak:
    row: int
    reason: str

    def __str__(self) -> str:
        return f"access trail row {self.row}: {self.reason}"


@dataclass
class TrailVerification:
    rows: int = 0
    breaks: list[TrailBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def first(self) -> TrailBreak | None:
        return self.breaks[0] if self.breaks else None


def verify_trail(db: Database) -> TrailVerification:
    """Recomputes the chain of the whole trail in `id` order; each break names its row."""
    result, previous, last_id = TrailVerification(), chain.GENESIS, 0
    select = (
        f"SELECT id, row_hash, {', '.join(STORED)} FROM {TABLE} WHERE id > ? ORDER BY id"
        f" LIMIT {PAGE}"
    )
    while True:
        with db.transaction() as unit:
            rows = unit.all(select, [last_id])
        if not rows:
            return result
        for row_id, stored_hash, *values in rows:
            result.rows += 1
            reason = _check(db.dialect, previous, stored_hash, values)
            if reason and row_id != last_id + 1:
                reason += f" (no row between {last_id} and {row_id})"
            if reason:
                result.breaks.append(TrailBreak(row_id, reason))
            previous, last_id = stored_hash or previous, row_id


def _check(dialect: Dialect, previous: str, stored_hash: str | None, values: list[Any]) -> str:
    if stored_hash is None:
        return "has no chain hash (written around the service)"
    if chain.link(previous, row_content(dialect, values)) != stored_hash:
        return "does not match its chain hash (edited, or a row before it deleted)"
    return ""
