"""The treatment plan, referrals and weekly individual sessions as the audit report and
the FHIR export show them: from the journey's care fold (worked example in
`care_stream`), the same figures as the journey; the FHIR CarePlan, Goal and
ServiceRequest resources are valid `fhir.resources` models (R4B and R5), conditional
updates keyed by stable identifiers, labelled 42 CFR Part 2, with narratives."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from audit.report import _rows
from audit.report_care import care_sections
from devtools import fhir_validator
from devtools._common import ServiceError
from journey.catalog import default_catalog
from projections.care_view import care_view
from projections.exports.fhir import builder
from projections.exports.fhir_rows import EpisodeRow, PatientRecord
from projections.exports.fhir_terminology import code_systems_bundle
from projections.journey import project_journey
from tests.exports.care_stream import AS_OF, PID, care_stream

SYSTEM = "urn:care-journey:test-patient-id"
PART2 = {"42CFRPart2", "SUD", "NORDSCLCD", "R"}


def test_the_care_view_is_the_journeys_care_with_its_detail() -> None:
    events = care_stream()
    journey = project_journey(events, as_of=AS_OF)
    care = care_view(events, as_of=AS_OF)
    assert journey is not None and care is not None and journey.treatment_plan is not None
    assert care.primary_therapist == journey.primary_therapist == "dr-a"
    (plan,) = care.plans
    assert plan.status == "active" and plan.reviews == 1 and plan.last_outcome == "continue"
    # reviewed Monday 2026-01-12 (local): due 2026-01-19, overdue on 2026-02-02
    assert plan.next_review_due == journey.treatment_plan.next_review_due
    assert str(plan.next_review_due) == "2026-01-19" and plan.review_overdue
    statuses = {o.objective_id: o.status for g in plan.goals for o in g.objectives}
    assert statuses == {"o-1": "met", "o-2": "in_progress", "o-3": "open"}
    assert [g.dimension for g in plan.goals] == ["relapse_potential", "recovery_environment"]
    refs = {r.referral_id: (r.closed_at is None, r.outcome, r.days_open) for r in care.referrals}
    assert refs == {"ref-1": (False, "completed", 7), "ref-2": (True, None, 6)}
    assert [(r.referral_id, r.days_open) for r in journey.referrals] == [("ref-1", 7), ("ref-2", 6)]


def _table(html: str, first_header: str) -> list[list[str]]:
    table = html.split(f"<th>{first_header}</th>", 1)[1].split("</table>", 1)[0]
    return [
        [unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", table)
    ]


def test_the_report_shows_plan_objectives_referrals_and_missed_weeks() -> None:
    events = care_stream()
    journey = project_journey(events, as_of=AS_OF)
    care = care_view(events, as_of=AS_OF)
    assert journey is not None and care is not None
    html = care_sections(journey, care, _rows)
    assert "Primary therapist: dr-a." in html
    (plan,) = _table(html, "plan")[:1]
    assert plan[:3] == ["plan-1", "1", "active"] and plan[-2:] == ["2026-01-19", "OVERDUE"]
    objectives = _table(html, "plan</th><th>goal")
    assert [(r[3], r[5]) for r in objectives] == [
        ("o-1", "met"),
        ("o-2", "in_progress"),
        ("o-3", "open"),
    ]
    referrals = _table(html, "referral")
    assert [(r[0], r[4], r[6], r[7]) for r in referrals] == [
        ("ref-1", "closed", "completed", "7"), ("ref-2", "open", "-", "6"),
    ]  # fmt: skip
    missed = [w.week for w in journey.weeks if w.weekly_individual_met is False]
    # W02 met with dr-a; W03 only dr-b; W04 and W05 none; W06 has no dated level yet
    assert missed == ["2026-W03", "2026-W04", "2026-W05"]
    assert (
        "3 judged week(s) without an individual session with the primary therapist: "
        "2026-W03, 2026-W04, 2026-W05." in html
    )


def _bundle(version: str) -> dict[str, Any]:
    events = care_stream()
    care = care_view(events, as_of=AS_OF)
    journey = project_journey(events, as_of=AS_OF)
    assert journey is not None
    episodes = [EpisodeRow(1, journey.episodes[0].admitted_at, None, None)]
    record = PatientRecord(PID, episodes=episodes, care=care)
    made: Any = builder(version, identifier_system=SYSTEM).bundle(record)  # type: ignore[arg-type]
    found: dict[str, Any] = made.model_dump(mode="json")
    return found


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_fhir_care_plan_goals_and_service_requests(version: str) -> None:
    bundle = _bundle(version)
    assert bundle == _bundle(version)  # nothing depends on the clock
    by_id = {e["resource"]["identifier"][0]["value"]: e for e in bundle["entry"]}
    plan = by_id[f"{PID}/plan/plan-1"]
    assert plan["request"] == {
        "method": "PUT", "url": f"CarePlan?identifier={SYSTEM}|{PID}/plan/plan-1",
    }  # fmt: skip
    care_plan = plan["resource"]
    assert (care_plan["status"], care_plan["intent"]) == ("active", "plan")
    goals = [by_id[f"{PID}/plan/plan-1/goal/{g}"] for g in ("g-1", "g-2")]
    assert [g["reference"] for g in care_plan["goal"]] == [g["fullUrl"] for g in goals]
    assert care_plan["supportingInfo"] == [{"reference": by_id[f"{PID}/episode/1"]["fullUrl"]}]
    assert "next review due 2026-01-19 (overdue)" in care_plan["text"]["div"]
    goal = goals[0]["resource"]
    assert goal["lifecycleStatus"] == "active" and goal["description"]["text"] == "Stay abstinent"
    assert goal["category"][0]["coding"][0]["code"] == "relapse_potential"
    assert [t["dueDate"] for t in goal["target"]] == ["2026-01-31", "2026-02-28"]
    assert [n["text"] for n in goal["note"]] == [
        "Objective o-1, target 2026-01-31: met (Attend every group)",
        "Objective o-2, target 2026-02-28: in_progress",
    ]
    closed = by_id[f"{PID}/referral/ref-1"]["resource"]
    still_open = by_id[f"{PID}/referral/ref-2"]["resource"]
    assert (closed["status"], still_open["status"]) == ("completed", "active")
    specialty = still_open["code"] if version == "R4B" else still_open["code"]["concept"]
    assert specialty["coding"][0]["code"] == "psychiatry"
    assert closed["occurrencePeriod"]["end"].startswith("2026-01-20T17:00:00")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert {c["code"] for c in resource["meta"]["security"]} == PART2
        assert resource["text"]["status"] == "generated"


def test_hapi_validator_finds_no_error_in_the_care_resources(tmp_path: Path) -> None:
    """The care resources (with the patient, episode and code systems they refer to)
    through HAPI's offline validator, R5 and R4B: no error, no fatal."""
    try:
        fhir_validator.lib_dir()
    except (ServiceError, OSError) as exc:
        pytest.fail(f"cannot resolve the HAPI FHIR validator with Maven: {exc}", pytrace=False)
    tho = {"R4B": fhir_validator.hl7_terminology(), "R5": []}
    batches = {}
    for version in ("R5", "R4B"):
        bundle = tmp_path / f"care-{version}.json"
        bundle.write_text(json.dumps(_bundle(version)))
        terminology = tmp_path / f"codesystems-{version}.json"
        made = code_systems_bundle(version, default_catalog())  # type: ignore[arg-type]
        terminology.write_text(made.model_dump_json())
        batches[version] = fhir_validator.Batch([bundle], [terminology, *tho[version]])
    issues = fhir_validator.validate(batches)
    assert fhir_validator.blocking(issues) == [], json.dumps(issues[:10], indent=1)
