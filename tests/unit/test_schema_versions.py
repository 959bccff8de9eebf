"""The schema-change rule of journey.domain_events: an event hashes with the version and
fields it was stored with, whatever later versions added (shown with version 2's
`recorded_by` and version 3's `asam_code` of admissions and level changes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from journey import domain_events as ev

V1_FIELDS: dict[str, Any] = {
    "originator_id": "p-1",
    "originator_version": 1,
    "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
    "occurred_at": datetime(2026, 1, 1, tzinfo=UTC),
    "actor": "dr-a",
    "chain_hash": "0" * 64,
    "level": "detox",
    "age_group": "adult",
    "timezone": "UTC",
}


def test_an_upcast_version_1_event_hashes_as_version_1() -> None:
    upcast = dict(V1_FIELDS)
    ev.PatientAdmitted.upcast_v1_v2(upcast)
    assert ev.hashed_form(ev.PatientAdmitted, {**upcast, "asam_code": None}) == (1, V1_FIELDS)
    ev.PatientAdmitted.upcast_v2_v3(upcast)
    assert upcast["asam_code"] is None and upcast["recorded_by"] is None
    assert ev.hashed_form(ev.PatientAdmitted, upcast) == (1, V1_FIELDS)


def test_new_fields_with_real_values_are_hashed_with_their_version() -> None:
    v2 = {**V1_FIELDS, "recorded_by": "svc-intake"}
    assert ev.hashed_form(ev.PatientAdmitted, {**v2, "asam_code": None}) == (2, v2)
    v3 = {**V1_FIELDS, "recorded_by": None, "asam_code": "3.7-WM"}
    assert ev.hashed_form(ev.PatientAdmitted, v3) == (3, v3)


def test_the_stored_events_say_their_schema_version() -> None:
    versions = {name: getattr(ev, name).class_version for name in (
        "PatientAdmitted", "LevelOfCareChanged", "SessionRecorded", "PatientDischarged")}  # fmt: skip
    assert versions == {"PatientAdmitted": 3, "LevelOfCareChanged": 3,
                        "SessionRecorded": 2, "PatientDischarged": 2}  # fmt: skip
