"""`journey demo` loads the clinical care with the journeys (issue 12: `make run` shows it),
and leaves it out with --no-care."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from config.settings import Settings
from services.runtime import Runtime
from tests.cli_support import run_journey

CARE_EVENTS = {
    "PrimaryTherapistAssigned",
    "TreatmentPlanCreated",
    "TreatmentPlanReviewed",
    "PatientReferred",
    "ReferralClosed",
}


def _event_types(database_url: str) -> Counter[str]:
    with Runtime(Settings(database_url=database_url)) as runtime:
        stored = runtime.application.recorder.select_notifications(start=1, limit=1_000_000)
    return Counter(n.topic.rsplit(":", 1)[-1] for n in stored)


def test_the_demo_loads_the_care(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/journey.db"
    loaded = run_journey(url, "demo", "--patients", "30", "--until", "2026-03-01")
    assert loaded.returncode == 0, loaded.stderr
    assert "0 rejected" in loaded.stderr
    types = _event_types(url)
    assert set(types) >= CARE_EVENTS
    assert types["TreatmentPlanReviewed"] > types["TreatmentPlanCreated"] > 0


def test_the_demo_without_care(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/journey.db"
    loaded = run_journey(url, "demo", "--patients", "30", "--until", "2026-03-01", "--no-care")
    assert loaded.returncode == 0, loaded.stderr
    assert not set(_event_types(url)) & CARE_EVENTS
