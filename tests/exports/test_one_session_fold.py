"""A corrected and a voided session look the same wherever they are shown: the patient
page's data (`GET /v1/patients/{id}/sessions`), the audit report's session table and SVG
timeline, and the FHIR export all take them from the one fold of `projections.session_log`
(the journey's). Checked on each store."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from audit.report import render_report
from audit.timeline_svg import session_label
from audit.verify import verify_patient
from config.settings import Settings
from interfaces.api.app import create_app
from journey.application import JourneyApplication
from projections.care_view import care_view
from projections.queries import patient_history, patient_journey
from projections.session_view import SessionLogView
from tests.exports.cohort import export_cohort
from tests.exports.conftest import export
from tests.readmodels.support import follow, load

PID = "p-mixed"
AS_OF = datetime(2025, 6, 1, tzinfo=UTC)
LATER = [  # a second correction of "fixed" (start and status) after the cohort's own
    {"command": "correct_session", "patient_id": PID, "session_id": "fixed",
     "reason": "started late, left early", "occurred_at": "2025-01-23T16:30:00+00:00",
     "status": "attended", "delivery": "video"},
]  # fmt: skip


@pytest.fixture
def shown(app: JourneyApplication, store_url: str, tmp_path: Path) -> dict[str, Any]:
    load(app, [*export_cohort(), *LATER])
    follow(app, store_url)
    settings = Settings(database_url=store_url, auth=False)
    with TestClient(create_app(app, settings)) as client:
        answer = client.get(f"/v1/patients/{PID}/sessions", params={"as_of": AS_OF.isoformat()})
    assert answer.status_code == 200, answer.text
    page = SessionLogView.model_validate(answer.json())
    history = patient_history(app, PID)
    view = patient_journey(app, PID, as_of=AS_OF)
    care = care_view(history, as_of=AS_OF)
    assert care is not None
    report = render_report(
        view, page, history, care=care, result=verify_patient(app, PID),
        generated_at=AS_OF, generated_by="test",
    )  # fmt: skip
    fhir = export(app, store_url, tmp_path / "R5", "R5")
    return {"page": page, "report": report, "fhir": fhir}


def _report_rows(report: str, heading: str) -> list[list[str]]:
    table = report.split(f"<h2>{heading}</h2>")[1].split("</table>", maxsplit=1)[0]
    return [
        [unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table)
        if "<td>" in row
    ]


@pytest.mark.parametrize("session_id", ["fixed", "wrong"])
def test_a_session_is_shown_the_same_everywhere(shown: dict[str, Any], session_id: str) -> None:
    page: SessionLogView = shown["page"]
    session = next(s for s in page.sessions if s.session_id == session_id)
    if session_id == "fixed":  # both corrections applied, in order
        assert session.started_at == datetime(2025, 1, 23, 16, 30, tzinfo=UTC)
        assert (session.duration_minutes, session.delivery, session.format) == (
            90,
            "video",
            "group",
        )
        assert session.amendments == [
            "corrected: was 90 minutes",
            "corrected: started late, left early",
        ]
        assert session.started_local == "2025-01-23T10:30:00-06:00"  # America/Chicago
    else:
        assert session.voided and session.shown_status == "voided"
    # the report's session table: the page's columns and values
    row = next(
        r for r in _report_rows(shown["report"], "Sessions (as corrected)") if r[0] == session_id
    )
    assert row == [
        session.session_id, session.started_local, session.format, session.approach,
        str(session.duration_minutes), session.shown_status, "; ".join(session.amendments),
    ]  # fmt: skip
    # the report's SVG timeline: the same mark text as the page's tooltip
    assert f"<title>{session_label(session)}</title>" in unescape(shown["report"])
    # the FHIR Encounter: the same start, end, length and status
    encounter = shown["fhir"].resource(PID, f"{PID}/session/{session_id}")
    assert encounter["status"] == ("entered-in-error" if session.voided else "completed")
    period = {k: datetime.fromisoformat(v) for k, v in encounter["actualPeriod"].items()}
    assert period == {"start": session.started_at, "end": session.ended_at}
    assert encounter["length"]["value"] == session.duration_minutes


def test_the_amendments_are_listed_once_the_same_way(shown: dict[str, Any]) -> None:
    page: SessionLogView = shown["page"]
    listed = _report_rows(shown["report"], "Corrections and voids")
    assert listed == [
        [a.recorded_at.isoformat(), a.actor or "-", a.session_id, a.kind_label,
         a.changes_text, a.reason]
        for a in page.amendments
    ]  # fmt: skip
    later = page.amendments[-1]
    assert later.changes == {
        "session_occurred_at": "2025-01-23T16:30:00+00:00", "delivery": "video",
        "status": "attended",
    }  # fmt: skip
    assert [a.kind for a in page.amendments].count("void") == 1
