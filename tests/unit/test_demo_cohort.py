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

from devtools.demo.cohort import CohortProfile, generate_cohort, write_jsonl
from journey.application import Outcome
from journey.catalog import default_catalog
from journey.commands import parse_command
from journey.settings import Settings
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


def test_the_application_accepts_every_command(tmp_path: Path) -> None:
    commands = list(generate_cohort(200, seed=5, until=UNTIL))
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
