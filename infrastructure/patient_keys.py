"""Per-patient data keys (crypto-shredding) as an eventsourcing mapper.

`PatientKeyMapper` encrypts every event and snapshot of a patient with that patient's data
key (`infrastructure.keys`), so destroying one wrapped key in `journey_keys` makes exactly
that patient's stored content unreadable. Without a master key it is eventsourcing's plain
`Mapper`. It reads the older formats too: events encrypted with the master key alone (the
single-key AESCipher of earlier versions) and, of course, the erasure markers, which are
stored in clear (`infrastructure.erasure`) and read as `PatientErased`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from typing import Any

from cryptography.exceptions import InvalidTag
from eventsourcing.application import LRUCache
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic

from infrastructure import keys
from infrastructure.erasure import ERASURE_TOPIC, read_marker
from infrastructure.keystore import KeyRow, KeyStore
from journey.domain_events import PatientEvent
from journey.errors import PatientErased
from journey.mapper import EventMapper, event_state

CACHED_PATIENTS = 100_000  # data keys kept in memory (32 bytes each)
_ABSENT = b""  # cached: the patient had no key row when last looked up


class KeyRing:
    """The master key, the data keys in use, and the keys of new patients not yet stored."""

    def __init__(self, master: bytes, store: KeyStore) -> None:
        self.master, self.store = master, store
        self._keys: LRUCache[str, bytes | PatientErased] = LRUCache(maxsize=CACHED_PATIENTS)
        self._pending: dict[str, tuple[bytes, bytes]] = {}
        self._lock = threading.Lock()

    def _lookup(self, patient_id: str) -> bytes | PatientErased:
        """The stored state of the patient's key, read from the store and cached."""
        row = self.store.load_key(patient_id)
        value: bytes | PatientErased
        if row is None:
            value = _ABSENT
        elif row[0] is None:
            value = PatientErased(patient_id, row[1])
        else:
            value = keys.unwrap(self.master, patient_id, row[0])
        with self._lock:
            self._keys.put(patient_id, value)
            if value is not _ABSENT:
                self._pending.pop(patient_id, None)
        return value

    def _known(self, patient_id: str, *, refresh_absent: bool) -> bytes:
        """The patient's key (b"" when it has none); PatientErased when erased."""
        value = self._cached(patient_id)
        if value is None or (refresh_absent and value is _ABSENT):
            value = self._lookup(patient_id)
        if isinstance(value, PatientErased):
            raise PatientErased(patient_id, value.erased_at)
        return value

    def _cached(self, patient_id: str) -> bytes | PatientErased | None:
        try:
            return self._keys.get(patient_id)
        except KeyError:
            return None

    def for_write(self, patient_id: str) -> bytes:
        """The patient's data key; a new one (pending until stored) for a new patient."""
        key = self._known(patient_id, refresh_absent=True)
        if key:
            return key
        with self._lock:
            if patient_id not in self._pending:
                data_key = keys.new_data_key()
                self._pending[patient_id] = (data_key, keys.wrap(self.master, patient_id, data_key))
            return self._pending[patient_id][0]

    def for_read(self, patient_id: str) -> bytes:
        key = self._known(patient_id, refresh_absent=True)
        if key:
            return key
        pending = self._pending.get(patient_id)
        if pending is None:
            raise KeyError(f"no data key for patient '{patient_id}'")
        return pending[0]

    def check_not_erased(self, patient_id: str) -> None:
        """Raises PatientErased for an erased patient (events in older formats too)."""
        self._known(patient_id, refresh_absent=False)

    def pending_rows(self, patient_ids: Iterable[str]) -> list[KeyRow]:
        """Wrapped keys of new patients among these, to store with their first events."""
        return [(p, self._pending[p][1]) for p in sorted(set(patient_ids)) if p in self._pending]

    def take_pending(self, patient_ids: Iterable[str]) -> list[KeyRow]:
        """As `pending_rows`, for a writer in another process: they count as stored here."""
        rows = self.pending_rows(patient_ids)
        with self._lock:
            for patient_id, _ in rows:
                self._keys.put(patient_id, self._pending.pop(patient_id)[0])
        return rows

    def forget(self, patient_id: str) -> None:
        with self._lock:
            with suppress(KeyError):
                self._keys.get(patient_id, evict=True)
            self._pending.pop(patient_id, None)


def record_key_changes(keyring: KeyRing | None, cursor: Any, stored: list[StoredEvent]) -> None:
    """In the transaction that stores these events: the wrapped keys of new patients, and
    the destruction of the key of each patient whose erasure marker is among them."""
    if keyring is None:
        return
    writing = [str(s.originator_id) for s in stored if s.topic != ERASURE_TOPIC]
    keyring.store.insert_keys(cursor, keyring.pending_rows(writing))
    for s in stored:
        if s.topic == ERASURE_TOPIC:
            keyring.store.erase(cursor, str(s.originator_id), read_marker(s.state).erased_at)


def insert_keys(recorder: Any, cursor: Any, rows: Sequence[KeyRow]) -> None:
    """Wrapped keys decided elsewhere (bulk import workers), in the caller's transaction."""
    keyring = getattr(recorder, "keyring", None)
    if rows and keyring is not None:
        keyring.store.insert_keys(cursor, rows)


class PatientKeyMapper(EventMapper):
    """The events' mapper (journey.mapper) with a data key per patient once `keyring` is
    attached."""

    keyring: KeyRing | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[str]) -> StoredEvent:
        if self.keyring is None:
            return super().to_stored_event(domain_event)
        patient_id, version = str(domain_event.originator_id), domain_event.originator_version
        if isinstance(domain_event, PatientEvent):
            state = event_state(domain_event)
        else:  # a snapshot: eventsourcing's Mapper state
            state = dict(vars(domain_event))
            del state["originator_id"], state["originator_version"]
            class_version = getattr(type(domain_event), "class_version", 1)
            if class_version > 1:
                state["class_version"] = class_version
        data_key = self.keyring.for_write(patient_id)
        sealed = keys.seal_content(data_key, patient_id, self.transcoder.encode(state))
        return StoredEvent(patient_id, version, get_topic(type(domain_event)), sealed)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[str]:
        if stored_event.topic == ERASURE_TOPIC:
            marker = read_marker(stored_event.state)
            raise PatientErased(str(stored_event.originator_id), marker.erased_at)
        if self.keyring is None:
            return super().to_domain_event(stored_event)
        plaintext = self._plaintext(str(stored_event.originator_id), stored_event)
        opened = StoredEvent(
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            plaintext,
        )
        return super().to_domain_event(opened)

    def row_opener(self) -> Callable[[StoredEvent], bytes] | None:
        """As `to_domain_event` decrypts, with each patient's key looked up once per call."""
        if self.keyring is None:
            return super().row_opener()
        openers: dict[str, Callable[[bytes], bytes]] = {}

        def plaintext(row: StoredEvent) -> bytes:
            patient_id = str(row.originator_id)
            if not keys.is_patient_format(row.state):
                return self.unpacked(row, self._plaintext(patient_id, row))
            try:
                opener = openers.get(patient_id)
                if opener is None:
                    opener = keys.content_opener(self._read_key(patient_id), patient_id)
                    openers[patient_id] = opener
                return self.unpacked(row, opener(row.state))
            except (InvalidTag, KeyError) as error:
                raise _undecryptable(patient_id, row, error) from error

        return plaintext

    def _read_key(self, patient_id: str) -> bytes:
        keyring: Any = self.keyring
        key: bytes = keyring.for_read(patient_id)
        return key

    def _plaintext(self, patient_id: str, stored: StoredEvent) -> bytes:
        keyring: Any = self.keyring
        try:
            if keys.is_patient_format(stored.state):
                return keys.open_content(keyring.for_read(patient_id), patient_id, stored.state)
            keyring.check_not_erased(patient_id)
            return keys.decrypt(keyring.master, stored.state)
        except (InvalidTag, KeyError) as error:
            raise _undecryptable(patient_id, stored, error) from error


def _undecryptable(patient_id: str, stored: StoredEvent, error: Exception) -> Exception:
    return MapperDeserialisationError(
        f"cannot decrypt the stored event of patient '{patient_id}' at version "
        f"{stored.originator_version}: {error or 'wrong key or altered bytes'}"
    )
