from datetime import datetime

def session_row(
    head: str,
    patient_id: str,
    version: int,
    by: str | None,
    actor: str | None,
    approach: str,
    clinician: str | None,
    delivery: str,
    minutes: int,
    form: str,
    session_id: str,
    status: str,
    at: datetime,
    at_utc: datetime,
    timestamp: datetime,
    timestamp_utc: datetime,
    name: str,
    /,
) -> tuple[str, bytes] | None: ...
