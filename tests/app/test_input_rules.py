"""Bad input that must never get in (SPEC section 4, docs/input-rules.md), on the real
stores: the earliest clinical instant, discharges before recorded sessions, retried and
no-op session corrections, time zones. Each rejection stores nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import Settings
from journey.application import JourneyApplication
from journey.commands import parse_command
from journey.errors import Conflict, InvalidCommand, JourneyError
from services.bootstrap import build_application
from services.bulk.importer import bulk_import_lines
from services.importing import import_lines

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ADMIT = {
    "command": "admit",
    "patient_id": "p-1",
    "level": "outpatient",
    "occurred_at": "2026-01-01T10:00:00+00:00",
}


def cmd(kind: str, **fields: Any) -> Any:
    return parse_command({"command": kind, "patient_id": "p-1", **fields})


def session(sid: str = "s-1", day: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "command": "record_session",
        "patient_id": "p-1",
        "session_id": sid,
        "format": "group",
        "approach": "cbt",
        "duration_minutes": 60,
        "occurred_at": f"2026-01-{day:02d}T10:00:00+00:00",
        **extra,
    }


def rejected(app: JourneyApplication, command: Any) -> tuple[str, str]:
    before = app.recorder.max_notification_id() or 0
    with pytest.raises(JourneyError) as caught:
        app.handle(parse_command(command), now=NOW)
    assert (app.recorder.max_notification_id() or 0) == before, "a rejection stored something"
    issue = caught.value.issues[0]
    return issue.field, issue.rule


def accepted(app: JourneyApplication, *commands: dict[str, Any]) -> list[str]:
    return [app.handle(parse_command(c), now=NOW).status for c in commands]


# -- the earliest clinical instant ----------------------------------------------------------
ANCIENT = ["1026-11-02T10:00:00+00:00", "0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+05:00",
           "1989-12-31T23:59:59+00:00", "1990-01-01T00:30:00+01:00"]  # fmt: skip


@pytest.mark.parametrize("when", ANCIENT)
def test_admission_before_the_earliest_clinical_instant_is_refused(
    app: JourneyApplication, when: str
) -> None:
    assert rejected(app, {**ADMIT, "occurred_at": when}) == ("occurred_at", "not_before_earliest")


@pytest.mark.parametrize(
    "command",
    [
        {"command": "transition", "patient_id": "p-1", "to_level": "iop"},
        {"command": "discharge", "patient_id": "p-1", "reason": "completed"},
        session(),
        {"command": "correct_session", "patient_id": "p-1", "session_id": "s-0", "reason": "r"},
        {**ADMIT, "patient_id": "p-2"},
    ],
    ids=lambda c: c["command"],
)
def test_every_clinical_instant_is_checked(app: JourneyApplication, command: Any) -> None:
    accepted(app, ADMIT, session("s-0"))
    for when in ("1026-11-02T10:00:00+00:00", "0001-01-01T00:00:00-03:00"):
        assert rejected(app, {**command, "occurred_at": when}) == (
            "occurred_at",
            "not_before_earliest",
        )


def test_the_setting_moves_the_earliest_instant(
    make_app: Callable[..., JourneyApplication],
) -> None:
    app = make_app(earliest_occurred_at="2020-01-01T00:00:00Z")
    assert rejected(app, {**ADMIT, "occurred_at": "2019-12-31T10:00:00+00:00"}) == (
        "occurred_at",
        "not_before_earliest",
    )
    assert accepted(app, {**ADMIT, "occurred_at": "2020-01-01T00:00:00+00:00"}) == ["accepted"]


def test_import_and_bulk_import_apply_the_rule(store_url: str) -> None:
    ancient = {**ADMIT, "occurred_at": "1026-11-02T10:00:00+00:00"}
    lines = [f"{line}\n" for line in (json_line(ADMIT), json_line(ancient))]
    settings = Settings(database_url=store_url)
    app = build_application(settings)
    try:
        report = import_lines(app, lines, now=NOW)
        assert [(r.line, r.error.issues[0].rule) for r in report.rejected] == [
            (2, "not_before_earliest")
        ]
        assert not report.applied and (app.recorder.max_notification_id() or 0) == 0
    finally:
        app.close()
    bulk = bulk_import_lines(lines, settings=settings, workers=0, now=NOW)
    assert [(r.line, r.error.issues[0].rule) for r in bulk.rejected] == [(2, "not_before_earliest")]


def json_line(command: dict[str, Any]) -> str:
    return json.dumps(command)


def test_numbers_are_not_instants() -> None:
    for value in (1700000000, "1700000000", 1.7e9):
        with pytest.raises(InvalidCommand) as caught:
            parse_command({**ADMIT, "occurred_at": value})
        assert caught.value.issues[0].field == "occurred_at"


# -- discharge before a recorded session -----------------------------------------------------
def test_discharge_before_a_live_session_is_a_conflict_naming_the_latest(
    app: JourneyApplication,
) -> None:
    accepted(app, ADMIT, session("s-1", 5), session("s-2", 9), session("s-3", 7))
    discharge = {"command": "discharge", "patient_id": "p-1", "reason": "completed",
                 "occurred_at": "2026-01-06T10:00:00+00:00"}  # fmt: skip
    with pytest.raises(Conflict) as caught:
        app.handle(parse_command(discharge), now=NOW)
    (issue,) = caught.value.issues
    assert (issue.field, issue.rule) == ("occurred_at", "sessions_after_discharge")
    assert "'s-2'" in issue.message
    void = {"command": "void_session", "patient_id": "p-1", "reason": "entered in error"}
    accepted(app, {**void, "session_id": "s-2"})
    with pytest.raises(Conflict, match="'s-3'"):
        app.handle(parse_command(discharge), now=NOW)
    moved = {"command": "correct_session", "patient_id": "p-1", "session_id": "s-3",
             "reason": "wrong day", "occurred_at": "2026-01-06T09:00:00+00:00"}  # fmt: skip
    assert accepted(app, moved, discharge) == ["accepted", "accepted"]


def test_no_order_leaves_a_session_outside_every_episode(app: JourneyApplication) -> None:
    discharge = {"command": "discharge", "patient_id": "p-1", "reason": "completed",
                 "occurred_at": "2026-01-10T10:00:00+00:00"}  # fmt: skip
    accepted(app, ADMIT, session("s-1", 5), discharge)
    late = {"command": "correct_session", "patient_id": "p-1", "session_id": "s-1",
            "reason": "r", "occurred_at": "2026-01-11T10:00:00+00:00"}  # fmt: skip
    assert rejected(app, late) == ("occurred_at", "within_episode")
    assert rejected(app, session("s-2", 11)) == ("occurred_at", "within_episode")


# -- corrections: retries are duplicates, no-ops are refused --------------------------------
CORRECT = {"command": "correct_session", "patient_id": "p-1", "session_id": "s-1",
           "reason": "typo", "duration_minutes": 45}  # fmt: skip


def test_a_repeated_correction_is_a_duplicate(app: JourneyApplication) -> None:
    accepted(app, ADMIT, session("s-1"))
    assert accepted(app, CORRECT, CORRECT) == ["accepted", "duplicate"]
    assert [e.type for e in app.history("p-1")].count("SessionCorrected") == 1
    outcome = app.handle_many([parse_command(CORRECT)], atomic=True, now=NOW)[0]
    assert not isinstance(outcome, JourneyError) and outcome.status == "duplicate"


def test_a_correction_that_changes_nothing_is_refused(app: JourneyApplication) -> None:
    accepted(app, ADMIT, session("s-1"), CORRECT)
    assert rejected(app, {**CORRECT, "reason": "again"}) == ("duration_minutes", "no_change")
    unchanged = {**CORRECT, "duration_minutes": 60, "format": "group", "reason": "x"}
    accepted(app, {**CORRECT, "duration_minutes": 60, "reason": "back"})
    assert rejected(app, unchanged)[1] == "no_change"
    same_instant = {**CORRECT, "duration_minutes": None, "reason": "tz",
                    "occurred_at": "2026-01-05T03:00:00-07:00"}  # fmt: skip
    assert rejected(app, same_instant) == ("occurred_at", "no_change")
    assert accepted(app, {**CORRECT, "format": "family", "reason": "group was wrong"}) == [
        "accepted"
    ]


def test_an_earlier_correction_sent_again_is_applied_when_it_changes_something(
    app: JourneyApplication,
) -> None:
    back = {**CORRECT, "duration_minutes": 60, "reason": "back"}
    assert accepted(app, ADMIT, session("s-1"), CORRECT, back, CORRECT)[2:] == ["accepted"] * 3


def test_state_survives_a_reopened_application(
    make_app: Callable[..., JourneyApplication],
) -> None:
    accepted(make_app(), ADMIT, session("s-1"), CORRECT)
    again = make_app(aggregate_cache_size=0)
    assert accepted(again, CORRECT) == ["duplicate"]
    assert rejected(again, {**CORRECT, "reason": "other"}) == ("duration_minutes", "no_change")


# -- time zones -------------------------------------------------------------------------------
@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", ".", "..", "posix/UTC",
                                  "right/UTC", "", "America/../UTC", "Mars/Olympus"])  # fmt: skip
def test_only_canonical_iana_zones_are_accepted(zone: str) -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse_command({**ADMIT, "timezone": zone})
    assert caught.value.issues[0].field == "timezone"
    with pytest.raises(ValueError, match="timezone"):
        Settings(timezone=zone)


def test_utc_and_iana_names_stay_valid() -> None:
    for zone in ("UTC", "America/Phoenix", "Etc/UTC", "Europe/Berlin"):
        assert parse_command({**ADMIT, "timezone": zone}).timezone == zone  # type: ignore[union-attr]
    assert Settings(timezone="America/Phoenix").timezone == "America/Phoenix"
