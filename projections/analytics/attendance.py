"""Attendance rate per level as of T: attended / (attended + no_show) over the sessions
started at or before T (corrected start) and not voided, each at the level of the stay in
force at its start ([started_at, ended_at)), or, at the very instant of a discharge, of
the stay it ended (the journey counts such a session, so the same session counts the same
everywhere); a session outside every stay otherwise has no level and is not counted.

The days before the UTC date of T come from `rm_attendance_days`; T's date up to T from the
sessions and stays themselves."""

from __future__ import annotations

from datetime import UTC, datetime, time

from pydantic import BaseModel, ConfigDict

from infrastructure.sql import Unit
from journey.catalog import Catalog, default_catalog
from projections.analytics.stats import share

ATTENDED, NO_SHOW = "attended", "no_show"  # SPEC 3 session statuses
_NONE_IN_FORCE = (  # no stay of the patient in force at the session's start
    "NOT EXISTS (SELECT 1 FROM rm_stays o WHERE o.patient_id = se.patient_id"
    " AND o.started_at <= se.occurred_at"
    " AND (o.ended_at IS NULL OR se.occurred_at < o.ended_at))"
)


class LevelAttendance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    attended: int | None
    no_show: int | None
    rate: float | None  # null when attended + no_show is 0


def attendance(
    unit: Unit, as_of: datetime, catalog: Catalog | None = None
) -> dict[str, LevelAttendance]:
    day = as_of.astimezone(UTC).date()
    rows = unit.all(
        "SELECT level, SUM(attended), SUM(no_show) FROM rm_attendance_days WHERE day < ?"
        " GROUP BY level",
        (day,),
    ) + unit.all(
        "SELECT st.level, SUM(CASE WHEN se.status = ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN se.status = ? THEN 1 ELSE 0 END)"
        " FROM rm_sessions se JOIN rm_stays st ON st.patient_id = se.patient_id"
        " AND st.started_at <= se.occurred_at"
        " AND (st.ended_at IS NULL OR se.occurred_at < st.ended_at"
        f" OR (st.ended_at = se.occurred_at AND st.ended_by = 'discharge' AND {_NONE_IN_FORCE}))"
        " WHERE se.occurred_at >= ? AND se.occurred_at <= ? AND NOT se.voided"
        " AND se.status IN (?, ?) GROUP BY st.level",
        (ATTENDED, NO_SHOW, datetime.combine(day, time(), tzinfo=UTC), as_of, ATTENDED, NO_SHOW),
    )
    found: dict[str, tuple[int, int]] = {}
    for level, a, n in rows:
        was = found.get(str(level), (0, 0))
        found[str(level)] = (was[0] + int(a or 0), was[1] + int(n or 0))
    levels = [*(catalog or default_catalog()).level_ids(), *sorted(found)]
    result = {}
    for level in dict.fromkeys(levels):
        attended, no_show = found.get(level, (0, 0))
        result[level] = LevelAttendance(
            attended=attended, no_show=no_show, rate=share(attended, attended + no_show)
        )
    return result
