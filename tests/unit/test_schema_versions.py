"""The schema-change rule of journey.domain_events: an event hashes with the version and
fields it was stored with, whatever later versions added (shown with version 2's
`recorded_by` and a version 3 like the `asam_code` planned for admissions)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

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


class AdmittedV3(ev.PatientAdmitted):
    """What the next schema change would look like (rule 1 of the module docstring)."""

    asam_code: str | None

    class_version = 3
    added_fields: ClassVar[dict[int, tuple[str, ...]]] = {
        **ev.PatientEvent.added_fields,
        3: ("asam_code",),
    }

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["asam_code"] = None


def test_an_upcast_version_1_event_hashes_as_version_1() -> None:
    upcast = dict(V1_FIELDS)
    ev.PatientAdmitted.upcast_v1_v2(upcast)
    assert ev.hashed_form(ev.PatientAdmitted, upcast) == (1, V1_FIELDS)
    AdmittedV3.upcast_v2_v3(upcast)
    assert ev.hashed_form(AdmittedV3, upcast) == (1, V1_FIELDS)


def test_new_fields_with_real_values_are_hashed_with_their_version() -> None:
    v2 = {**V1_FIELDS, "recorded_by": "svc-intake"}
    assert ev.hashed_form(ev.PatientAdmitted, v2) == (2, v2)
    assert ev.hashed_form(AdmittedV3, {**v2, "asam_code": None}) == (2, v2)
    v3 = {**V1_FIELDS, "recorded_by": None, "asam_code": "3.7-WM"}
    assert ev.hashed_form(AdmittedV3, v3) == (3, v3)


def test_the_stored_events_say_their_schema_version() -> None:
    assert all(
        getattr(ev, name).class_version == 2
        for name in ("PatientAdmitted", "SessionRecorded", "PatientDischarged")
    )
