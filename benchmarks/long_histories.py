"""Builds patients with long histories for the benchmarks (valid commands only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from journey.application import JourneyApplication
from journey.commands import Command, parse_command

START = datetime(2024, 1, 1, 9, tzinfo=UTC)
LEVELS = ("detox", "inpatient", "php", "iop", "outpatient")


def long_history(patient_id: str, events: int) -> list[Command]:
    """Admission, step-downs spread over the history, sessions every ~17 hours."""
    commands = [
        _cmd("admit", patient_id, level="detox", occurred_at=START, timezone="America/Chicago")
    ]
    step = max(1, (events - 1) // len(LEVELS))
    for n in range(1, events):
        at = START + timedelta(hours=17 * n)
        if n % step == 0 and n // step < len(LEVELS):
            commands.append(
                _cmd("transition", patient_id, to_level=LEVELS[n // step], occurred_at=at)
            )
        elif n % 97 == 0:
            commands.append(
                _cmd(
                    "correct_session",
                    patient_id,
                    session_id=f"s-{n - 1}",
                    reason="typo",
                    duration_minutes=75,
                )
            )
        else:
            commands.append(
                _cmd(
                    "record_session",
                    patient_id,
                    session_id=f"s-{n}",
                    format="group",
                    approach="cbt" if n % 5 else "yoga",
                    duration_minutes=60 + n % 90,
                    occurred_at=at,
                    status="attended" if n % 11 else "no_show",
                )
            )
    return commands


def load_patients(app: JourneyApplication, prefix: str, patients: int, events: int) -> list[str]:
    ids = [f"{prefix}-{i}" for i in range(patients)]
    for pid in ids:
        results = app.handle_many(long_history(pid, events), atomic=True)
        assert all(not isinstance(r, Exception) for r in results), results[:3]
    return ids


def _cmd(kind: str, patient_id: str, **fields: object) -> Command:
    values = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
    return parse_command({"command": kind, "patient_id": patient_id, **values})
