"""Human-readable tables for the CLI (the --json output is the machine contract)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from journey.events import EventEnvelope


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def journey_text(view: dict[str, Any]) -> str:
    """The journey JSON (SPEC section 6) as text a clinician can read."""
    out = [
        f"Patient {view['patient_id']}  status={view['status']}  "
        f"level={view['current_level'] or '-'}  age_group={view['age_group']}  "
        f"tz={view['timezone']}",
        f"as of {view['as_of']}"
        + (f", as known at {view['known_at']}" if view["known_at"] else ""),
        f"days in care {view['days_in_care']}, continuous {view['continuous_care_days']} "
        f"(90-day benchmark {'met' if view['meets_90_day_benchmark'] else 'not met'})",
        "",
        table(["level", "days"], list(view["days_by_level"].items())),
        "",
    ]
    stays = [
        (e["number"], s["level"], s["started_at"], s["ended_at"] or "(open)", s["days"])
        for e in view["episodes"]
        for s in e["stays"]
    ]
    out += [table(["episode", "level", "started", "ended", "days"], stays), ""]
    weeks = [
        (
            w["week"],
            " ".join(f"{k}:{v}" for k, v in w["level_days"].items()),
            w["attended_hours"],
            w["other_hours"],
            w["expected_min_hours"],
            w["expected_max_hours"],
            w["status"],
            "yes" if w["complete"] else "no",
        )
        for w in view["weeks"]
    ]
    headers = ["week", "levels", "hours", "other", "min", "max", "status", "complete"]
    out += [table(headers, weeks), ""]
    s = view["sessions"]
    out.append(
        f"sessions: attended {s['attended']}, no-show {s['no_show']}, cancelled {s['cancelled']}"
        f", voided {s['voided']}, attendance rate {s['attendance_rate']}"
    )
    return "\n".join(out)


def _value(value: Any) -> str:
    """A payload value as text: instants and dates ISO-8601 (`T`, `+00:00`), nested values
    (a plan's goals, a review's objectives) as compact JSON."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=_value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def history_text(events: Sequence[EventEnvelope]) -> str:
    rows = []
    for e in events:
        detail = {
            k: _value(v)
            for k, v in e.payload.model_dump(exclude={"type"}, exclude_none=True).items()
        }
        rows.append(
            (
                e.version,
                e.type,
                e.occurred_at.isoformat(),
                e.recorded_at.isoformat(),
                e.actor or "-",
                " ".join(f"{k}={v}" for k, v in detail.items()),
            )
        )
    return table(["v", "event", "occurred_at", "recorded_at", "actor", "details"], rows)
