"""The catalog's clinical lists and per-level figures (SPEC sections 2, 3, 4 and 6)."""

from __future__ import annotations

import pytest

from journey.catalog import default_catalog


@pytest.mark.parametrize(
    ("level", "inclusive", "due"),
    [
        ("detox", False, 3),
        ("inpatient", False, 3),
        ("php", False, 7),
        ("iop", True, 7),
        ("outpatient", False, 30),
    ],
)
def test_level_max_inclusive_and_plan_due_days(level: str, inclusive: bool, due: int) -> None:
    catalog = default_catalog()
    assert catalog.max_inclusive(level) is inclusive
    assert catalog.plan_due_days(level) == due


def test_clinical_code_lists() -> None:
    catalog = default_catalog()
    assert catalog.asam_dimensions == (
        "withdrawal",
        "biomedical",
        "emotional_behavioral",
        "readiness_to_change",
        "relapse_potential",
        "recovery_environment",
    )
    assert catalog.referral_specialties == (
        "trauma",
        "psychiatry",
        "medical",
        "medication_for_oud",
        "family_services",
        "housing_social",
        "other",
    )
    assert catalog.review_outcomes == ("continue", "revise", "recommend_level_change")
    assert catalog.objective_statuses == ("met", "in_progress", "not_met", "discontinued")
    assert catalog.referral_close_outcomes == ("completed", "declined", "unavailable", "cancelled")


def test_evidence_based_per_approach() -> None:
    catalog = default_catalog()
    assert catalog.evidence_based("cbt") and catalog.evidence_based("medication_management")
    assert not catalog.evidence_based("counseling")
    assert not catalog.evidence_based("yoga")
    assert not catalog.evidence_based("not_an_approach")
