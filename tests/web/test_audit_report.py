"""The auditors' HTML report, opened in a real (headless) browser: it renders without
console errors, offline, and shows the integrity verdict, the timeline and corrections."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.demo.cohort import generate_cohort
from tests.web.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

CARE = [
    {"command": "admit", "patient_id": "p-rep", "level": "iop",
     "occurred_at": "2026-01-05T09:00:00+00:00", "timezone": "UTC"},
    {"command": "assign_primary_therapist", "patient_id": "p-rep", "clinician_id": "dr-r",
     "occurred_at": "2026-01-05T10:00:00+00:00"},
    {"command": "create_treatment_plan", "patient_id": "p-rep", "plan_id": "plan-r",
     "occurred_at": "2026-01-06T10:00:00+00:00", "goals": [
         {"goal_id": "g-1", "dimension": "biomedical",
          "objectives": [{"objective_id": "o-1", "target_date": "2026-02-15"}]}]},
    {"command": "refer", "patient_id": "p-rep", "referral_id": "ref-r",
     "specialty": "medical", "occurred_at": "2026-01-07T10:00:00+00:00"},
]  # fmt: skip


def test_report_renders_in_chromium(browser: Any, tmp_path: Path) -> None:
    from datetime import date

    env = {**os.environ, "JOURNEY_DATABASE_URL": f"sqlite:///{tmp_path}/r.db"}
    commands = "".join(
        json.dumps(c) + "\n" for c in generate_cohort(3, seed=2, until=date(2026, 6, 1))
    )
    fix = {
        "command": "correct_session",
        "patient_id": "demo-000001",
        "session_id": "s-0001",
        "reason": "duration typed wrong",
        "duration_minutes": 75,
    }
    run = [sys.executable, "-m", "interfaces"]
    subprocess.run(
        [*run, "import", "-"],
        input=commands + json.dumps(fix) + "\n" + "".join(json.dumps(c) + "\n" for c in CARE),
        env=env,
        text=True,
        check=True,
        capture_output=True,
    )
    report = tmp_path / "report.html"
    subprocess.run(
        [*run, "audit-report", "demo-000001", "--out", str(report), "--actor", "aud-1"],
        env=env,
        check=True,
        capture_output=True,
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report.as_uri())
    assert errors == []
    text = page.inner_text("body")
    assert "Audit report: patient demo-000001" in text
    assert "Verified:" in text and "duration typed wrong" in text
    assert page.locator("svg[role=img]").count() >= 1
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "audit-report.png"))
    care = tmp_path / "care.html"
    subprocess.run(
        [*run, "audit-report", "p-rep", "--out", str(care), "--as-of", "2026-02-01T00:00:00Z"],
        env=env,
        check=True,
        capture_output=True,
    )
    page.goto(care.as_uri())
    text = page.inner_text("body")
    assert "Primary therapist: dr-r." in text
    assert "plan-r" in text and "OVERDUE" in text  # created 2026-01-06, never reviewed
    assert "ref-r" in text and "open" in text
    assert "judged week(s) without an individual session with the primary therapist" in text
    assert errors == []
    page.screenshot(path=str(SCREENSHOTS / "audit-report-care.png"), full_page=True)
    context.close()
