"""The web pages end to end: headless Chromium against a real server holding the demo
cohort. The figures the pages show (their data tables and summaries) must be those of the
same API calls; filters and point-in-time controls must change them; the pages must load
without console errors, work with the key form, and leave reads in the access trail."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.web.conftest import Page, Server, use_key

pytestmark = pytest.mark.browser

AT = "2026-07-01T00:00:00+00:00"  # the end of 2026-06-30 (UTC), the dashboard's as-of date


def with_key(page: Page, key: str) -> None:
    """A key already stored for the tab (as after using the key form once)."""
    page.page.add_init_script(f"sessionStorage.setItem('journey.apiKey', {key!r})")


def care_standards_missing(server: Server) -> bool:
    """Whether this server has no GET /v1/analytics/care-standards (the readmodels work
    package adds it): the dashboard then says so, after a 404 the browser logs."""
    answer = httpx.get(
        f"{server.url}/v1/analytics/care-standards", headers={"X-API-Key": server.keys["admin"]}
    )
    return answer.status_code == 404


def dashboard_errors(page: Page, server: Server) -> list[str]:
    """The console errors of a dashboard, but the 404 of a missing care-standards endpoint."""
    if not care_standards_missing(server):
        return page.errors
    return [e for e in page.errors if not ("404" in e and e.startswith("Failed to load"))]


def loaded(page: Page, previous: str | None = None) -> str:
    page.page.wait_for_function(
        "prev => document.body.dataset.loaded && document.body.dataset.loaded !== prev",
        arg=previous,
        timeout=30_000,
    )
    value: str = page.page.evaluate("document.body.dataset.loaded")
    assert value != "error", page.page.text_content("#alert")
    return value


def rows(page: Page, container: str) -> list[list[str]]:
    found: list[list[str]] = page.page.eval_on_selector_all(
        f"#{container} table tbody tr",
        "trs => trs.map(tr => [...tr.cells].map(c => c.textContent))",
    )
    return found


def pct(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.2f}%"


def num(value: Any) -> str:
    """As the page's JavaScript writes a number (String(4.0) is "4")."""
    if value is None:
        return "–"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def cnt(value: int | None) -> str:
    """As the page writes a count: null is a cell suppressed for the analyst role."""
    return "suppressed" if value is None else str(value)


def check_dashboard(
    page: Page,
    server: Server,
    *,
    at: str,
    first: str,
    last: str,
    levels: list[str],
    role: str = "analyst",
) -> None:
    """Every table of the dashboard holds the numbers of the same analytics calls."""

    def get(path: str, **query: str) -> Any:
        return server.get(f"/v1/analytics/{path}", role, at=at, **query)

    census = get("census")
    assert rows(page, "census-table") == [[lv, cnt(census["levels"][lv])] for lv in levels] + [
        ["all levels", cnt(census["total"])]
    ]
    daily = get("census/daily", **{"from": first, "to": last})
    assert rows(page, "daily-table") == [
        [d["date"], *(cnt(d["levels"][lv]) for lv in levels), "yes" if d["complete"] else "partial"]
        for d in daily["days"]
    ]
    los = get("length-of-stay")["stays_by_level"]
    assert rows(page, "los-table") == [
        [lv, cnt(los[lv]["count"]), num(los[lv]["mean_days"]), num(los[lv]["median_days"])]
        for lv in levels
    ]
    flow = get("transitions", **{"from": first, "to": last})
    assert rows(page, "flow-table") == [
        [d, p["from_level"], p["to_level"], cnt(p["count"])]
        for d in ("step_down", "step_up")
        for p in flow[d]
        if p["from_level"] in levels or p["to_level"] in levels
    ]
    retention = get("retention")
    assert rows(page, "retention-table") == [
        [cnt(retention["chains"]), cnt(retention["retained"]), pct(retention["share"])]
    ]
    intensity = get("intensity")
    weeks, attendance = intensity["weeks_by_level"], intensity["attendance_by_level"]
    statuses = ("below_minimum", "within_range", "above_maximum", "no_requirement")
    assert rows(page, "intensity-table") == [
        [
            lv,
            cnt(weeks[lv]["weeks"]),
            *(f"{cnt(weeks[lv]['counts'][s])} ({pct(weeks[lv]['shares'][s])})" for s in statuses),
            pct(attendance[lv]["rate"]),
        ]
        for lv in weeks
        if lv in levels
    ]


def test_dashboard_shows_the_analytics_api(page: Page, server: Server) -> None:
    with_key(page, server.keys["analyst"])
    page.page.goto("/dashboard?at=2026-06-30&from=2026-04-02&to=2026-06-30")
    loaded(page)
    all_levels = ["detox", "inpatient", "php", "iop", "outpatient"]
    check_dashboard(page, server, at=AT, first="2026-04-02", last="2026-06-30", levels=all_levels)
    assert len(rows(page, "daily-table")) == 90
    shown = [
        c for t in ("census-table", "los-table", "flow-table") for r in rows(page, t) for c in r
    ]
    assert "suppressed" in shown  # the analyst sees small cells suppressed
    assert page.page.get_attribute("#census-chart", "role") == "img"
    assert "patients in care" in (page.page.get_attribute("#census-chart", "aria-label") or "")
    assert page.page.locator("#flow-chart canvas").count() == 1
    page.shot("dashboard")
    assert dashboard_errors(page, server) == []


def test_dashboard_filters_change_the_figures(page: Page, server: Server) -> None:
    with_key(page, server.keys["admin"])
    page.page.goto("/dashboard?at=2026-06-30&from=2026-04-02&to=2026-06-30")
    before = loaded(page)
    census_before = rows(page, "census-table")
    page.page.fill("#f-at", "2026-02-28")
    page.page.fill("#f-from", "2026-01-01")
    page.page.fill("#f-to", "2026-02-28")
    page.page.uncheck("#f-levels input[value=detox]")
    page.page.uncheck("#f-levels input[value=outpatient]")
    page.page.click("#filters button[type=submit]")
    loaded(page, before)
    shown = ["inpatient", "php", "iop"]
    at = "2026-03-01T00:00:00+00:00"
    check_dashboard(
        page, server, at=at, first="2026-01-01", last="2026-02-28", levels=shown, role="admin"
    )
    assert rows(page, "census-table") != census_before
    assert len(rows(page, "daily-table")) == 59
    assert "levels=inpatient%2Cphp%2Ciop" in page.page.url
    # keyboard: the toggle reveals a chart's data table
    page.page.focus("button[aria-controls=census-table]")
    page.page.keyboard.press("Enter")
    assert page.page.get_attribute("button[aria-controls=census-table]", "aria-expanded") == "true"
    assert page.page.locator("#census-table table").is_visible()
    page.shot("dashboard-filtered")
    assert dashboard_errors(page, server) == []


def check_patient(page: Page, server: Server, **params: str) -> dict[str, Any]:
    """The page's tables hold the journey of the same call."""
    view: dict[str, Any] = server.get(f"/v1/patients/{server.patient}/journey", **params)
    levels = list(view["days_by_level"])
    assert rows(page, "days-table") == [[lv, str(view["days_by_level"][lv])] for lv in levels] + [
        ["all levels", str(view["days_in_care"])]
    ]
    assert [r[:9] for r in rows(page, "weeks-table")] == [
        [
            w["week"], w["start_date"], num(w["attended_hours"]), num(w["other_hours"]),
            str(w["individual_sessions"]), num(w["expected_min_hours"]),
            num(w["expected_max_hours"]), w["status"].replace("_", " "),
            "yes" if w["complete"] else "no",
        ]
        for w in view["weeks"]
    ]  # fmt: skip
    stays = [s for e in view["episodes"] for s in e["stays"]]
    assert [r[1] for r in rows(page, "timeline-stays")] == [s["level"] for s in stays]
    days = view["continuous_care_days"]
    assert page.page.text_content("#continuity-summary") == (
        f"{days} of 90 days of continuous care: benchmark "
        f"{'met' if view['meets_90_day_benchmark'] else 'not met'}."
    )
    s = view["sessions"]
    assert rows(page, "sessions-table") == [
        [str(s["attended"]), str(s["no_show"]), str(s["cancelled"]), str(s["voided"]),
         pct(s["attendance_rate"])]
    ]  # fmt: skip
    return view


def test_patient_page_shows_the_journey(page: Page, server: Server) -> None:
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{server.patient}")
    loaded(page)
    check_patient(page, server)
    sessions = {r[0]: r for r in rows(page, "timeline-sessions")}
    (fixed, voided) = server.amended
    assert sessions[fixed][4] == "105" and "typed 45 for 105" in sessions[fixed][6]
    assert sessions[voided][5] == "voided"
    amendments = rows(page, "amend-table")  # the demo's own, then the two made later
    assert [(r[2], r[3]) for r in amendments[-2:]] == [
        (fixed, "correction"),
        (voided, "void (entered in error)"),
    ]
    assert page.page.locator("#timeline-chart canvas").count() == 1
    page.shot("patient")
    assert page.errors == []


def test_patient_as_of_and_known_at_controls(page: Page, server: Server) -> None:
    """The fields take the patient's local time (their labels name the zone), the API gets
    the UTC instant, and the note shows both."""
    with_key(page, server.keys["admin"])
    page.page.goto(f"/patients/{server.patient}")
    first = loaded(page)
    zone = server.get(f"/v1/patients/{server.patient}/journey")["timezone"]
    assert zone == "America/Los_Angeles"  # the demo's first patient: UTC-07:00 in September
    assert f"({zone} local time; empty = now)" in (page.page.text_content("#l-as-of") or "")
    days_now = rows(page, "days-table")
    page.page.fill("#f-as-of", "2025-09-15T12:00:00")
    page.page.click("#controls button[type=submit]")
    second = loaded(page, first)
    view = check_patient(page, server, as_of="2025-09-15T19:00:00+00:00")
    assert view["as_of"] == "2025-09-15T19:00:00+00:00"
    assert page.page.text_content("#view-note") == (
        f"Journey as of 2025-09-15 12:00:00 {zone} (2025-09-15T19:00:00+00:00)."
    )
    assert "as_of=2025-09-15T19%3A00%3A00%2B00%3A00" in page.page.url
    assert rows(page, "days-table") != days_now
    assert page.page.is_hidden("#future-note")
    known_local = server.loaded_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M:%S")
    page.page.fill("#f-as-of", "")
    page.page.fill("#f-known-at", known_local)
    page.page.press("#f-known-at", "Enter")
    loaded(page, second)
    check_patient(page, server, known_at=server.loaded_at.isoformat())
    assert not {r[2] for r in rows(page, "amend-table")} & set(server.amended)
    sessions = {r[0]: r for r in rows(page, "timeline-sessions")}
    (fixed, voided) = server.amended
    assert sessions[fixed][4] != "105" and sessions[voided][5] != "voided"
    known = server.loaded_at.isoformat()
    assert f"known_at={quote(known, safe='')}" in page.page.url
    # an address from before (UTC, without an offset) still opens the same view
    page.page.goto(f"/patients/{server.patient}?as_of=2025-09-15T19:00:00")
    loaded(page)
    assert page.page.input_value("#f-as-of") in ("2025-09-15T12:00", "2025-09-15T12:00:00")
    check_patient(page, server, as_of="2025-09-15T19:00:00+00:00")
    page.shot("patient-known-at")
    assert page.errors == []


def test_key_form_roles_and_access_trail(page: Page, server: Server) -> None:
    page.page.goto(f"/patients/{server.patient}")
    page.page.wait_for_function("() => document.body.dataset.loaded === 'error'")
    assert "needs an API key" in (page.page.text_content("#alert") or "")
    # the page's other fetch() calls may still be in flight when the first refusal shows
    # (a 401 reported after the clear below once failed this test): let them all end
    page.page.wait_for_load_state("networkidle")
    assert all("401" in e for e in page.errors), page.errors  # the refused calls, no other
    page.errors.clear()
    use_key(page, server.keys["service"])  # journey.read without history.read
    loaded(page, "error")
    assert page.page.text_content("#amend-table") == (
        "Corrections and voids need the history.read permission."
    )
    assert page.page.text_content("#key-status") == "Key set for this tab"
    assert "need the history.read permission" in (page.page.text_content("#timeline-summary") or "")
    page.shot("patient-service-role")
    trail = server.get("/v1/access-log", patient_id=server.patient, actor="web-service")
    assert {(a["action"], a["outcome"]) for a in trail} >= {
        ("journey.read", "ok"),
        ("sessions.read", "forbidden"),
    }
    assert all(e.startswith("Failed to load resource") and "403" in e for e in page.errors), (
        page.errors
    )


def test_assets_are_local_and_confined(server: Server) -> None:
    vendor = httpx.get(f"{server.url}/web/static/vendor/echarts/echarts.min.js")
    assert vendor.status_code == 200 and vendor.headers["content-type"].startswith(
        "text/javascript"
    )
    page = httpx.get(f"{server.url}/dashboard")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")
    for path in ("..%2Froutes.py", "../routes.py", "%2e%2e/timeline.py", "nope.js"):
        assert httpx.get(f"{server.url}/web/static/{path}").status_code == 404
