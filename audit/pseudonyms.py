"""Keys derived from the master key (JOURNEY_CIPHER_KEY), and keyed pseudonyms for the
identifiers kept outside the encrypted events: the read models' patient, clinician and
session ids, and the access trail's patient reference.

A derived key is an HMAC-SHA256 of a label under the master key: it tells nothing of the
master key or of the keys of other purposes. A store without master key keeps a random
pseudonym key in its `journey_meta` table. Without the key a pseudonym cannot be linked to
an identifier, even by trying every likely id; with it, the same id always gives the same
pseudonym (joins, filters and counts per patient still work)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from journey.errors import invalid

PURPOSE_PREFIX = b"care-journey:"
LABEL = b"care-journey pseudonyms v1"
PREFIX = "ps_"


def derive_key(master_key_b64: str, purpose: str) -> bytes:
    """A 32-byte key for `purpose` (e.g. "access-trail.pseudonym") from the base64 master key."""
    try:
        master = base64.b64decode(master_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("JOURNEY_CIPHER_KEY", "base64_key", "is not valid base64") from None
    return hmac.new(master, PURPOSE_PREFIX + purpose.encode(), hashlib.sha256).digest()


def pseudonym_key(master: bytes) -> bytes:
    """The read models' pseudonym key of a master key (raw bytes)."""
    return hmac.new(master, LABEL, hashlib.sha256).digest()


def pseudonym(key: bytes, value: str, kind: str = "patient") -> str:
    """`ps_` and 32 hex digits (128 bits); `kind` separates the id spaces (patient,
    clinician, session...), so one value never gives the same pseudonym in two of them."""
    digest = hmac.new(key, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]
