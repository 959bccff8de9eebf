"""The master key (`JOURNEY_CIPHER_KEY`) and what is derived from it: the store's key check
value, the wrapping of each patient's data key, and the per-patient content format.

Formats (AES-GCM throughout, a 12-byte random nonce and the 16-byte tag before the cipher
text, as eventsourcing's AESCipher lays them out):
- a patient's event or snapshot: `PATIENT_FORMAT` (8 bytes) + nonce + tag + cipher text
  under the patient's data key, the patient id as associated data (a row moved to another
  patient does not decrypt);
- a wrapped data key: nonce + tag + cipher text of the 32-byte data key under the master
  key, with `b"data-key|" + patient id` as associated data;
- events written before per-patient keys (one key for the whole store): nonce + tag +
  cipher text under the master key, no prefix. They still decrypt (with the master key)."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import os
from base64 import b64decode
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PATIENT_FORMAT = b"\x00JRNYK1\x00"  # 2^-64 chance that a legacy cipher text starts so
KEY_SIZES = (16, 24, 32)
DATA_KEY_SIZE = 32
CHECK_CONSTANT = b"care-journey key check v1"
PLAIN = "plain"  # the check value of a store without encryption at rest


class StoreKeyError(Exception):
    """The process's JOURNEY_CIPHER_KEY does not fit the store: it must not start."""


def parse_master_key(text: str | None) -> bytes | None:
    """The master key's bytes (None: no encryption); StoreKeyError when malformed."""
    if text is None or text == "":
        return None
    try:
        key = b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        key = b""
    if len(key) not in KEY_SIZES:
        raise StoreKeyError(
            "JOURNEY_CIPHER_KEY is malformed: it must be the base64 text of an AES key of "
            "16, 24 or 32 bytes (e.g. from AESCipher.create_key(32)) [cipher_key_format]"
        )
    return key


def check_value(master: bytes | None) -> str:
    """What the store records about its key: `plain`, or an HMAC of a constant."""
    if master is None:
        return PLAIN
    digest = hmac.new(master, CHECK_CONSTANT, hashlib.sha256).hexdigest()
    return f"hmac-sha256:{digest}"


def encrypt(key: bytes, plaintext: bytes, associated: bytes | None = None) -> bytes:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, associated)
    return nonce + sealed[-16:] + sealed[:-16]


def decrypt(key: bytes, ciphertext: bytes, associated: bytes | None = None) -> bytes:
    """The plaintext; cryptography's InvalidTag when the key or the bytes are wrong."""
    if len(ciphertext) < 28:
        raise InvalidTag
    nonce, tag, body = ciphertext[:12], ciphertext[12:28], ciphertext[28:]
    return AESGCM(key).decrypt(nonce, body + tag, associated)


def new_data_key() -> bytes:
    return AESGCM.generate_key(DATA_KEY_SIZE * 8)


def wrap(master: bytes, patient_id: str, data_key: bytes) -> bytes:
    return encrypt(master, data_key, b"data-key|" + patient_id.encode())


def unwrap(master: bytes, patient_id: str, wrapped: bytes) -> bytes:
    return decrypt(master, wrapped, b"data-key|" + patient_id.encode())


def seal_content(data_key: bytes, patient_id: str, plaintext: bytes) -> bytes:
    return PATIENT_FORMAT + encrypt(data_key, plaintext, patient_id.encode())


def open_content(data_key: bytes, patient_id: str, stored: bytes) -> bytes:
    return decrypt(data_key, stored[len(PATIENT_FORMAT) :], patient_id.encode())


def content_opener(data_key: bytes, patient_id: str) -> Callable[[bytes], bytes]:
    """`open_content` with this key and patient for many contents (one cipher object)."""
    aead, associated, start = AESGCM(data_key), patient_id.encode(), len(PATIENT_FORMAT)

    def opened(stored: bytes) -> bytes:
        if len(stored) - start < 28:
            raise InvalidTag
        nonce, tag = stored[start : start + 12], stored[start + 12 : start + 28]
        return aead.decrypt(nonce, stored[start + 28 :] + tag, associated)

    return opened


def is_patient_format(stored: bytes) -> bool:
    return stored.startswith(PATIENT_FORMAT)
