"""The audit report of one patient: a self-contained HTML page (inline CSS and SVG, no
script, no network) with the timeline of levels and sessions (the patient page's timeline,
drawn by `audit.timeline_svg`), the sessions as corrected and every correction and void
with its reason (both as `projections.session_view` folds them, the same rows as the
patient page), the full event history, and the verification result with the chain head."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from audit.report_care import care_sections
from audit.timeline_svg import timeline_svg
from audit.verify import Verification
from journey.events import EventEnvelope
from projections.care_view import CareView
from projections.event_text import details_text, instant_text
from projections.journey_view import JourneyView
from projections.session_view import SessionLogView

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;max-width:72rem;margin:2rem auto;
padding:0 1rem}h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #e2e2e2;vertical-align:top}
th{background:#f3f3f3}.ok{color:#1d6b33;font-weight:600}.broken{color:#a11;font-weight:600}
code{font-size:.8rem;word-break:break-all}.legend span{display:inline-block;margin-right:1rem}
.sw{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin-right:.3rem}
"""


def _rows(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _amendments(log: SessionLogView) -> str:
    rows = [
        (instant_text(a.recorded_at), a.actor or "-", a.session_id, a.kind_label, a.changes_text,
         a.reason)
        for a in log.amendments
    ]  # fmt: skip
    if not rows:
        return "<p>No correction or void.</p>"
    return _rows(["recorded at", "by", "session", "kind", "changes", "reason"], rows)


def _sessions(log: SessionLogView) -> str:
    """The sessions as amended: the columns of the patient page's session table."""
    rows = [
        (s.session_id, s.started_local, s.format, s.approach, s.duration_minutes,
         s.shown_status, "; ".join(s.amendments) or "-")
        for s in log.sessions
    ]  # fmt: skip
    if not rows:
        return "<p>No session.</p>"
    started = f"started (local time, {log.timezone})"
    return _rows(
        ["session", started, "format", "approach", "minutes", "status", "amendments"], rows
    )


def _verification(result: Verification) -> str:
    first = result.first()
    head = result.head
    chain_head = (
        f"<p>Anchor head: position {head.position}, <code>{head.running_hash}</code></p>"
        if head
        else ""
    )
    if first is None:
        return f'<p class="ok">Verified: {result.events} events, hash chain intact.</p>{chain_head}'
    return f'<p class="broken">BROKEN: {escape(str(first))}</p>{chain_head}'


def render_report(
    view: JourneyView,
    log: SessionLogView,
    history: Sequence[EventEnvelope],
    *,
    care: CareView,
    result: Verification,
    generated_at: datetime,
    generated_by: str,
) -> str:
    """The whole page: `view`, `log` and `care` as of the same instant, `history` every
    event."""
    days = ", ".join(f"{k} {v}" for k, v in view.days_by_level.items())
    summary = _rows(
        [
            "status",
            "current level",
            "days in care",
            "continuous care days",
            "90-day benchmark",
            "days by level",
        ],
        [
            (
                view.status,
                view.current_level or "-",
                view.days_in_care,
                view.continuous_care_days,
                "met" if view.meets_90_day_benchmark else "not met",
                days,
            )
        ],
    )
    events = _rows(
        ["v", "event", "occurred at", "recorded at", "actor", "details", "chain hash"],
        [
            (
                e.version,
                e.type,
                instant_text(e.occurred_at),
                instant_text(e.recorded_at),
                e.actor or "-",
                details_text(e, ", "),
                (e.chain_hash or "")[:16] + "…",
            )
            for e in history
        ],
    )
    last = history[-1].chain_hash if history else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Audit report: patient {escape(view.patient_id)}</title><style>{STYLE}</style></head><body>
<h1>Audit report: patient {escape(view.patient_id)}</h1>
<p>Confidential: substance-use treatment record protected by 42 CFR Part 2 and HIPAA.
Generated {instant_text(generated_at)} by {escape(generated_by)};
journey as of {instant_text(view.as_of)} (time zone {escape(view.timezone)}).</p>
<h2>Integrity</h2>{_verification(result)}
<p>Patient chain head (version {len(history)}): <code>{last}</code></p>
<h2>Summary</h2>{summary}
<h2>Timeline of levels and sessions</h2>{timeline_svg(view, log)}
<h2>Sessions (as corrected)</h2>{_sessions(log)}
<h2>Corrections and voids</h2>{_amendments(log)}
{care_sections(view, care, _rows)}
<h2>Every event</h2>{events}
</body></html>
"""
