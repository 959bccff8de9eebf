"""The analyst role cannot single out a patient (SPEC 10): whole dates only, counts from 1 to
10 suppressed (and what would reveal them); admin keeps full detail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from config.settings import Settings
from fastapi.testclient import TestClient
from pydantic import BaseModel

from interfaces.api import create_app
from journey.application import JourneyApplication
from projections.analytics.census import CensusAt
from projections.analytics.disclosure import release
from projections.analytics.intensity import Intensity, LevelIntensity
from projections.analytics.retention import Retention
from projections.analytics.transitions import TransitionPair, Transitions
from tests.readmodels.support import load

KEYS = "ka=ann:analyst;kd=dee:admin"
ANALYST, ADMIN = {"X-API-Key": "ka"}, {"X-API-Key": "kd"}
DAY = datetime(2025, 5, 5, tzinfo=UTC)
T = datetime(2025, 10, 1, tzinfo=UTC)


def _admit(pid: str, at: datetime, level: str = "inpatient") -> dict[str, Any]:
    return {"command": "admit", "patient_id": pid, "level": level, "occurred_at": at.isoformat()}


def _client(app: JourneyApplication, url: str) -> TestClient:
    return TestClient(create_app(app, Settings(database_url=url, auth=True, api_keys=KEYS)))


def _q(at: datetime) -> str:
    return at.isoformat().replace("+", "%2B")


def test_bisecting_census_learns_nothing_finer_than_a_date(
    app: JourneyApplication, store_url: str
) -> None:
    # 14 admissions spread over one day, at sub-second instants
    admitted = [DAY + timedelta(hours=k * 1.7, microseconds=137 * k + 1) for k in range(14)]
    load(app, [_admit(f"b-{k}", at) for k, at in enumerate(admitted)])
    client = _client(app, store_url)
    probes = [DAY + timedelta(microseconds=1), admitted[6] - timedelta(microseconds=1),
              admitted[6], admitted[13], DAY + timedelta(days=1, microseconds=-1)]  # fmt: skip
    analyst = [client.get(f"/v1/analytics/census?at={_q(t)}", headers=ANALYST) for t in probes]
    assert {r.status_code for r in analyst} == {200}
    assert all(r.json() == analyst[0].json() for r in analyst)  # one answer for the whole date
    assert analyst[0].json()["as_of"] == "2025-05-05T00:00:00+00:00"
    assert analyst[0].json()["total"] == 0
    admin = [client.get(f"/v1/analytics/census?at={_q(t)}", headers=ADMIN).json() for t in probes]
    assert [a["total"] for a in admin] == [1, 6, 7, 14, 14]  # full detail for admin
    next_day = client.get(f"/v1/analytics/census?at={_q(DAY + timedelta(days=1))}", headers=ANALYST)
    assert next_day.json()["levels"]["inpatient"] == 14


def test_a_single_death_is_suppressed_for_the_analyst(
    app: JourneyApplication, store_url: str
) -> None:
    load(app, [_admit("d-1", DAY + timedelta(hours=9, seconds=3)),
               {"command": "discharge", "patient_id": "d-1", "reason": "death",
                "occurred_at": (DAY + timedelta(days=12, hours=3)).isoformat()}])  # fmt: skip
    client = _client(app, store_url)
    seen = client.get(f"/v1/analytics/length-of-stay?at={_q(T)}", headers=ANALYST).json()
    assert seen["episodes_by_reason"]["death"] == {
        "count": None,
        "mean_days": None,
        "median_days": None,
    }
    assert seen["stays_by_level"]["inpatient"]["count"] is None
    assert "/episodes_by_reason/death/count" in seen["suppressed"]
    assert "/episodes_by_reason/death/median_days" in seen["suppressed"]
    assert seen["episodes_by_reason"]["completed"]["count"] == 0  # zero is not suppressed
    full = client.get(f"/v1/analytics/length-of-stay?at={_q(T)}", headers=ADMIN).json()
    assert full["episodes_by_reason"]["death"] == {
        "count": 1,
        "mean_days": 12.0,
        "median_days": 12.0,
    }
    assert full["suppressed"] == []
    daily = client.get(
        f"/v1/analytics/census/daily?from=2025-05-10&to=2025-05-11&at={_q(T)}", headers=ANALYST
    ).json()
    assert daily["days"][0]["levels"]["inpatient"] is None
    assert daily["days"][0]["total"] is None
    assert "/days/1/levels/inpatient" in daily["suppressed"]


def _census(**levels: int) -> CensusAt:
    return CensusAt(as_of=T, levels=levels, total=sum(levels.values()))


@pytest.mark.parametrize(
    ("levels", "hidden"),
    [
        ({"a": 40, "b": 5, "c": 0}, {"/levels/a", "/levels/b"}),  # total - a would give b
        ({"a": 40, "b": 5, "c": 30}, {"/levels/b", "/levels/c"}),  # the smallest shown goes
        ({"a": 4, "b": 3, "c": 0}, {"/levels/a", "/levels/b", "/total"}),
        ({"a": 40, "b": 6, "c": 7}, {"/levels/b", "/levels/c"}),  # 13 > 10: nothing more
        ({"a": 40, "b": 11, "c": 0}, set()),
        ({"a": 12, "b": 1, "c": 1}, {"/levels/a", "/levels/b", "/levels/c"}),
    ],
)
def test_census_cells_and_their_complement(levels: dict[str, int], hidden: set[str]) -> None:
    released = release(_census(**levels))
    assert set(released.suppressed) == hidden
    for name, count in levels.items():
        assert released.levels[name] == (None if f"/levels/{name}" in hidden else count)


def test_transitions_hide_counts_and_their_rank() -> None:
    def pair(source: str, target: str, count: int) -> TransitionPair:
        return TransitionPair(from_level=source, to_level=target, count=count)

    answer = Transitions(
        as_of=T, from_date=date(2025, 1, 1), to_date=date(2025, 12, 31),
        totals={"step_down": 70, "step_up": 0},
        step_down=[pair("a", "b", 50), pair("c", "d", 12), pair("z", "y", 6), pair("e", "f", 2)],
        step_up=[],
    )  # fmt: skip
    released = release(answer)
    assert [(p.from_level, p.count) for p in released.step_down] == [
        ("a", 50),
        ("c", None),
        ("e", None),
        ("z", None),
    ]
    assert released.totals == {"step_down": 70, "step_up": 0}
    assert released.suppressed == ["/step_down/1/count", "/step_down/2/count", "/step_down/3/count"]


@pytest.mark.parametrize(
    ("chains", "retained", "shown"),
    [(8, 3, (None, None, None)), (40, 3, (40, None, None)), (40, 35, (40, None, None)),
     (40, 20, (40, 20, 0.5))],
)  # fmt: skip
def test_retention_hides_small_retained_and_not_retained(
    chains: int, retained: int, shown: tuple[int | None, int | None, float | None]
) -> None:
    answer = Retention(as_of=T, first_admitted_by=T, benchmark_days=90, chains=chains,
                       retained=retained, share=retained / chains)  # fmt: skip
    released = release(answer)
    assert (released.chains, released.retained, released.share) == shown


def test_intensity_hides_shares_of_hidden_cells() -> None:
    counts = {"below_minimum": 3, "within_range": 30, "above_maximum": 0, "no_requirement": 0}
    level = LevelIntensity(weeks=33, counts=counts, shares={k: v / 33 for k, v in counts.items()})
    released = release(Intensity(as_of=T, weeks_by_level={"iop": level}, attendance_by_level={}))
    iop = released.weeks_by_level["iop"]
    assert iop.weeks == 33
    assert iop.counts == {"below_minimum": None, "within_range": None, "above_maximum": 0,
                          "no_requirement": 0}  # fmt: skip
    assert iop.shares["within_range"] is None and iop.shares["above_maximum"] == 0


class _NewFigure(BaseModel):
    """An answer model without a rule of its own (e.g. a figure added later)."""

    as_of: datetime
    by_level: dict[str, dict[str, int | float | None]]
    complete: bool
    suppressed: list[str] = []


def test_an_answer_without_a_rule_is_released_closed() -> None:
    answer = _NewFigure(as_of=T, complete=True, by_level={
        "iop": {"count": 4, "met": 40, "share": 0.1}, "php": {"count": 30, "share": 0.5},
    })  # fmt: skip
    released = release(answer)
    assert released.by_level == {"iop": {"count": None, "met": 40, "share": None},
                                 "php": {"count": 30, "share": 0.5}}  # fmt: skip
    assert released.suppressed == ["/by_level/iop/count", "/by_level/iop/share"]
    assert released.complete is True
