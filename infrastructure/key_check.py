"""The store's key check value (`journey_meta.key_check`): a process whose
`JOURNEY_CIPHER_KEY` does not fit the store refuses to start, before writing anything.

A store without a check value (written by a version before it existed) is adopted on the
first start that fits it: a plain store (its events are JSON) by a process without key; an
encrypted one by a process whose key decrypts its first and last events."""

from __future__ import annotations

import orjson
from cryptography.exceptions import InvalidTag

from infrastructure import keys
from infrastructure.keys import PLAIN, StoreKeyError
from infrastructure.keystore import KeyStore

KEY_CHECK = "key_check"
RULE = "the store accepts only the key it was created with [cipher_key_matches_store]"


def check_store_key(store: KeyStore, master: bytes | None) -> bool:
    """Raises StoreKeyError when `master` does not fit the store; True when the store has
    no check value yet (the caller records it once the tables exist)."""
    recorded = store.get_meta(KEY_CHECK)
    if recorded is None:
        for state in store.sample_states():
            _check_sample(state, master)
        return True
    if recorded == keys.check_value(master):
        return False
    if recorded == PLAIN:
        raise StoreKeyError(
            "JOURNEY_CIPHER_KEY is set but this store is not encrypted (plain); a plain store "
            f"stays plain: unset JOURNEY_CIPHER_KEY. Rule: {RULE}"
        )
    if master is None:
        raise StoreKeyError(
            f"this store is encrypted: set JOURNEY_CIPHER_KEY to its key. Rule: {RULE}"
        )
    raise StoreKeyError(
        "JOURNEY_CIPHER_KEY is not the key of this store (its check value differs); "
        f"nothing was written. Rule: {RULE}"
    )


def record_store_key(store: KeyStore, master: bytes | None) -> None:
    """Records the check value (first writer wins), then makes sure it is ours."""
    store.put_meta(KEY_CHECK, keys.check_value(master))
    check_store_key(store, master)


def _check_sample(state: bytes, master: bytes | None) -> None:
    plain = _is_json(state)
    if master is None and not plain:
        raise StoreKeyError(
            f"this store's events are encrypted: set JOURNEY_CIPHER_KEY to its key. Rule: {RULE}"
        )
    if master is not None and plain:
        raise StoreKeyError(
            "JOURNEY_CIPHER_KEY is set but this store's events are not encrypted (plain); "
            f"a plain store stays plain: unset JOURNEY_CIPHER_KEY. Rule: {RULE}"
        )
    if master is not None and not keys.is_patient_format(state):
        try:
            keys.decrypt(master, state)
        except InvalidTag:
            raise StoreKeyError(
                "JOURNEY_CIPHER_KEY does not decrypt this store's events: it is not the key "
                f"they were written with; nothing was written. Rule: {RULE}"
            ) from None


def _is_json(state: bytes) -> bool:
    try:
        orjson.loads(state)
    except orjson.JSONDecodeError:
        return False
    return True
