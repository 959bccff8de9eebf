"""Standards of care (SPEC 9) over the read models agree with the live journey fold on a
demo cohort with primary therapists, weekly plan reviews (some late) and referrals (some
open), at many instants; the analyst sees them released by their disclosure rule."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from consumers.read_model_service import ReadModelService
from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort
from infrastructure.pseudonym_keys import app_pseudonymizer
from infrastructure.sql import connect
from journey.application import JourneyApplication
from journey.catalog import default_catalog
from journey.events import EventEnvelope
from projections.analytics.care_standards import CareStandards, care_standards
from projections.analytics.disclosure import release
from projections.analytics.stats import median
from projections.facts import journey_facts
from projections.read_models.handlers import apply_events
from tests.analytics.care_cohort import CareMaker, with_care
from tests.readmodels.support import UNTIL, cohort, follow, load

INSTANTS = [
    *(datetime(2025, m, d, h, tzinfo=UTC) for m in range(3, 13) for d, h in ((1, 0), (17, 15))),
    datetime(2026, 2, 20, 9, tzinfo=UTC),
    datetime(2026, 7, 1, tzinfo=UTC),  # long after the cohort's end: open stays run on
]


def _streams(app: JourneyApplication, seed: int) -> dict[str, list[EventEnvelope]]:
    raw = cohort(30, seed=seed)
    load(app, raw)
    maker = CareMaker(seed, UNTIL)
    return {
        pid: with_care(app.history(pid), maker) for pid in sorted({c["patient_id"] for c in raw})
    }


def _project(app: JourneyApplication, url: str, streams: dict[str, list[EventEnvelope]]) -> None:
    pseudonyms = app_pseudonymizer(app)
    with ReadModelService(app, url) as service:
        service.prepare()
        with service.db.transaction() as unit:
            for stream in streams.values():
                apply_events(unit, [pseudonyms(e) for e in stream])


def _expected(streams: dict[str, list[EventEnvelope]], t: datetime) -> dict[str, Any]:
    rank = {lv.id: lv.rank for lv in default_catalog().levels.values()}
    weeks: Counter[str] = Counter()
    met: Counter[str] = Counter()
    opened: dict[str, list[int]] = defaultdict(list)
    closed: dict[str, list[int]] = defaultdict(list)
    review = plan = 0
    for stream in streams.values():
        facts = journey_facts(stream, as_of=t)
        if facts is None:
            continue
        today = facts.calendar.local_date(t)
        for week in facts.weeks:
            if week.weekly_individual_met is None or week.monday + timedelta(days=7) > today:
                continue
            level = max(week.level_days, key=lambda lv: (week.level_days[lv], rank[lv]))
            weeks[level] += 1
            met[level] += week.weekly_individual_met
        care = facts.care
        review += care.treatment_plan is not None and care.treatment_plan.review_overdue
        plan += care.plan_overdue
        for r in care.referrals:
            (opened[r.specialty] if r.closed_at is None else closed[str(r.outcome)]).append(
                r.days_open
            )
    return {
        "weeks": {lv: (weeks[lv], met[lv]) for lv in weeks},
        "review_overdue": review,
        "plan_overdue": plan,
        "open": {k: (len(v), _median(v)) for k, v in opened.items()},
        "closed": {k: (len(v), _median(v)) for k, v in closed.items()},
    }


def _median(days: list[int]) -> float:
    middle = median(Counter(days))
    assert middle is not None
    return round(float(middle), 2)


def _got(answer: CareStandards) -> dict[str, Any]:
    return {
        "weeks": {lv: (w.weeks, w.met) for lv, w in answer.weekly_individual.items()},
        "review_overdue": answer.review_overdue,
        "plan_overdue": answer.plan_overdue,
        "open": {k: (v.count, v.median_days_open) for k, v in answer.referrals_open.items()},
        "closed": {
            k: (v.count, v.median_days_to_close) for k, v in answer.referrals_closed.items()
        },
    }


def _agreed(store_url: str, streams: dict[str, list[EventEnvelope]]) -> list[dict[str, Any]]:
    """The read models' answers at every instant, each equal to the live journey's."""
    db = connect(store_url)
    try:
        seen = []
        for t in INSTANTS:
            with db.transaction() as unit:
                got = _got(care_standards(unit, t))
            assert got == _expected(streams, t), t
            seen.append(got)
    finally:
        db.close()
    return seen


def test_care_standards_agree_with_the_live_journey(
    app: JourneyApplication, store_url: str
) -> None:
    streams = _streams(app, seed=11)
    _project(app, store_url, streams)
    seen = _agreed(store_url, streams)
    assert any(g["weeks"] for g in seen) and any(g["review_overdue"] for g in seen)
    assert any(g["plan_overdue"] for g in seen) and any(g["open"] for g in seen)
    assert any(g["closed"] for g in seen)
    assert any(met for g in seen for (_, met) in g["weeks"].values())


def test_the_analyst_sees_small_cells_suppressed() -> None:
    answer = CareStandards.model_validate({
        "at": "2025-06-01T00:00:00+00:00",
        "weekly_individual": {"iop": {"weeks": 40, "met": 35, "share": 0.875},
                              "php": {"weeks": 8, "met": 8, "share": 1.0}},
        "review_overdue": 3, "plan_overdue": 0,
        "referrals_open": {"trauma": {"count": 2, "median_days_open": 5.0}},
        "referrals_closed": {"completed": {"count": 12, "median_days_to_close": 7.0}},
    })  # fmt: skip
    seen = release(answer)
    assert seen.weekly_individual["iop"].met is None  # 5 not met: 40 - 35 is a small cell
    assert seen.weekly_individual["iop"].weeks == 40 and seen.weekly_individual["iop"].share is None
    assert (seen.weekly_individual["php"].weeks, seen.weekly_individual["php"].met) == (None, None)
    assert (seen.review_overdue, seen.plan_overdue) == (None, 0)
    assert seen.referrals_open["trauma"] == {"count": None, "median_days_open": None} or (
        seen.referrals_open["trauma"].count is None
        and seen.referrals_open["trauma"].median_days_open is None
    )
    assert seen.referrals_closed["completed"].count == 12
    assert "/weekly_individual/iop/met" in seen.suppressed and "/review_overdue" in seen.suppressed


def test_care_standards_agree_on_the_demo_cohort_recorded_through_commands(
    app: JourneyApplication, store_url: str
) -> None:
    """The same agreement on `journey demo`'s care (devtools/demo/care.py), every fact
    accepted by the five commands and projected by the read-model service."""
    raw = list(
        generate_cohort(
            30, seed=5, until=UNTIL, id_prefix="care", profile=CohortProfile(care=CareProfile())
        )
    )
    assert {c["command"] for c in raw} >= {"assign_primary_therapist", "create_treatment_plan",
                                          "review_treatment_plan", "refer", "close_referral"}  # fmt: skip
    load(app, raw)
    follow(app, store_url)
    streams = {pid: app.history(pid) for pid in sorted({c["patient_id"] for c in raw})}
    seen = _agreed(store_url, streams)
    assert any(g["weeks"] for g in seen) and any(g["open"] for g in seen)
