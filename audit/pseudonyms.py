"""Keyed pseudonyms (HMAC-SHA256) for identifiers kept outside the encrypted events: the
read models' patient, clinician and session ids (and, later, the access trail's).

The key is derived from the master key (`JOURNEY_CIPHER_KEY`) with HMAC and a label of its
own, so it is neither the master key nor any data key; a store without master key keeps a
random pseudonym key in its `journey_meta` table. Without the key a pseudonym cannot be
linked to an identifier, even by trying every likely id; with it, the same id always gives
the same pseudonym (joins and counts per patient still work)."""

from __future__ import annotations

import hashlib
import hmac

LABEL = b"care-journey pseudonyms v1"
PREFIX = "ps_"


def derive_key(master: bytes) -> bytes:
    """The pseudonym key of a master key."""
    return hmac.new(master, LABEL, hashlib.sha256).digest()


def pseudonym(key: bytes, value: str, kind: str = "patient") -> str:
    """`ps_` and 32 hex digits (128 bits); `kind` separates the id spaces (patient,
    clinician, session...), so one value never gives the same pseudonym in two of them."""
    digest = hmac.new(key, f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]
