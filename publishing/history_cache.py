"""A small per-patient cache of envelopes for the relay's summaries.

The relay extends a cached history with the events it just decoded; only a patient it has
not seen recently (or whose cached history has a gap) is read back from the event store.
Least recently used patients are dropped beyond `max_patients`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress

from eventsourcing.application import LRUCache

from journey.events import EventEnvelope

# (patient_id, up to version) -> that patient's envelopes from version 1
Loader = Callable[[str, int], list[EventEnvelope]]


class HistoryCache:
    def __init__(self, load: Loader, max_patients: int = 5_000) -> None:
        self._load = load
        self._max = max_patients
        self._histories: LRUCache[str, list[EventEnvelope]] = LRUCache(maxsize=max_patients)
        self.loads = 0  # store reads, for the relay's metrics

    def extended(self, patient_id: str, new: Sequence[EventEnvelope]) -> list[EventEnvelope]:
        """The patient's history up to the last of `new` (consecutive versions, in order)."""
        history = self._cached(patient_id)
        last = new[-1].version
        if new[0].version == 1:
            history = list(new)  # a new patient: nothing to read back
        elif history is not None and history[-1].version == new[0].version - 1:
            history.extend(new)
        elif history is not None and history[-1].version >= last:
            history = history[:last]  # re-published after a retry: versions start at 1
        else:
            self.loads += 1
            history = self._load(patient_id, last)
        self._histories.put(patient_id, history)
        return history

    def _cached(self, patient_id: str) -> list[EventEnvelope] | None:
        try:
            return self._histories.get(patient_id)
        except KeyError:
            return None

    def forget(self, patient_id: str) -> None:
        """Drops an (erased) patient's envelopes from memory."""
        with suppress(KeyError):
            self._histories.get(patient_id, evict=True)

    def clear(self) -> None:
        self._histories = LRUCache(maxsize=self._max)
