"""The snapshot store the repository reads: a snapshot is used only when its digest matches
its content (journey.domain_events.PatientSnapshot); otherwise, and when it cannot be
decoded, the patient is rebuilt from its events, which are the record (decisions are never
taken on an edited snapshot). `journey verify` reports such a snapshot as a break."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from eventsourcing.persistence import EventStore, MapperDeserialisationError, StoredEvent

from journey.domain_events import PatientSnapshot

log = logging.getLogger(__name__)


class CheckedSnapshotStore(EventStore[str]):
    def get(
        self,
        originator_id: str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Any]:
        rows = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        return iter([s for s in map(self._checked, rows) if s is not None])

    def _checked(self, row: StoredEvent) -> PatientSnapshot | None:
        where = f"snapshot of patient {row.originator_id} version {row.originator_version}"
        try:
            snapshot = self.mapper.to_domain_event(row)
        except MapperDeserialisationError as error:
            log.error("%s not used, rebuilt from the events: undecodable (%s)", where, error)
            return None
        if not isinstance(snapshot, PatientSnapshot):
            log.error("%s not used, rebuilt from the events: not a patient snapshot", where)
            return None
        problem = snapshot.digest_problem()
        if problem is not None:
            level = logging.INFO if snapshot.digest is None else logging.ERROR
            log.log(level, "%s not used, rebuilt from the events: %s", where, problem)
            return None
        return snapshot
