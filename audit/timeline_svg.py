"""The journey timeline as a static SVG (no script): one lane per level with its stays as
coloured bands, a lane of sessions (marks sized by duration, styled by status, as corrected)
and a lane of corrections and voids. The auditors' report draws it; the patient page
(interfaces/web/static/js/timeline.js) draws the same lanes, colours and marks with a
charting library from the same `audit/palette.json` (served as /web/static/palette.json),
from the same journey and session log (`projections.session_view`: corrections and voids
are folded there once; this module only draws what it gives)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from projections.journey_view import JourneyView
from projections.session_view import SessionLogView, SessionView

PALETTE = Path(__file__).parent / "palette.json"  # also served to the web pages

WIDTH, LANE, LEFT, RIGHT, TOP = 1000, 22, 92, 12, 8


@cache
def palette() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(PALETTE.read_text(encoding="utf-8"))
    return loaded


def radius(minutes: int) -> float:
    """The mark's radius: its area grows with the duration (1 to 720 minutes)."""
    return 2.0 + math.sqrt(max(minutes, 1)) / 2.5


@dataclass(frozen=True)
class _Scale:
    start: datetime
    end: datetime

    def x(self, at: datetime) -> float:
        span = max((self.end - self.start).total_seconds(), 1.0)
        share = min(max((at - self.start).total_seconds() / span, 0.0), 1.0)
        return LEFT + (WIDTH - LEFT - RIGHT) * share


def _range(view: JourneyView) -> _Scale:
    """From the day before the first admission to T, or for a discharged patient to a week
    after the last discharge when that comes first."""
    start, end = view.episodes[0].admitted_at - timedelta(days=1), view.as_of
    last = view.episodes[-1].discharged_at
    if view.status == "discharged" and last is not None:
        end = min(end, last + timedelta(days=7))
    return _Scale(start, end)


def _lanes(view: JourneyView) -> list[str]:
    return [*view.days_by_level, "sessions", "amendments"]


def _bands(view: JourneyView, scale: _Scale, lanes: list[str]) -> list[str]:
    colours = palette()["levels"]
    parts = []
    for episode in view.episodes:
        for stay in episode.stays:
            x0, x1 = scale.x(stay.started_at), scale.x(stay.ended_at or scale.end)
            y = TOP + lanes.index(stay.level) * LANE + 3 if stay.level in lanes else TOP
            ended = f"{stay.ended_at:%Y-%m-%d}" if stay.ended_at else "open"
            label = f"{stay.level}: {stay.started_at:%Y-%m-%d} to {ended} ({stay.days} days)"
            parts.append(
                f'<rect class="stay" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1.5):.1f}" '
                f'height="{LANE - 6}" fill="{colours.get(stay.level, palette()["fallback"])}">'
                f"<title>{escape(label)}</title></rect>"
            )
    return parts


def session_label(s: SessionView) -> str:
    """The text of a session's mark (the page's tooltip says the same)."""
    return (
        f"{s.session_id} {s.started_local[:16].replace('T', ' ')}: {s.format} {s.approach}, "
        f"{s.duration_minutes} min, {s.shown_status}"
    )


def _session_mark(s: SessionView, x: float, y: float) -> str:
    colours = palette()["sessions"]
    colour = colours["voided"] if s.voided else colours.get(s.status, colours["cancelled"])
    fill = colour if s.status == "attended" and not s.voided else "none"
    dash = ' stroke-dasharray="2 2"' if s.status == "cancelled" or s.voided else ""
    label = session_label(s)
    return (
        f'<circle class="session {escape(s.status)}" cx="{x:.1f}" cy="{y}" '
        f'r="{radius(s.duration_minutes):.1f}" fill="{fill}" fill-opacity="0.55" '
        f'stroke="{colour}"{dash}><title>{escape(label)}</title></circle>'
    )


def _amendment_mark(s: SessionView, x: float, y: float) -> str:
    colours = palette()["amendments"]
    text = escape(f"{s.session_id}: " + "; ".join(s.amendments))
    if s.voided:
        return (
            f'<path class="void" d="M{x - 4:.1f},{y - 4}l8,8m0,-8l-8,8" '
            f'stroke="{colours["void"]}" stroke-width="2"><title>{text}</title></path>'
        )
    return (
        f'<path class="correction" d="M{x:.1f},{y - 5}l5,9h-10z" fill="{colours["correction"]}">'
        f"<title>{text}</title></path>"
    )


def _marks(sessions: Sequence[SessionView], scale: _Scale, lanes: list[str]) -> list[str]:
    y_session = TOP + lanes.index("sessions") * LANE + LANE // 2
    y_amend = TOP + lanes.index("amendments") * LANE + LANE // 2
    parts = []
    for s in sessions:
        if s.started_at > scale.end:
            continue
        x = scale.x(s.started_at)
        parts.append(_session_mark(s, x, y_session))
        if s.amendments:
            parts.append(_amendment_mark(s, x, y_amend))
    return parts


def timeline_svg(view: JourneyView, log: SessionLogView) -> str:
    """The timeline of `view` (as of its instant) with the sessions of `log`."""
    if not view.episodes:
        return "<p>No admission as of this instant.</p>"
    lanes = _lanes(view)
    scale = _range(view)
    start = scale.start
    height = TOP + LANE * len(lanes) + 20
    parts = [
        f'<svg class="timeline" role="img" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'aria-label="Timeline of levels of care, sessions, corrections and voids of patient '
        f'{escape(view.patient_id)} from {start:%Y-%m-%d} to {scale.end:%Y-%m-%d}">'
    ]
    for i, lane in enumerate(lanes):
        y = TOP + i * LANE
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y + LANE}" y2="{y + LANE}" '
            f'stroke="#e2e2e2"/><text x="{LEFT - 6}" y="{y + LANE - 7}" font-size="11" '
            f'text-anchor="end">{escape(lane)}</text>'
        )
    parts += _bands(view, scale, lanes) + _marks(log.sessions, scale, lanes)
    bottom = height - 6
    parts.append(
        f'<text x="{LEFT}" y="{bottom}" font-size="11">{start:%Y-%m-%d}</text>'
        f'<text x="{WIDTH - RIGHT}" y="{bottom}" font-size="11" text-anchor="end">'
        f"{scale.end:%Y-%m-%d}</text></svg>"
    )
    return "".join(parts) + _legend()


def _legend() -> str:
    items = "".join(
        f'<span><i class="sw" style="background:{c}"></i>{escape(level)}</span>'
        for level, c in palette()["levels"].items()
    )
    return (
        f'<p class="legend">{items}<span>| sessions: filled attended, red ring no-show, '
        "dashed cancelled or voided; size = duration | amendments: triangle correction, "
        "cross void</span></p>"
    )
