"""SPEC section 6 weeks on hand-built journeys: evidence_based_hours, individual_with_primary,
weekly_individual_met, and the weekly maximum inclusive or exclusive per level (section 2)."""

from __future__ import annotations

import pytest

from projections.journey_view import WeekView
from tests.unit.builders import StreamBuilder, utc
from tests.unit.test_projection_examples import iop_week, view, week

# 2026-W02 is Monday 2026-01-05 .. Sunday 2026-01-11.


def _w02(b: StreamBuilder, as_of: str = "2026-02-01T00:00") -> WeekView:
    return week(view(b, as_of), "2026-W02")


def test_evidence_based_hours_are_the_evidence_based_part_of_attended_hours() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T10:00"), 90, approach="cbt")
    b.session(utc("2026-01-06T10:00"), 45, approach="medication_management")
    b.session(utc("2026-01-06T12:00"), 60, approach="counseling")  # counts, not evidence-based
    b.session(utc("2026-01-07T10:00"), 30, approach="yoga")  # supplementary: other hours
    b.session(utc("2026-01-07T12:00"), 60, approach="dbt", status="no_show")
    w = _w02(b)
    assert (w.attended_hours, w.evidence_based_hours, w.other_hours) == (3.25, 2.25, 0.5)


def test_individual_with_primary_counts_the_primary_in_force_at_the_session_start() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00"))
    b.session(utc("2026-01-05T09:00"), format="individual", clinician_id="dr-a")  # before
    b.assign("dr-a", utc("2026-01-05T10:00"))
    b.session(utc("2026-01-05T10:00"), format="individual", clinician_id="dr-a")  # yes
    b.session(utc("2026-01-06T10:00"), format="group", clinician_id="dr-a")  # group
    b.session(utc("2026-01-06T11:00"), format="individual", clinician_id="dr-x")  # other
    b.session(utc("2026-01-06T12:00"), format="individual")  # no clinician named
    b.session(utc("2026-01-06T13:00"), format="individual", clinician_id="dr-a", status="no_show")
    b.assign("dr-b", utc("2026-01-07T10:00"))
    b.session(utc("2026-01-07T11:00"), format="individual", clinician_id="dr-a")  # not now
    b.session(utc("2026-01-08T11:00"), format="individual", clinician_id="dr-b")  # yes
    w = _w02(b)
    assert (w.individual_sessions, w.individual_with_primary) == (6, 2)
    assert w.weekly_individual_met is True


def test_a_correction_moving_the_session_before_the_assignment_uncounts_it() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00")).assign("dr-a", utc("2026-01-06T10:00"))
    b.session(utc("2026-01-07T10:00"), format="individual", clinician_id="dr-a", session_id="s")
    assert _w02(b).individual_with_primary == 1
    b.correct("s", utc("2026-01-08T10:00"), session_occurred_at=utc("2026-01-06T09:00"))
    assert (_w02(b).individual_with_primary, _w02(b).weekly_individual_met) == (0, False)


def test_a_voided_session_is_not_with_the_primary() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00")).assign("dr-a", utc("2026-01-04T11:00"))
    b.session(utc("2026-01-07T10:00"), format="individual", clinician_id="dr-a", session_id="s")
    b.void("s", utc("2026-01-08T10:00"))
    assert (_w02(b).individual_with_primary, _w02(b).weekly_individual_met) == (0, False)


def test_a_session_at_the_discharge_instant_has_no_primary_in_force() -> None:
    # The assignment ends with the discharge (half-open, like a stay): docs/rules.md 6.
    b = StreamBuilder().admit(utc("2026-01-01T10:00")).assign("dr-a", utc("2026-01-01T11:00"))
    b.session(utc("2026-01-08T10:00"), format="individual", clinician_id="dr-a")
    b.discharge(utc("2026-01-08T10:00"))
    w = _w02(b)
    assert (w.individual_sessions, w.individual_with_primary) == (1, 0)
    assert w.level_days == {"iop": 3}  # Jan 5, 6, 7: a week cut by discharge
    assert w.weekly_individual_met is None


@pytest.mark.parametrize(
    ("admitted", "dated_days", "met"),
    [
        ("2026-01-08T10:00", 4, False),  # Thursday: dates Jan 8..11 have a level
        ("2026-01-09T10:00", 3, None),  # Friday: only 3 dates, not judged
    ],
)
def test_weekly_individual_met_is_judged_from_four_dated_days(
    admitted: str, dated_days: int, met: bool | None
) -> None:
    b = StreamBuilder().admit(utc(admitted)).assign("dr-a", utc(admitted))
    w = _w02(b)
    assert (sum(w.level_days.values()), w.weekly_individual_met) == (dated_days, met)


def test_weekly_individual_met_in_a_full_week_with_one_session_with_the_primary() -> None:
    b = StreamBuilder().admit(utc("2026-01-04T10:00")).assign("dr-a", utc("2026-01-04T11:00"))
    assert _w02(b).weekly_individual_met is False
    b.session(utc("2026-01-11T20:00"), 50, format="individual", clinician_id="dr-a")
    w = _w02(b)
    assert (w.complete, w.individual_with_primary, w.weekly_individual_met) == (True, 1, True)


def test_a_week_with_only_a_session_and_no_level_is_not_judged() -> None:
    b = StreamBuilder().admit(utc("2026-01-05T08:00")).assign("dr-a", utc("2026-01-05T08:00"))
    b.session(utc("2026-01-05T10:00"), format="individual", clinician_id="dr-a")
    b.discharge(utc("2026-01-05T18:00"))
    w = _w02(b)
    assert (w.level_days, w.individual_with_primary, w.weekly_individual_met) == ({}, 1, None)


# --- inclusive and exclusive maximum (SPEC 2 and 6 `status`) -----------------------------


def test_twenty_hours_in_a_full_adolescent_iop_week_is_within_range() -> None:
    assert iop_week([600, 600], age_group="adolescent").status == "within_range"
    assert iop_week([600, 601], age_group="adolescent").status == "above_maximum"


def test_six_hours_in_an_adolescent_outpatient_week_is_above_its_maximum() -> None:
    assert iop_week([360], level="outpatient", age_group="adolescent").status == "above_maximum"
    assert iop_week([359], level="outpatient", age_group="adolescent").status == "within_range"


@pytest.mark.parametrize(("minutes", "status"), [(720, "above_maximum"), (719, "within_range")])
def test_a_mixed_week_at_its_maximum_is_above_when_one_level_is_exclusive(
    minutes: int, status: str
) -> None:
    # Adolescent: Jan 5-7 iop (max 20, inclusive), Jan 8-11 outpatient (max 6, exclusive):
    # expected maximum (3 * 20 + 4 * 6) / 7 = 12 hours exactly.
    b = StreamBuilder().admit(utc("2026-01-04T10:00"), "iop", "adolescent")
    b.transition(utc("2026-01-08T10:00"), "outpatient")
    b.session(utc("2026-01-05T10:00"), minutes)
    w = _w02(b)
    assert (w.level_days, w.expected_max_hours) == ({"iop": 3, "outpatient": 4}, 12.0)
    assert w.status == status
