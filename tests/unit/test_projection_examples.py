"""The SPEC section 6 rules on small hand-built journeys."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from projections.journey import project_journey
from projections.journey_view import JourneyView, WeekView
from tests.unit.builders import FAR_FUTURE, StreamBuilder, utc


def view(b: StreamBuilder, as_of: str | datetime, known_at: str | None = None) -> JourneyView:
    t = utc(as_of) if isinstance(as_of, str) else as_of
    k = utc(known_at) if known_at else None
    result = project_journey(b.events, as_of=t, known_at=k)
    assert result is not None
    return result


def week(v: JourneyView, label: str) -> WeekView:
    return next(w for w in v.weeks if w.week == label)


def iop_week(minutes: list[int], level: str = "iop", age_group: str = "adult") -> WeekView:
    """A full ISO week 2026-W02 (Jan 5-11) at `level` with the given attended sessions."""
    b = StreamBuilder().admit(utc("2026-01-04T10:00"), level, age_group)
    for i, m in enumerate(minutes):
        b.session(utc(f"2026-01-0{5 + i}T15:00"), m)
    return week(view(b, "2026-02-01T00:00"), "2026-W02")


# --- days (midnight census) -------------------------------------------------------------


def test_admitted_10_00_and_discharged_09_00_two_days_later_is_two_days() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "inpatient")
    b.discharge(utc("2026-01-03T09:00"))
    v = view(b, "2026-02-01T00:00")
    assert v.days_in_care == 2
    assert v.episodes[0].days == 2
    assert v.episodes[0].stays[0].days == 2
    assert v.days_by_level["inpatient"] == 2
    assert v.status == "discharged"
    assert v.current_level is None
    assert v.current_stay_started_at is None


def test_same_day_admission_and_discharge_is_zero_days() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T08:00"), "detox")
    b.discharge(utc("2026-01-01T20:00"))
    v = view(b, "2026-02-01T00:00")
    assert v.days_in_care == 0
    assert v.weeks == []


def test_midnight_start_counts_and_midnight_end_does_not() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T00:00"), "detox")
    b.discharge(utc("2026-01-03T00:00"))
    assert view(b, "2026-02-01T00:00").days_in_care == 2


def test_midnight_equal_to_as_of_counts() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "detox")
    assert view(b, "2026-01-03T00:00").days_in_care == 2
    assert view(b, "2026-01-02T23:59:59").days_in_care == 1


def test_as_of_before_the_discharge_shows_an_active_episode() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "detox")
    b.transition(utc("2026-01-04T10:00"), "inpatient")
    b.discharge(utc("2026-01-10T10:00"))
    v = view(b, "2026-01-06T12:00")
    assert v.status == "active"
    assert v.current_level == "inpatient"
    assert v.current_stay_started_at == utc("2026-01-04T10:00")
    episode = v.episodes[0]
    assert episode.discharged_at is None
    assert episode.discharge_reason is None
    assert [s.ended_at for s in episode.stays] == [utc("2026-01-04T10:00"), None]
    assert v.days_by_level == {"detox": 3, "inpatient": 2, "php": 0, "iop": 0, "outpatient": 0}


def test_as_of_before_admission_is_not_admitted() -> None:
    b = StreamBuilder(timezone="Asia/Kolkata").admit(utc("2026-01-10T10:00"), "iop", "adolescent")
    v = view(b, "2026-01-05T00:00")
    assert v.status == "not_admitted"
    assert v.episodes == []
    assert v.current_level is None
    assert (v.timezone, v.age_group) == ("Asia/Kolkata", "adolescent")
    assert v.days_in_care == 0


def test_unknown_patient_at_known_at_is_none() -> None:
    b = StreamBuilder().admit(utc("2026-01-10T10:00"))
    assert project_journey([], as_of=FAR_FUTURE) is None
    known_at = utc("2026-01-01T00:00")
    assert project_journey(b.events, as_of=FAR_FUTURE, known_at=known_at) is None


def test_naive_as_of_is_rejected() -> None:
    b = StreamBuilder().admit(utc("2026-01-10T10:00"))
    with pytest.raises(ValueError, match="as_of"):
        project_journey(b.events, as_of=datetime(2026, 1, 1))


# --- corrections, voids and known_at ----------------------------------------------------


def test_known_at_before_a_correction_ignores_it() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T15:00"), 60, session_id="s1")
    b.correct("s1", utc("2026-01-10T09:00"), duration_minutes=120)
    before = view(b, "2026-02-01T00:00", known_at="2026-01-08T00:00")
    after = view(b, "2026-02-01T00:00")
    assert week(before, "2026-W02").attended_hours == 1.0
    assert week(after, "2026-W02").attended_hours == 2.0
    assert before.known_at == utc("2026-01-08T00:00")


def test_a_correction_moving_a_session_after_as_of_hides_it() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T15:00"), 60, session_id="s1")
    b.correct("s1", utc("2026-01-06T09:00"), session_occurred_at=utc("2026-01-20T15:00"))
    v = view(b, "2026-01-12T00:00")
    assert v.sessions.attended == 0
    assert week(v, "2026-W02").attended_hours == 0.0
    later = view(b, "2026-01-21T00:00")
    assert later.sessions.attended == 1
    assert week(later, "2026-W04").attended_hours == 1.0


def test_a_correction_applies_whatever_as_of_is() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T15:00"), 60, session_id="s1")
    b.correct("s1", utc("2026-03-01T09:00"), status="no_show")
    v = view(b, "2026-01-06T00:00")
    assert (v.sessions.attended, v.sessions.no_show) == (0, 1)
    assert v.sessions.attendance_rate == 0.0


def test_a_void_removes_the_session_from_hours_and_counts() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T15:00"), 60, session_id="s1", format="individual")
    b.session(utc("2026-01-06T15:00"), 90, session_id="s2")
    b.void("s1", utc("2026-01-07T09:00"))
    v = view(b, "2026-02-01T00:00")
    w = week(v, "2026-W02")
    assert (w.attended_hours, w.individual_sessions) == (1.5, 0)
    assert v.sessions.model_dump() == {
        "attended": 1,
        "no_show": 0,
        "cancelled": 0,
        "voided": 1,
        "attendance_rate": 1.0,
    }


def test_session_counts_and_attendance_rate() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    for i in range(30):
        b.session(utc("2026-01-02T08:00").replace(hour=8 + i % 10, day=2 + i // 10))
    b.session(utc("2026-01-06T08:00"), status="no_show").session(
        utc("2026-01-06T09:00"), status="no_show"
    )
    b.session(utc("2026-01-06T10:00"), status="cancelled")
    s = view(b, "2026-03-01T00:00").sessions
    assert (s.attended, s.no_show, s.cancelled, s.voided) == (30, 2, 1, 0)
    assert s.attendance_rate == 0.94


def test_attendance_rate_is_null_without_attended_or_no_show() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"))
    b.session(utc("2026-01-06T10:00"), status="cancelled")
    assert view(b, "2026-03-01T00:00").sessions.attendance_rate is None


# --- continuity -------------------------------------------------------------------------


@pytest.mark.parametrize(("readmit_day", "continuous"), [(18, 20), (19, 9)])
def test_readmission_within_seven_days_chains(readmit_day: int, continuous: int) -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "inpatient")
    b.discharge(utc("2026-01-11T10:00"))
    b.admit(utc(f"2026-01-{readmit_day}T10:00"), "iop")
    v = view(b, "2026-01-28T12:00")
    assert [e.number for e in v.episodes] == [1, 2]
    assert v.days_in_care == 10 + (28 - readmit_day)
    assert v.continuous_care_days == continuous
    assert not v.meets_90_day_benchmark


def test_ninety_continuous_days_meet_the_benchmark() -> None:
    b = StreamBuilder().admit(utc("2026-01-01T10:00"), "iop")
    assert view(b, "2026-04-01T00:00").meets_90_day_benchmark
    assert not view(b, "2026-03-31T23:59").meets_90_day_benchmark


# --- weeks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "status"),
    [([180, 180, 180], "within_range"), ([180, 180, 179], "below_minimum")],
)
def test_iop_week_of_exactly_nine_hours_is_within_range(minutes: list[int], status: str) -> None:
    w = iop_week(minutes)
    assert (w.expected_min_hours, w.expected_max_hours) == (9.0, 20.0)
    assert (w.complete, w.level_days, w.status) == (True, {"iop": 7}, status)


@pytest.mark.parametrize(
    ("minutes", "status"),
    [(1201, "above_maximum"), (1200, "within_range"), (1199, "within_range")],
)
def test_iop_maximum_of_twenty_hours_is_inclusive(minutes: int, status: str) -> None:
    # SPEC 2: IOP is 9 <= hours <= 20; "more than 20 hours" is partial hospitalization.
    assert iop_week([minutes // 2, minutes - minutes // 2]).status == status


def test_php_week_has_no_maximum() -> None:
    w = iop_week([390, 390, 390], level="php")
    assert (w.expected_min_hours, w.expected_max_hours, w.status) == (20.0, None, "below_minimum")
    w = iop_week([700, 700, 700], level="php")
    assert w.status == "within_range"


def test_outpatient_week_without_hours_is_within_range() -> None:
    w = iop_week([], level="outpatient")
    assert (w.attended_hours, w.expected_min_hours, w.expected_max_hours) == (0.0, 0.0, 9.0)
    assert w.status == "within_range"


def test_outpatient_maximum_of_nine_hours_is_exclusive() -> None:
    # SPEC 2: 9 hours in an outpatient week is IOP intensity, above outpatient's maximum.
    assert iop_week([270, 270], level="outpatient").status == "above_maximum"
    assert iop_week([270, 269], level="outpatient").status == "within_range"


def test_inpatient_week_has_no_requirement() -> None:
    w = iop_week([60], level="inpatient")
    assert (w.expected_min_hours, w.expected_max_hours, w.status) == (None, None, "no_requirement")


def test_adolescent_iop_minimum_is_six_hours() -> None:
    w = iop_week([360], age_group="adolescent")
    assert (w.expected_min_hours, w.expected_max_hours, w.status) == (6.0, 20.0, "within_range")


def test_partial_week_is_prorated() -> None:
    # Admitted Wednesday Jan 7: dates Jan 7..11 have iop, 5 days => minimum 45/7 h.
    b = StreamBuilder().admit(utc("2026-01-07T10:00"))
    b.session(utc("2026-01-08T10:00"), 385)
    w = week(view(b, "2026-02-01T00:00"), "2026-W02")
    assert (w.level_days, w.complete) == ({"iop": 5}, False)
    assert (w.expected_min_hours, w.expected_max_hours) == (6.43, 14.29)
    assert (w.attended_hours, w.status) == (6.42, "below_minimum")
    b.session(utc("2026-01-09T10:00"), 1)
    w = week(view(b, "2026-02-01T00:00"), "2026-W02")
    assert (w.attended_hours, w.status) == (6.43, "within_range")


def test_mixed_week_sums_each_dates_level_and_needs_every_maximum() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"), "php")
    b.transition(utc("2026-01-08T10:00"), "iop")
    w = week(view(b, "2026-02-01T00:00"), "2026-W02")
    # Jan 5-7 php (3 days), Jan 8-11 iop (4 days).
    assert w.level_days == {"php": 3, "iop": 4}
    assert w.expected_min_hours == round((3 * 20 + 4 * 9) / 7, 2)
    assert w.expected_max_hours is None


def test_non_counting_approaches_go_to_other_hours() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T10:00"), 60, approach="yoga", format="individual")
    b.session(utc("2026-01-05T12:00"), 30, approach="counseling")
    w = week(view(b, "2026-02-01T00:00"), "2026-W02")
    assert (w.attended_hours, w.other_hours, w.individual_sessions) == (0.5, 1.0, 1)


def test_week_listed_for_a_session_without_level() -> None:
    b = StreamBuilder().admit(utc("2026-01-05T08:00"))
    b.session(utc("2026-01-05T10:00"), 60).discharge(utc("2026-01-05T18:00"))
    (w,) = view(b, "2026-02-01T00:00").weeks
    assert (w.week, w.level_days, w.status, w.complete) == ("2026-W02", {}, "no_requirement", False)
    assert w.attended_hours == 1.0


def test_dst_week_in_new_york() -> None:
    # DST starts Sunday 2026-03-08 at 02:00 local; that day lasts 23 hours.
    b = StreamBuilder(timezone="America/New_York").admit(utc("2026-03-01T12:00-05:00"))
    b.session(utc("2026-03-08T23:30-04:00"), 60)  # 03:30Z on Monday, Sunday locally
    b.session(utc("2026-03-09T00:30-04:00"), 30)
    v = view(b, "2026-04-01T00:00-04:00")
    assert v.days_in_care == 31  # midnights Mar 2 .. Apr 1
    assert week(v, "2026-W10").attended_hours == 1.0
    assert week(v, "2026-W11").attended_hours == 0.5
    assert all(w.complete for w in v.weeks[1:-1])
    assert [w.start_date for w in v.weeks[:2]] == [date(2026, 2, 23), date(2026, 3, 2)]
    assert view(b, "2026-04-01T03:59:59Z").days_in_care == 30


def test_iso_week_53_of_2026_then_week_1_of_2027() -> None:
    assert date(2026, 12, 28).isocalendar()[:2] == (2026, 53)
    assert date(2027, 1, 4).isocalendar()[:2] == (2027, 1)
    b = StreamBuilder().admit(utc("2026-12-27T10:00"))
    b.session(utc("2027-01-01T10:00"), 600)
    v = view(b, "2027-01-20T00:00")
    labels = [(w.week, w.start_date.isoformat(), w.complete) for w in v.weeks[:3]]
    assert labels == [
        ("2026-W52", "2026-12-21", False),
        ("2026-W53", "2026-12-28", True),
        ("2027-W01", "2027-01-04", True),
    ]
    assert week(v, "2026-W53").attended_hours == 10.0


def test_each_date_uses_the_age_group_of_its_episode() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"), "iop", "adolescent")
    b.discharge(utc("2026-01-12T10:00")).admit(utc("2026-02-01T10:00"), "iop", "adult")
    v = view(b, "2026-03-01T00:00")
    assert v.age_group == "adult"
    assert week(v, "2026-W02").expected_min_hours == 6.0
    assert week(v, "2026-W06").expected_min_hours == 9.0


# --- output shape -----------------------------------------------------------------------


def test_json_has_the_spec_shape() -> None:
    b = StreamBuilder(timezone="America/Phoenix").admit(utc("2026-01-01T10:00"), "detox")
    b.transition(utc("2026-01-05T10:00"), "iop").session(utc("2026-01-06T17:00"), 90)
    data: dict[str, Any] = view(b, "2026-03-01T00:00").model_dump(mode="json")
    assert list(data) == [
        "patient_id", "as_of", "known_at", "as_of_in_future", "status", "current_level",
        "current_stay_started_at", "age_group", "timezone", "episodes", "days_by_level",
        "days_in_care", "continuous_care_days", "meets_90_day_benchmark",
        "primary_therapist", "treatment_plan", "plan_overdue", "referrals", "weeks", "sessions",
    ]  # fmt: skip
    assert data["as_of"] == "2026-03-01T00:00:00+00:00"
    assert data["known_at"] is None
    assert list(data["episodes"][0]) == [
        "number", "admitted_at", "discharged_at", "discharge_reason", "days", "stays",
    ]  # fmt: skip
    assert data["episodes"][0]["stays"][0] == {
        "level": "detox",
        "started_at": "2026-01-01T10:00:00+00:00",
        "ended_at": "2026-01-05T10:00:00+00:00",
        "days": 4,
    }
    assert list(data["days_by_level"]) == ["detox", "inpatient", "php", "iop", "outpatient"]
    assert list(data["weeks"][1]) == [
        "week", "start_date", "attended_hours", "other_hours", "evidence_based_hours",
        "individual_sessions", "individual_with_primary", "weekly_individual_met",
        "level_days", "expected_min_hours", "expected_max_hours", "status", "complete",
    ]  # fmt: skip
    assert data["weeks"][1]["start_date"] == "2026-01-05"
    assert list(data["sessions"]) == [
        "attended",
        "no_show",
        "cancelled",
        "voided",
        "attendance_rate",
    ]
    assert datetime.fromisoformat(data["as_of"]).tzinfo == UTC
