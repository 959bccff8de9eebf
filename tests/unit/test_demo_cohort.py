"""The demo cohort generator: deterministic, valid, accepted by the application, plausible."""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from devtools.demo.care import CareProfile
from devtools.demo.cohort import CohortProfile, generate_cohort, write_jsonl
from journey.application import Outcome
from journey.catalog import default_catalog
from journey.commands import parse_command
from services.bootstrap import build_application

UNTIL = date(2026, 3, 1)
CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def thousand() -> list[dict[str, Any]]:
    return list(generate_cohort(1000, seed=11, until=UNTIL))


def test_same_arguments_give_the_same_commands() -> None:
    first = list(generate_cohort(30, seed=3, until=UNTIL))
    assert first == list(generate_cohort(30, seed=3, until=UNTIL))
    assert first != list(generate_cohort(30, seed=4, until=UNTIL))


def test_a_patient_does_not_depend_on_the_cohort_size() -> None:
    small = list(generate_cohort(5, until=UNTIL))
    large = list(islice(generate_cohort(50, until=UNTIL), len(small)))
    assert small == large


def test_every_command_parses(thousand: list[dict[str, Any]]) -> None:
    for raw in thousand:
        parse_command(raw)


def test_ids_times_and_order(thousand: list[dict[str, Any]]) -> None:
    last_seen: dict[str, datetime] = {}
    for raw in thousand:
        assert raw["patient_id"].startswith("demo-")
        if "occurred_at" not in raw:
            continue
        at = datetime.fromisoformat(raw["occurred_at"])
        assert at.utcoffset() is not None
        assert at < CUTOFF
        assert at >= last_seen.get(raw["patient_id"], at)
        last_seen[raw["patient_id"]] = at


@pytest.mark.parametrize("care", [False, True], ids=["journey", "with-care"])
def test_the_application_accepts_every_command(tmp_path: Path, care: bool) -> None:
    profile = CohortProfile(care=CareProfile() if care else None)
    commands = list(generate_cohort(200, seed=5, until=UNTIL, profile=profile))
    app = build_application(Settings(database_url=f"sqlite:///{tmp_path}/d.db"))
    results = app.handle_many(
        [parse_command(c) for c in commands], atomic=False, now=CUTOFF + timedelta(hours=1)
    )
    errors = [(c, r) for c, r in zip(commands, results, strict=True) if not isinstance(r, Outcome)]
    if errors:
        print("first rejected:", errors[0][0], errors[0][1])
    assert not errors
    assert all(r.status == "accepted" for r in results if isinstance(r, Outcome))


def _by_patient(commands: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for raw in commands:
        grouped[raw["patient_id"]].append(raw)
    return grouped


def test_the_cohort_is_plausible(thousand: list[dict[str, Any]]) -> None:
    levels = default_catalog().levels
    patients = _by_patient(thousand)
    assert len(patients) == 1000
    admits = [c for c in thousand if c["command"] == "admit"]
    assert len(Counter(c["level"] for c in admits)) >= 4
    directions: Counter[str] = Counter()
    for journey in patients.values():
        level = ""
        for c in journey:
            if c["command"] == "admit":
                level = c["level"]
            elif c["command"] == "transition":
                down = levels[c["to_level"]].rank < levels[level].rank
                directions["down" if down else "up"] += 1
                level = c["to_level"]
    assert directions["down"] > directions["up"] > 0
    readmitted = sum(1 for j in patients.values() if sum(c["command"] == "admit" for c in j) > 1)
    assert readmitted >= 100
    sessions = [c for c in thousand if c["command"] == "record_session"]
    no_show = sum(c["status"] == "no_show" for c in sessions) / len(sessions)
    assert 0.04 <= no_show <= 0.15
    active = sum(
        1
        for j in patients.values()
        if [c for c in j if c["command"] in ("admit", "discharge")][-1]["command"] == "admit"
    )
    assert active >= 200
    reasons = Counter(c["reason"] for c in thousand if c["command"] == "discharge")
    assert [r for r, _ in reasons.most_common(2)] == ["completed", "ama"]
    assert {c["command"] for c in thousand} >= {"correct_session", "void_session"}


def test_age_groups_time_zones_and_amendments(thousand: list[dict[str, Any]]) -> None:
    admits = [c for c in thousand if c["command"] == "admit"]
    first = {c["patient_id"]: c for c in reversed(admits)}
    adolescents = sum(c["age_group"] == "adolescent" for c in first.values()) / len(first)
    assert 0.05 <= adolescents <= 0.15
    assert len({c["timezone"] for c in admits}) == 5
    for c in admits:  # readmissions keep the time zone of the first admission
        assert c["timezone"] == first[c["patient_id"]]["timezone"]
    recorded: set[tuple[str, str]] = set()
    for c in thousand:
        key = (c["patient_id"], c.get("session_id", ""))
        if c["command"] == "record_session":
            assert key not in recorded
            recorded.add(key)
        elif c["command"] in ("correct_session", "void_session"):
            assert key in recorded


def test_the_profile_is_checked_against_the_catalog() -> None:
    with pytest.raises(ValueError, match="unknown level"):
        list(generate_cohort(1, until=UNTIL, profile=CohortProfile(start_levels={"rehab": 1})))


def test_write_jsonl_writes_one_compact_object_per_line() -> None:
    out = io.StringIO()
    count = write_jsonl(generate_cohort(3, until=UNTIL), out)
    lines = out.getvalue().splitlines()
    assert count == len(lines) > 3
    assert all(line == json.dumps(json.loads(line), separators=(",", ":")) for line in lines)


# The clinical care (issue 12, SPEC sections 4 and 6): primary therapists, treatment plans
# with weekly reviews, referrals, and the weekly individual session with the primary.
CARE_COMMANDS = {
    "assign_primary_therapist",
    "create_treatment_plan",
    "review_treatment_plan",
    "refer",
    "close_referral",
}
WITH_CARE = CohortProfile(care=CareProfile())


@pytest.fixture(scope="module")
def cared() -> list[dict[str, Any]]:
    return list(generate_cohort(400, seed=11, until=UNTIL, profile=WITH_CARE))


def _care_added(raw: dict[str, Any]) -> bool:
    return raw["command"] in CARE_COMMANDS or raw.get("session_id", "").startswith("p-")


def test_care_adds_to_the_same_journeys(cared: list[dict[str, Any]]) -> None:
    plain = list(generate_cohort(400, seed=11, until=UNTIL))
    assert [c for c in cared if not _care_added(c)] == plain
    assert cared == list(generate_cohort(400, seed=11, until=UNTIL, profile=WITH_CARE))
    assert {c["command"] for c in cared} >= CARE_COMMANDS


def _episodes(journey: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The patient's commands split by admission (each list starts with its admit)."""
    episodes: list[list[dict[str, Any]]] = []
    for c in journey:
        if c["command"] == "admit":
            episodes.append([])
        episodes[-1].append(c)
    return episodes


def _day(raw: dict[str, Any]) -> date:
    """The local date of a command (its instant carries the patient's offset)."""
    return datetime.fromisoformat(raw["occurred_at"]).date()


def test_care_happens_inside_its_episode(cared: list[dict[str, Any]]) -> None:
    for journey in _by_patient(cared).values():
        for episode in _episodes(journey):
            admitted = datetime.fromisoformat(episode[0]["occurred_at"])
            ends = [c for c in episode if c["command"] == "discharge"]
            end = datetime.fromisoformat(ends[0]["occurred_at"]) if ends else CUTOFF
            for c in episode:
                if _care_added(c):
                    assert admitted <= datetime.fromisoformat(c["occurred_at"]) < end, c


def test_a_primary_therapist_from_admission_sometimes_changed(
    cared: list[dict[str, Any]],
) -> None:
    episodes = [e for j in _by_patient(cared).values() for e in _episodes(j)]
    changed = 0
    for episode in episodes:
        assigned = [c for c in episode if c["command"] == "assign_primary_therapist"]
        assert assigned[0]["occurred_at"] == episode[0]["occurred_at"]
        assert assigned == [c for c in episode[1:] if c["command"] == "assign_primary_therapist"]
        assert len({c["clinician_id"] for c in assigned}) == len(assigned)  # never the same
        changed += len(assigned) > 1
    assert 0.05 * len(episodes) <= changed <= 0.3 * len(episodes)


def test_plans_are_due_within_plan_due_days_some_late(cared: list[dict[str, Any]]) -> None:
    catalog = default_catalog()
    on_time = late = 0
    for journey in _by_patient(cared).values():
        for episode in _episodes(journey):
            plans = [c for c in episode if c["command"] == "create_treatment_plan"]
            assert len(plans) <= 1
            if not plans:
                continue
            due = _day(episode[0]) + timedelta(days=catalog.plan_due_days(episode[0]["level"]))
            on_time += _day(plans[0]) <= due
            late += _day(plans[0]) > due
            goals = plans[0]["goals"]
            assert 1 <= len(goals) <= 20
            assert len({g["dimension"] for g in goals}) == len(goals)
            assert {g["dimension"] for g in goals} <= set(catalog.asam_dimensions)
            assert all(1 <= len(g["objectives"]) <= 20 for g in goals)
    assert late > 0
    assert on_time >= 4 * late


def test_plans_are_reviewed_weekly_some_late(cared: list[dict[str, Any]]) -> None:
    statuses: Counter[str] = Counter()
    gaps: list[int] = []
    for journey in _by_patient(cared).values():
        for episode in _episodes(journey):
            plans = [c for c in episode if c["command"] == "create_treatment_plan"]
            reviews = [c for c in episode if c["command"] == "review_treatment_plan"]
            if not plans:
                assert not reviews
                continue
            known = {o["objective_id"] for g in plans[0]["goals"] for o in g["objectives"]}
            last = _day(plans[0])
            for review in reviews:
                assert review["plan_id"] == plans[0]["plan_id"]
                assert set(review.get("objectives", {})) <= known
                statuses.update(review.get("objectives", {}).values())
                gaps.append((_day(review) - last).days)
                last = _day(review)
    on_time = sum(1 <= g <= 7 for g in gaps)
    assert 0 < len(gaps) - on_time < 0.25 * len(gaps)  # some reviews come late
    assert set(statuses) == {"met", "in_progress", "not_met", "discontinued"}


def test_referrals_some_open_some_closed(cared: list[dict[str, Any]]) -> None:
    opened: dict[tuple[str, str], dict[str, Any]] = {}
    closed = 0
    for c in cared:
        key = (c["patient_id"], c.get("referral_id", ""))
        if c["command"] == "refer":
            assert key not in opened
            assert c["specialty"] in default_catalog().referral_specialties
            opened[key] = c
        elif c["command"] == "close_referral":
            assert _day(c) >= _day(opened[key])
            closed += 1
    assert 0.2 * len(opened) <= closed <= 0.8 * len(opened)


def test_most_weeks_have_an_individual_session_with_the_primary(
    cared: list[dict[str, Any]],
) -> None:
    met = judged = 0
    for journey in _by_patient(cared).values():
        for episode in _episodes(journey):
            ends = [c for c in episode if c["command"] == "discharge"]
            last = _day(ends[0]) if ends else UNTIL
            primary, weeks = None, defaultdict(bool)
            for c in episode:
                if c["command"] == "assign_primary_therapist":
                    primary = c["clinician_id"]
                elif c["command"] == "record_session" and c["format"] == "individual":
                    week = _day(c).isocalendar()[:2]
                    with_primary = c.get("clinician_id") == primary
                    weeks[week] |= with_primary and c.get("status", "attended") == "attended"
            monday = _day(episode[0]) + timedelta(days=7 - _day(episode[0]).weekday())
            while monday + timedelta(days=6) < last:  # whole weeks of the episode
                judged += 1
                met += weeks[monday.isocalendar()[:2]]
                monday += timedelta(days=7)
    assert 0.6 * judged <= met < judged
