"""The overdue read model (format 6, `rm_overdue_spans` / `rm_overdue_days`) gives the
overdue figures of care-standards exactly as the former statement (main ad563f9, kept in
`former_overdue.py`) does, at every instant where either can change (admissions,
discharges, plans, reviews, the local midnights ending their due dates, 1 µs either side)
and at a sweep of others, on generated care streams with plans replaced, reviews filed
before their plan and reviews at the same instant; the in-place upgrade from format 5
fills the same rows as the handlers; local dates are exact at DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort
from infrastructure.sql import Unit, connect, day_of, instant_of
from journey.application import JourneyApplication
from journey.catalog import default_catalog
from journey.events import EventEnvelope, TreatmentPlanCreated, TreatmentPlanReviewed
from projections.analytics.care_standards import overdue_counts
from projections.analytics.sqlparts import zones_at
from projections.overdue_spans import EpisodeRow, local_date_from, patient_spans
from projections.read_models.overdue import OVERDUE_TABLES
from projections.read_models.schema import FORMAT_VERSION, create_tables
from tests.analytics.care_cohort import CareMaker, with_care
from tests.analytics.former_overdue import former_overdue
from tests.analytics.test_care_standards import _project
from tests.readmodels.support import UNTIL, cohort, follow, load, rebuilt, rows

TICK = timedelta(microseconds=1)
ZONE_CASES = [
    ("Antarctica/Casey", date(2010, 3, 5)),  # falls back from 02:00 to 23:00 the day before
    ("Pacific/Apia", date(2011, 12, 30)),  # a skipped date
    ("Pacific/Apia", date(2011, 12, 31)),
    ("America/Santiago", date(2025, 4, 6)),  # changes at midnight
    ("America/Santiago", date(2025, 9, 7)),
    ("America/New_York", date(2025, 11, 2)),
    ("Australia/Lord_Howe", date(2025, 4, 6)),  # a 30-minute change
    ("Asia/Tehran", date(2022, 3, 22)),
    ("UTC", date(2025, 1, 1)),
]


@pytest.mark.parametrize(("timezone", "day"), ZONE_CASES)
def test_local_date_from_is_the_clocks_local_date(timezone: str, day: date) -> None:
    zone, intervals = ZoneInfo(timezone), local_date_from(timezone, day)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    t = midnight - timedelta(hours=30)
    while t < midnight + timedelta(hours=30):
        for u in (t - TICK, t):
            inside = any(a <= u and (b is None or u < b) for a, b in intervals)
            assert inside == (u.astimezone(zone).date() >= day), (timezone, day, u)
        t += timedelta(minutes=5)
    for start, end in intervals:  # every bound is where the local date crosses `day`
        for bound in (start, end):
            if bound is not None:
                after, before = bound.astimezone(zone).date(), (bound - TICK).astimezone(zone)
                assert (after >= day) != (before.date() >= day), (timezone, day, bound)


def _tangled(stream: list[EventEnvelope]) -> list[EventEnvelope]:
    """The stream with, after its last event, a second plan created between the first
    plan's second and third reviews, a review of the first plan at the instant of its third
    (a tie broken by version), and a review of the second plan dated before its creation."""
    reviews = [e for e in stream if isinstance(e.payload, TreatmentPlanReviewed)]
    if len(reviews) < 3:
        return stream
    first, (second, third) = reviews[0].payload, (reviews[1], reviews[2])
    plan_id = f"{first.plan_id}-b"
    created = TreatmentPlanCreated(plan_id=plan_id, goals=_goals(stream))
    extra = [
        (second.occurred_at + timedelta(hours=1), created),
        (third.occurred_at, first.model_copy(update={"outcome": "revise"})),
        (second.occurred_at - timedelta(hours=2), first.model_copy(update={"plan_id": plan_id})),
    ]
    last = stream[-1]
    added = [
        last.model_copy(update={"event_id": f"{last.patient_id}-tangle-{n}", "occurred_at": at,
                                "payload": payload, "version": last.version + n + 1})
        for n, (at, payload) in enumerate(extra)
    ]  # fmt: skip
    return [*stream, *added]


def _goals(stream: list[EventEnvelope]) -> Any:
    plan = next(e.payload for e in stream if isinstance(e.payload, TreatmentPlanCreated))
    return plan.goals


def _streams(app: JourneyApplication, seed: int) -> dict[str, list[EventEnvelope]]:
    raw = cohort(24, seed=seed, prefix=f"od{seed}")
    load(app, raw)
    maker = CareMaker(seed, UNTIL)
    ids = sorted({c["patient_id"] for c in raw})
    streams = {pid: with_care(app.history(pid), maker) for pid in ids}
    return {pid: _tangled(s) if n % 2 else s for n, (pid, s) in enumerate(streams.items())}


def _instants(unit: Unit) -> list[datetime]:
    """Every instant where a figure can change, 1 µs either side, and a daily sweep."""
    d, found = unit.dialect, set[datetime]()
    for statement in ("SELECT admitted_at FROM rm_episodes", "SELECT discharged_at FROM"
                      " rm_episodes", "SELECT created_at FROM rm_plans", "SELECT reviewed_at"
                      " FROM rm_plan_reviews", "SELECT starts_at FROM rm_overdue_spans",
                      "SELECT ends_at FROM rm_overdue_spans"):  # fmt: skip
        found |= {instant_of(d, r[0]) for r in unit.all(statement) if r[0] is not None}
    dues = max(level.plan_due_days for level in default_catalog().levels.values())
    for tz, first in unit.all(
        "SELECT p.timezone, e.admitted_local_date FROM rm_episodes e"
        " JOIN rm_patients p ON p.patient_id = e.patient_id"
        " UNION SELECT p.timezone, r.reviewed_local_date FROM rm_plan_reviews r"
        " JOIN rm_patients p ON p.patient_id = r.patient_id"
    ):
        zone, day = ZoneInfo(str(tz)), day_of(d, first)
        for days in {8, dues + 1, *range(1, 4)}:
            local = datetime(day.year, day.month, day.day) + timedelta(days=days)
            found.add(local.replace(tzinfo=zone).astimezone(UTC))
    sweep = [datetime(2024, 9, 1, 7, tzinfo=UTC) + timedelta(days=n, hours=n % 24)
             for n in range(0, 640, 3)]  # fmt: skip
    return sorted({x + k * TICK for x in found for k in (-1, 0, 1)} | set(sweep))


def _agree(url: str, least: int = 500) -> int:
    """Checks both answers at every instant; returns how many instants had an overdue."""
    catalog, seen = default_catalog(), 0
    db = connect(url)
    try:
        with db.transaction() as unit:
            instants = _instants(unit)
            assert len(instants) > least
            for t in instants:
                new = overdue_counts(unit, t)
                assert new == former_overdue(unit, t, zones_at(unit, t), catalog), t
                seen += any(new)
    finally:
        db.close()
    return seen


def _overdue_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    order = {"rm_overdue_spans": "patient_id, episode_number, kind, starts_at",
             "rm_overdue_days": "day, kind"}  # fmt: skip
    return {t: rows(url, f"SELECT * FROM {t} ORDER BY {order[t]}") for t in OVERDUE_TABLES}


def test_overdue_read_model_equals_the_former_statement(
    app: JourneyApplication, store_url: str
) -> None:
    streams = _streams(app, seed=23)
    _project(app, store_url, streams)
    assert _agree(store_url) > 100
    kinds = rows(store_url, "SELECT kind, COUNT(*) FROM rm_overdue_spans GROUP BY kind")
    assert {k for k, n in kinds if n} == {"review", "plan"}
    days = rows(store_url, "SELECT COUNT(*) FROM rm_overdue_days WHERE started = 0 AND ended = 0")
    assert days == [(0,)]


def test_the_upgrade_from_format_5_fills_what_the_handlers_keep(
    app: JourneyApplication, store_url: str
) -> None:
    """Format 5 is format 6 without the overdue tables: the upgrade computes them from the
    episodes, plans and reviews, in place (nothing else dropped), equal row for row."""
    _project(app, store_url, _streams(app, seed=29))
    kept = _overdue_rows(store_url)
    assert kept["rm_overdue_spans"] and kept["rm_overdue_days"]
    others = rows(store_url, "SELECT COUNT(*) FROM rm_sessions")
    db = connect(store_url)
    try:
        with db.transaction() as unit:
            for table in OVERDUE_TABLES:
                unit.execute(f"DROP TABLE {table}")
            unit.execute("UPDATE rm_format SET version = 5")
        with db.transaction() as unit:
            note = create_tables(unit)
        assert note is not None and "format 5 found, upgraded in place" in note, note
        assert f"format {FORMAT_VERSION}" in note
    finally:
        db.close()
    assert rows(store_url, "SELECT version FROM rm_format") == [(FORMAT_VERSION,)]
    assert rows(store_url, "SELECT COUNT(*) FROM rm_sessions") == others
    assert _overdue_rows(store_url) == kept


def test_a_later_admission_ends_the_window_of_an_episode_still_open() -> None:
    """As the former statement's NOT EXISTS: an episode is counted only while no episode
    with a higher number is admitted, even one admitted before its discharge."""
    at = datetime(2025, 3, 1, 15, tzinfo=UTC)
    first = EpisodeRow(1, at, date(2025, 3, 1), at + timedelta(days=40), "residential")
    second = EpisodeRow(2, at + timedelta(days=20), date(2025, 3, 21), None, "residential")
    due = {"residential": 3}
    spans = patient_spans("UTC", [first, second], [], [], dues=due)
    assert [(s.episode_number, s.starts_at, s.ends_at) for s in spans] == [
        (1, datetime(2025, 3, 5, tzinfo=UTC), second.admitted_at),
        (2, datetime(2025, 3, 25, tzinfo=UTC), None),
    ]


def test_small_batches_keep_the_rows_of_a_rebuild(app: JourneyApplication, store_url: str) -> None:
    """`journey demo`'s care recorded through the commands, followed in batches of 13
    events: the overdue tables equal a clean rebuild's, and the former statement's figures."""
    profile = CohortProfile(care=CareProfile())
    load(app, generate_cohort(20, seed=31, until=UNTIL, id_prefix="odb", profile=profile))
    follow(app, store_url, batch_size=13)
    followed = _overdue_rows(store_url)
    assert followed["rm_overdue_spans"]
    assert _agree(store_url) > 50
    assert {t: r for t, r in rebuilt(app, store_url).items() if t in OVERDUE_TABLES} == followed
