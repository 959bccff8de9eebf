"""Keys derived from the master key (JOURNEY_CIPHER_KEY), one per purpose, and keyed
pseudonyms: the same value always gives the same pseudonym under one key (so rows can be
filtered by it), and without the key a pseudonym cannot be computed or reversed.

`derive_key` is HMAC-SHA256(master key bytes, "care-journey:" + purpose): a key for one
purpose tells nothing of the master key or of the keys of other purposes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from journey.errors import invalid

PREFIX = b"care-journey:"


def derive_key(master_key_b64: str, purpose: str) -> bytes:
    """A 32-byte key for `purpose` (e.g. "access-trail.pseudonym") from the base64 master key."""
    try:
        master = base64.b64decode(master_key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise invalid("JOURNEY_CIPHER_KEY", "base64_key", "is not valid base64") from None
    return hmac.new(master, PREFIX + purpose.encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, value: str) -> str:
    """The keyed pseudonym of `value`: HMAC-SHA256, hex."""
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
