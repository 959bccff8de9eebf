"""Compare a journey served today with one an earlier version printed: every field it had
is unchanged, and the fields added since (SPEC 6 care fields) hold what a stream without
care events gives."""

from __future__ import annotations

from typing import Any

CARE_DEFAULTS = {
    "as_of_in_future": False,
    "primary_therapist": None,
    "treatment_plan": None,
    "referrals": [],
}
ADDED_WEEK_FIELDS = {"evidence_based_hours", "individual_with_primary", "weekly_individual_met"}


def assert_same_as_before(view: dict[str, Any], before: dict[str, Any]) -> None:
    added = set(view) - set(before)
    assert added == {*CARE_DEFAULTS, "plan_overdue"}
    assert {k: view[k] for k in CARE_DEFAULTS} == CARE_DEFAULTS
    assert isinstance(view["plan_overdue"], bool)
    old_weeks = [
        {k: v for k, v in w.items() if k in w.keys() - ADDED_WEEK_FIELDS} for w in view["weeks"]
    ]
    assert old_weeks == before["weeks"]
    for w in view["weeks"]:
        assert w.keys() - set(before["weeks"][0]) == ADDED_WEEK_FIELDS
        assert w["individual_with_primary"] == 0
        assert w["weekly_individual_met"] in (None, False)
    assert {k: view[k] for k in before if k != "weeks"} == {
        k: v for k, v in before.items() if k != "weeks"
    }
