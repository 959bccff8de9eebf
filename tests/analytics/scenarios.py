"""Hand-made journeys for the edge cases a demo cohort rarely produces: a complete week
made of two stays of the same level (same-day readmission with another age group; a stay
counting no midnight in between), DST changes, corrections moving a session across
weeks, voids, and a session at a transition instant."""

from __future__ import annotations

from typing import Any

NY = "America/New_York"  # DST starts 2025-03-09, ends 2025-11-02


def _session(pid: str, sid: str, at: str, minutes: int, **more: Any) -> dict[str, Any]:
    return {"command": "record_session", "patient_id": pid, "session_id": sid,
            "format": "group", "approach": "cbt", "duration_minutes": minutes,
            "occurred_at": at} | more  # fmt: skip


def _weekly(pid: str, prefix: str, days: list[str], minutes: int) -> list[dict[str, Any]]:
    return [
        _session(pid, f"{prefix}{i}", f"{d}T11:00:00-04:00", minutes) for i, d in enumerate(days)
    ]


def mixed_age_week() -> list[dict[str, Any]]:
    """Week 2025-03-10..16 at iop: 2 adolescent dates then 5 adult ones (same-day
    readmission): expected minimum (2 x 6 + 5 x 9) / 7 = 8.14 h; 490 minutes attended."""
    pid = "edge-age"
    return [
        {"command": "admit", "patient_id": pid, "level": "iop", "age_group": "adolescent",
         "occurred_at": "2025-03-03T10:00:00-05:00", "timezone": NY},
        *_weekly(pid, "a", ["2025-03-10", "2025-03-11"], 120),
        {"command": "discharge", "patient_id": pid, "reason": "completed",
         "occurred_at": "2025-03-12T09:00:00-04:00"},
        {"command": "admit", "patient_id": pid, "level": "iop", "age_group": "adult",
         "occurred_at": "2025-03-12T15:00:00-04:00", "timezone": NY},
        *_weekly(pid, "b", ["2025-03-13", "2025-03-14"], 125),
        {"command": "transition", "patient_id": pid, "to_level": "outpatient",
         "occurred_at": "2025-04-20T10:00:00-04:00"},
        _session(pid, "at-transition", "2025-04-20T10:00:00-04:00", 60, status="no_show"),
        {"command": "discharge", "patient_id": pid, "reason": "ama",
         "occurred_at": "2025-06-02T10:00:00-04:00"},
    ]  # fmt: skip


def zero_day_stay() -> list[dict[str, Any]]:
    """iop -> php -> iop on the same day: the php stay gives no date, so the week of
    2025-03-17 is at iop only, across two stays; corrections and a void on the way."""
    pid = "edge-zero"
    return [
        {"command": "admit", "patient_id": pid, "level": "iop",
         "occurred_at": "2025-03-05T10:00:00-05:00", "timezone": NY},
        *_weekly(pid, "s", ["2025-03-17", "2025-03-19", "2025-03-21"], 180),
        {"command": "transition", "patient_id": pid, "to_level": "php",
         "occurred_at": "2025-03-18T10:00:00-04:00"},
        {"command": "transition", "patient_id": pid, "to_level": "iop",
         "occurred_at": "2025-03-18T16:00:00-04:00"},
        {"command": "correct_session", "patient_id": pid, "session_id": "s2",
         "reason": "wrong week", "occurred_at": "2025-03-24T11:00:00-04:00"},
        {"command": "void_session", "patient_id": pid, "session_id": "s0", "reason": "duplicate"},
        _session(pid, "late", "2025-03-25T11:00:00-04:00", 600),
        {"command": "discharge", "patient_id": pid, "reason": "transferred",
         "occurred_at": "2025-11-02T01:30:00-04:00"},
        {"command": "admit", "patient_id": pid, "level": "detox",
         "occurred_at": "2025-11-08T08:00:00-05:00", "timezone": NY},
    ]  # fmt: skip


def scenarios() -> list[dict[str, Any]]:
    return [*mixed_age_week(), *zero_day_stay()]
