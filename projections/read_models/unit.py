"""The read models' unit of work: one transaction's rows read once and its changes held
back until `flush`, in typed fields mypy checks (no untyped bag keyed by strings).

The handlers read through it (`patients`, `stays`, `weeks`) and add to its buffers; the
modules that own a table register their writer with `before_flush`, and `flush` (called by
`handlers.apply_events` once the batch is applied) writes every buffer in the order the
writers were first registered."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from infrastructure.sql import Params, Unit

if TYPE_CHECKING:
    from projections.read_models.care_weeks import CareWeekRow, Roster
    from projections.read_models.patients import PatientRow
    from projections.read_models.stays_cache import StoredStay
    from projections.read_models.weeks import WeekRow

WeekKey = tuple[str, date]  # patient id, Monday
CounterKey = tuple[Hashable, ...]


@dataclass
class Buffers:
    """What one unit of work has read and not yet written."""

    patients: dict[str, PatientRow | None] = field(default_factory=dict)  # None: no row
    changed_patients: set[str] = field(default_factory=set)
    stays: dict[str, list[StoredStay]] = field(default_factory=dict)
    new_sessions: list[Params] = field(default_factory=list)
    weeks: dict[WeekKey, WeekRow] = field(default_factory=dict)
    changed_weeks: set[WeekKey] = field(default_factory=set)
    weeks_read_since: dict[str, date] = field(default_factory=dict)  # patient -> Monday
    patient_weeks: dict[str, set[date]] = field(default_factory=dict)  # Mondays in `weeks`
    counters: dict[str, dict[CounterKey, list[int]]] = field(default_factory=dict)
    care_weeks: dict[WeekKey, CareWeekRow] = field(default_factory=dict)
    changed_care_weeks: set[WeekKey] = field(default_factory=set)
    care_rosters: dict[str, Roster] = field(default_factory=dict)  # patient -> roster
    overdue_patients: dict[str, str] = field(default_factory=dict)  # patient -> time zone


class ReadModelUnit(Unit):
    """A `Unit` (same connection and transaction) with the read models' buffers."""

    def __init__(self, unit: Unit) -> None:
        super().__init__(unit.dialect, unit.connection)
        self.buffers = Buffers()
        self._writers: dict[str, Callable[[ReadModelUnit], None]] = {}

    def before_flush(self, table: str, write: Callable[[ReadModelUnit], None]) -> None:
        """Runs `write` (once per table) at the next `flush`."""
        self._writers.setdefault(table, write)

    def flush(self) -> None:
        """Writes every buffered change (each writer empties its own buffer)."""
        for write in list(self._writers.values()):
            write(self)
