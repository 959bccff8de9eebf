"""What a clinician found confusing on the pages, fixed and checked in Chromium: a week
below its minimum with no attended hour is drawn (not an empty slot); session times in the
patient's local time with a format column; a future as-of instant is marked on the patient
page and on the dashboard (whose default as-of, the end of today, lies ahead)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.conftest import CARE_PATIENT, Page, Server
from tests.web.test_pages import (
    care_standards_missing,
    cnt,
    dashboard_errors,
    loaded,
    num,
    pct,
    rows,
    with_key,
)

pytestmark = pytest.mark.browser

EMPTY_WEEKS = "demo-000008"  # active past the cohort's end: weeks without any session
AS_OF = "2026-09-01T00:00:00+00:00"
AT = "2026-07-01T00:00:00+00:00"  # the dashboard's as-of date 2026-06-30, ended

# The colour of the chart's canvas a few pixels above the zero line of a week's slot.
PIXEL_ABOVE_ZERO = """([week, lift]) => {
  const el = document.getElementById("weeks-chart");
  const chart = window.echarts.getInstanceByDom(el);
  const [x, y] = chart.convertToPixel({ xAxisIndex: 0, yAxisIndex: 0 }, [week, 0]);
  const canvas = el.querySelector("canvas");
  const scale = canvas.width / canvas.clientWidth;
  const d = canvas.getContext("2d").getImageData(Math.round(x * scale), Math.round((y - lift) * scale), 1, 1).data;
  return [d[0], d[1], d[2]];
}"""


def close(rgb: list[int], colour: str) -> bool:
    """Within a few levels per channel of `#rrggbb` (the canvas blends edges)."""
    want = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return max(abs(a - b) for a, b in zip(rgb, want, strict=True)) <= 8


def test_a_week_below_minimum_with_no_hours_is_drawn(page: Page, server: Server) -> None:
    view = server.get(f"/v1/patients/{EMPTY_WEEKS}/journey", as_of=AS_OF)
    empty = [
        w["week"]
        for w in view["weeks"]
        if w["status"] == "below_minimum" and w["attended_hours"] == 0
    ]
    assert empty, "the fixture must hold such a week"
    pal: dict[str, Any] = server.get("/web/static/palette.json")
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{EMPTY_WEEKS}?as_of={AS_OF.replace('+', '%2B')}")
    loaded(page)
    drawn = page.page.evaluate(PIXEL_ABOVE_ZERO, [empty[0], 3])
    assert close(drawn, pal["status"]["below_minimum"]), drawn
    summary = page.page.text_content("#weeks-summary") or ""
    assert f"{len(empty)} below minimum with no attended hours (marked at 0)" in summary
    page.shot("patient-empty-weeks")
    assert page.errors == []


def test_sessions_in_local_time_with_format(page: Page, server: Server) -> None:
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{server.patient}")
    loaded(page)
    log = server.get(f"/v1/patients/{server.patient}/sessions")
    headers = page.page.eval_on_selector_all(
        "#timeline-sessions thead th", "ths => ths.map(th => th.textContent)"
    )
    assert headers == [
        "session", f"started (local time, {log['timezone']})", "format", "approach",
        "minutes", "status", "amendments",
    ]  # fmt: skip
    shown = rows(page, "timeline-sessions")
    assert [r[:6] for r in shown] == [
        [s["session_id"], s["started_local"], s["format"], s["approach"],
         str(s["duration_minutes"]), s["shown_status"]]
        for s in log["sessions"]
    ]  # fmt: skip
    assert {r[1][-6:] for r in shown} <= {"-07:00", "-08:00"}  # Los Angeles, not raw UTC
    assert {r[2] for r in shown} >= {"individual", "group"}


def test_future_as_of_is_marked_on_the_patient_page(page: Page, server: Server) -> None:
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{server.patient}?as_of=2100-01-01T08:00:00%2B00:00")
    loaded(page)
    assert page.page.is_visible("#future-note")
    note = page.page.text_content("#future-note") or ""
    assert note.startswith("As of 2100-01-01T08:00:00+00:00 is in the future: this journey is")
    page.shot("patient-future")
    page.page.click("#f-now")
    page.page.wait_for_selector("#future-note", state="hidden")
    assert page.errors == []


def test_dashboard_marks_its_default_future_as_of(page: Page, server: Server) -> None:
    with_key(page, server.keys["admin"])
    page.page.goto("/dashboard")
    loaded(page)
    assert page.page.is_visible("#future-note")
    assert "is in the future" in (page.page.text_content("#future-note") or "")
    page.page.goto("/dashboard?at=2026-06-30&from=2026-04-02&to=2026-06-30")
    loaded(page)
    assert page.page.is_hidden("#future-note")
    assert dashboard_errors(page, server) == []


def test_dashboard_shows_the_care_standards(page: Page, server: Server) -> None:
    """The standards-of-care tables hold the numbers of GET /v1/analytics/care-standards
    (SPEC 9); a server without the endpoint gets a sentence saying so, not a blank card."""
    with_key(page, server.keys["analyst"])
    page.page.goto("/dashboard?at=2026-06-30&from=2026-04-02&to=2026-06-30")
    loaded(page)
    page.shot("dashboard-care-standards")
    if care_standards_missing(server):
        assert (page.page.text_content("#care-summary") or "").startswith(
            "The standards-of-care figures are not available from this server"
        )
        return
    answer = server.get("/v1/analytics/care-standards", "analyst", at=AT)
    assert rows(page, "care-weekly-table") == [
        [lv, cnt(w["weeks"]), cnt(w["met"]), pct(w["share"])]
        for lv, w in answer["weekly_individual"].items()
    ]
    assert rows(page, "care-plans-table") == [
        ["treatment-plan review overdue", cnt(answer["review_overdue"])],
        ["no treatment plan, past its due date", cnt(answer["plan_overdue"])],
    ]
    assert rows(page, "care-referrals-table") == [
        ["open", s, cnt(v["count"]), num(v["median_days_open"])]
        for s, v in answer["referrals_open"].items()
    ] + [
        ["closed", o, cnt(v["count"]), num(v["median_days_to_close"])]
        for o, v in answer["referrals_closed"].items()
    ]
    assert page.errors == []


def test_patient_page_shows_plan_referrals_and_missed_weekly_sessions(
    page: Page, server: Server
) -> None:
    """The plan (review due or overdue, goals, objectives and statuses), the referrals and
    the weeks without an individual session with the primary therapist, as the journey and
    GET .../care give them."""
    view = server.get(f"/v1/patients/{CARE_PATIENT}/journey", as_of=AS_OF)
    care = server.get(f"/v1/patients/{CARE_PATIENT}/care", as_of=AS_OF)
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{CARE_PATIENT}?as_of={AS_OF.replace('+', '%2B')}")
    loaded(page)
    assert page.page.text_content("#primary-therapist") == "Primary therapist: dr-web."
    plan = view["treatment_plan"]
    assert plan["plan_id"] == "plan-web" and plan["review_overdue"]
    assert plan["next_review_due"] == "2026-06-27"  # reviewed 2026-06-20 (New York) + 7 days
    summary = page.page.text_content("#plan-summary") or ""
    assert "review OVERDUE (was due 2026-06-27)" in summary
    assert "Objectives: 2 open, 1 met." in summary
    assert "overdue" in (page.page.get_attribute("#plan-summary", "class") or "")
    (current,) = care["plans"]
    assert rows(page, "plan-goals") == [
        [o["objective_id"], g["goal_id"], g["dimension"], o["target_date"],
         o["status"].replace("_", " "), g["description"] or "–", o["description"] or "–"]
        for g in current["goals"] for o in g["objectives"]
    ]  # fmt: skip
    assert [r[4] for r in rows(page, "plan-goals")] == ["met", "open", "open"]
    assert rows(page, "referrals-table") == [
        [r["referral_id"], r["specialty"], r["referred_at"], "closed" if r["closed_at"] else "open",
         r["closed_at"] or "–", r["outcome"] or "–", str(r["days_open"])]
        for r in view["referrals"]
    ]  # fmt: skip
    assert [r[3] for r in rows(page, "referrals-table")] == ["closed", "open"]
    met = {True: "met", False: "MISSED", None: "not judged"}
    weeks = rows(page, "weeks-table")
    assert [r[10:] for r in weeks] == [
        [num(w["evidence_based_hours"]), str(w["individual_with_primary"]),
         met[w["weekly_individual_met"]]]
        for w in view["weeks"]
    ]  # fmt: skip
    missed = sum(1 for w in view["weeks"] if w["weekly_individual_met"] is False)
    assert missed > 0
    assert f" {missed} judged week(s) without an individual session with the primary therapist" in (
        page.page.text_content("#weeks-summary") or ""
    )
    page.shot("patient-care")
    assert page.errors == []


def test_a_key_without_history_read_sees_the_plan_summary_only(page: Page, server: Server) -> None:
    with_key(page, server.keys["service"])
    page.page.goto(f"/patients/{CARE_PATIENT}?as_of={AS_OF.replace('+', '%2B')}")
    loaded(page)
    assert "review OVERDUE" in (page.page.text_content("#plan-summary") or "")
    assert page.page.text_content("#plan-goals") == (
        "Goals and objectives need the history.read permission."
    )
    assert len(rows(page, "referrals-table")) == 2
