"""Test oracle: the overdue figures of care-standards as main ad563f9 computed them (one
statement probing every episode open at T: its latest plan and that plan's last review by
correlated subqueries), kept to compare the overdue read model (format 6) with."""

from __future__ import annotations

from datetime import datetime

from infrastructure.sql import Unit
from journey.catalog import Catalog
from projections.analytics.sqlparts import Zones, add_days, flat, values_table

_LAST_REVIEW = (  # the plan's latest review at or before T, else its creation
    "COALESCE((SELECT r.reviewed_local_date FROM rm_plan_reviews r"
    " WHERE r.patient_id = a.patient_id AND r.plan_id = a.plan_id AND r.reviewed_at <= ?"
    " ORDER BY r.reviewed_at DESC, r.version DESC LIMIT 1),"
    " (SELECT p.created_local_date FROM rm_plans p"
    " WHERE p.patient_id = a.patient_id AND p.plan_id = a.plan_id))"
)
_ACTIVE = (  # the latest episode admitted by T, open at T; its current plan
    "SELECT e.patient_id, e.admitted_local_date, e.first_level, tz.t_date,"
    " (SELECT p.plan_id FROM rm_plans p WHERE p.patient_id = e.patient_id"
    " AND p.episode_number = e.number AND p.created_at <= ?"
    " ORDER BY p.created_at DESC, p.version DESC LIMIT 1) AS plan_id"
    " FROM rm_episodes e JOIN rm_patients pt ON pt.patient_id = e.patient_id"
    " JOIN tz ON tz.timezone = pt.timezone"
    " WHERE e.admitted_at <= ? AND (e.discharged_at IS NULL OR e.discharged_at > ?)"
    " AND NOT EXISTS (SELECT 1 FROM rm_episodes l WHERE l.patient_id = e.patient_id"
    " AND l.number > e.number AND l.admitted_at <= ?)"
)


def former_overdue(unit: Unit, t: datetime, zones: Zones, catalog: Catalog) -> tuple[int, int]:
    """(active patients whose plan review is overdue, active patients without a plan that
    is overdue), in one statement: T's local date in each patient's zone (`tz`), the
    admission level's `plan_due_days` (`due`)."""
    d = unit.dialect
    if not zones.local_dates or not catalog.levels:
        return 0, 0
    tz, tz_params = zones.cte(d)
    dues = [(level.id, level.plan_due_days) for level in catalog.levels.values()]
    due = values_table("due", [("level", "TEXT"), ("days", "INTEGER")], dues)
    plan_due = (
        "(a.admitted_local_date + due.days)"
        if d.name == "postgresql"
        else "date(a.admitted_local_date, '+' || due.days || ' days')"
    )
    row = unit.one(
        f"WITH {tz}, {due}, a AS ({_ACTIVE}) SELECT"
        f" SUM(CASE WHEN a.plan_id IS NOT NULL AND a.t_date > {add_days(d, _LAST_REVIEW, 7)}"
        " THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN a.plan_id IS NULL AND due.days IS NOT NULL AND a.t_date > {plan_due}"
        " THEN 1 ELSE 0 END)"
        " FROM a LEFT JOIN due ON due.level = a.first_level",
        (*tz_params, *flat(dues), t, t, t, t, t),
    )
    return (0, 0) if row is None else (int(row[0] or 0), int(row[1] or 0))
