"""Property-style check on demo cohorts: the read models, filtered with the as-of rules of
docs/read-models.md, agree with the journey projection (projections.facts / timeline) for
every patient and several instants T: episodes, stays, midnight census, weeks, chains."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from projections.calendar import LocalCalendar
from projections.facts import journey_facts
from projections.midnight_census import latest_chain
from services.bootstrap import build_application
from tests.readmodels.support import UNTIL, Rows, cohort, follow, load, real_ids, rows

INSTANTS = (
    datetime(2025, 3, 1, 12, tzinfo=UTC),
    datetime(2025, 9, 14, 3, 30, tzinfo=UTC),
    datetime.combine(UNTIL, datetime.min.time(), tzinfo=UTC),
)


def _t(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _by_patient(table: Rows) -> dict[str, Rows]:
    grouped: dict[str, Rows] = defaultdict(list)
    for row in table:
        grouped[row[0]].append(row)
    return grouped


def _stays_as_of(stays: Rows, t: datetime) -> list[tuple[Any, ...]]:
    """Census rule: started_at <= T; an end after T is not an end yet."""
    out = []
    for _, number, _, level, group, start, end, *_ in stays:
        if _t(start) <= t:  # type: ignore[operator]
            ended = _t(end)
            out.append((number, level, _t(start), ended if ended and ended <= t else None, group))
    return out


def _census_as_of(stays: Rows, t: datetime, calendar: LocalCalendar) -> dict[date, str]:
    """Midnight census: D has the level of the stay with first <= D <= last, D < local(T)."""
    levels: dict[date, str] = {}
    limit = calendar.local_date(t) - timedelta(days=1)
    for row in stays:
        first, last = date.fromisoformat(row[8]), date.fromisoformat(row[9]) if row[9] else limit
        day = first
        while day <= min(last, limit):
            levels[day] = row[3]
            day += timedelta(days=1)
    return levels


def _weeks_as_of(sessions: Rows, t: datetime) -> dict[str, tuple[int, int, int]]:
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in sessions:
        if _t(s[2]) <= t and s[11] == "attended" and not s[13]:  # type: ignore[operator]
            week = weeks[s[5]]
            week[0 if s[8] else 1] += s[9]
            week[2] += s[6] == "individual"
    return {k: (v[0], v[1], v[2]) for k, v in weeks.items()}


def _check_patient(app: JourneyApplication, pid: str, tables: dict[str, Rows], t: datetime) -> None:
    facts = journey_facts(app.history(pid), as_of=t)
    assert facts is not None
    expected_stays = [
        (e.number, s.level, s.started_at, s.ended_at, s.age_group)
        for e in facts.timeline.episodes
        for s in e.stays
    ]
    assert _stays_as_of(tables["stays"], t) == expected_stays
    episodes = [e for e in tables["episodes"] if _t(e[2]) <= t]  # type: ignore[operator]
    assert [(e[1], _t(e[4]) if e[4] and _t(e[4]) <= t else None) for e in episodes] == [  # type: ignore[operator]
        (e.number, e.discharged_at) for e in facts.timeline.episodes
    ]
    census = {d: v.level for d, v in facts.levels.items()}
    assert _census_as_of(tables["stays"], t, facts.calendar) == census
    weeks = {w.monday.isoformat(): (w.attended_minutes, w.other_minutes, w.individual_sessions)
             for w in facts.weeks if w.attended_minutes or w.other_minutes}  # fmt: skip
    assert _weeks_as_of(tables["sessions"], t) == weeks
    if episodes:
        chain = episodes[-1][12]
        assert [e[1] for e in episodes if e[12] == chain] == [
            e.number for e in latest_chain(facts.timeline, facts.calendar)
        ]


def _check_cohort(app: JourneyApplication, store_url: str, seed: int) -> None:
    load(app, cohort(50, seed=seed))
    follow(app, store_url)
    stays = _by_patient(rows(store_url, "SELECT * FROM rm_stays ORDER BY 1, 2, 3"))
    episodes = _by_patient(rows(store_url, "SELECT * FROM rm_episodes ORDER BY 1, 2"))
    sessions = _by_patient(rows(store_url, "SELECT * FROM rm_sessions ORDER BY 1, 2"))
    patients = [r[0] for r in rows(store_url, "SELECT patient_id FROM rm_patients ORDER BY 1")]
    assert len(patients) == 50
    real = real_ids(app)  # the read models hold pseudonyms
    for pid in patients:
        tables = {"stays": stays[pid], "episodes": episodes[pid], "sessions": sessions[pid]}
        for t in INSTANTS:
            _check_patient(app, real[pid], tables, t)


def test_read_models_agree_with_the_journey_projection(
    app: JourneyApplication, store_url: str
) -> None:
    _check_cohort(app, store_url, seed=3)


@pytest.mark.parametrize("seed", [17, 29])
def test_other_cohorts_agree_too(tmp_path: Path, seed: int) -> None:
    url = f"sqlite:///{tmp_path}/cohort.db"
    app = build_application(Settings(database_url=url))
    try:
        _check_cohort(app, url, seed)
    finally:
        app.close()
