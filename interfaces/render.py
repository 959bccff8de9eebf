"""Human-readable tables for the CLI (the --json output is the machine contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the event models load with the command that reads events
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
    ]
    if view.get("as_of_in_future"):
        out.append(
            "NOTE: as of is in the future: the figures project it (days counted as if the"
            " current stay runs on and nothing else happens)"
        )
    out += [
        f"days in care {view['days_in_care']}, continuous {view['continuous_care_days']} "
        f"(90-day benchmark {'met' if view['meets_90_day_benchmark'] else 'not met'})",
        f"primary therapist {view['primary_therapist'] or '-'}",
        _plan_line(view),
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
    if view["referrals"]:
        out += [_referrals_table(view["referrals"]), ""]
    out += [_weeks_table(view["weeks"]), ""]
    s = view["sessions"]
    out.append(
        f"sessions: attended {s['attended']}, no-show {s['no_show']}, cancelled {s['cancelled']}"
        f", voided {s['voided']}, attendance rate {s['attendance_rate']}"
    )
    return "\n".join(out)


def _plan_line(view: dict[str, Any]) -> str:
    plan = view["treatment_plan"]
    if plan is None:
        return "treatment plan: none" + (" (OVERDUE)" if view["plan_overdue"] else "")
    objectives = ", ".join(f"{k} {n}" for k, n in plan["objectives"].items())
    due = f"next review due {plan['next_review_due']}"
    return (
        f"treatment plan {plan['plan_id']} created {plan['created_at']}, "
        f"{plan['reviews']} review(s), {due}{' (OVERDUE)' if plan['review_overdue'] else ''}; "
        f"objectives: {objectives}"
    )


def _referrals_table(referrals: list[dict[str, Any]]) -> str:
    rows = [
        (
            r["referral_id"],
            r["specialty"],
            r["referred_at"],
            r["closed_at"] or "(open)",
            r["outcome"],
            r["days_open"],
        )
        for r in referrals
    ]
    return table(["referral", "specialty", "referred", "closed", "outcome", "days open"], rows)


def _weeks_table(weeks: list[dict[str, Any]]) -> str:
    met = {True: "yes", False: "NO", None: "-"}
    rows = [
        (
            w["week"],
            " ".join(f"{k}:{v}" for k, v in w["level_days"].items()),
            w["attended_hours"],
            w["evidence_based_hours"],
            w["other_hours"],
            w["expected_min_hours"],
            w["expected_max_hours"],
            w["status"],
            "yes" if w["complete"] else "no",
            met[w["weekly_individual_met"]],
        )
        for w in weeks
    ]
    headers = ["week", "levels", "hours", "evidence", "other", "min", "max", "status", "complete"]
    return table([*headers, "primary 1:1"], rows)


def history_text(events: Sequence[EventEnvelope]) -> str:
    from projections.event_text import details_text, instant_text  # noqa: PLC0415

    rows = []
    for e in events:
        rows.append(
            (
                e.version,
                e.type,
                instant_text(e.occurred_at),
                instant_text(e.recorded_at),
                e.actor or "-",
                details_text(e),
            )
        )
    return table(["v", "event", "occurred_at", "recorded_at", "actor", "details"], rows)
