"""FHIR export (SPEC 9): one `transaction` Bundle per patient, R5 or R4B, built with
`fhir.resources`, plus `codesystems.json` (our six code systems, fhir_terminology).

Every entry is a conditional update (`PUT Kind?identifier=system|value`) keyed by a stable
business identifier: the patient id under the configured identifier system
(JOURNEY_FHIR_IDENTIFIER_SYSTEM), and under it `<patient>/episode/<n>`,
`<patient>/episode/<n>/stay/<seq>` and `<patient>/session/<session id>`. Full URLs are
UUID 5 of those identifiers, the Bundle id is UUID 5 of the patient's, and nothing depends
on the clock: exporting an unchanged store twice gives identical files, and loading both
into a FHIR server changes nothing the second time. The Bundles carry patient ids and full
instants: they are identified PHI under HIPAA and 42 CFR Part 2, labelled as such in
`meta.security`. docs/exports.md describes every element."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infrastructure.sql import Unit
from journey.catalog import Catalog, Level, default_catalog
from projections.exports.fhir_identities import Identities
from projections.exports.fhir_model import (
    Factory,
    FhirVersion,
    Identity,
    Json,
    Model,
    fhir_codes,
)
from projections.exports.fhir_rows import (
    EpisodeRow,
    PatientRecord,
    SessionRow,
    StayRow,
    patient_pages,
)
from projections.exports.fhir_terminology import (
    CODE_SYSTEM_KINDS,
    CODE_SYSTEMS_FILE,
    code_systems_bundle,
    concepts,
)

__all__ = ["BundleBuilder", "FhirVersion", "builder", "write_bundles"]


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _period(start: datetime | None, end: datetime | None) -> Json:
    found = {"start": start, "end": end}
    return {k: _iso(v) for k, v in found.items() if v is not None}


@dataclass
class BundleBuilder:
    """Builds one patient's Bundle; `version` decides the few R4B / R5 differences."""

    version: FhirVersion
    catalog: Catalog
    identifier_system: str
    make: Factory = field(init=False)

    def __post_init__(self) -> None:
        codes = fhir_codes()
        self.make = Factory(self.version)
        self.systems: dict[str, str] = codes["systems"]
        self.status: dict[str, str] = codes["status"][self.version]
        self.allowed_status = frozenset(codes["encounter_statuses"][self.version])
        self.disposition: dict[str, list[str]] = codes["discharge_disposition"]
        self.displays = {kind: dict(concepts(kind, self.catalog)) for kind in CODE_SYSTEM_KINDS}
        self.class_display: dict[str, str] = codes["class_display"]
        self.session_class: dict[str, str] = codes["session_class"]

    # -- shared parts -----------------------------------------------------------------
    def _identity(self, kind: str, value: str) -> Identity:
        return Identity(kind, self.identifier_system, value)

    def _resource(self, identity: Identity, text: list[str], **fields: Any) -> Model:
        identifier = [{"system": identity.system, "value": identity.value}]
        return self.make(
            identity.kind, meta={"security": self.make.security()}, identifier=identifier,
            text=self.make.narrative(*text), **fields,
        )  # fmt: skip

    def _code(self, system: str, code: str, display: str | None = None) -> Model:
        return self.make.coding(self.systems[system], code, display)

    def _class(self, code: str) -> Json:
        coding = self._code("encounter_class", code, self.class_display.get(code))
        if self.version == "R4B":
            return {"class": coding}
        return {"class": [self.make.concept(coding)]}

    def _when(self, start: datetime, end: datetime | None) -> Json:
        return {"period" if self.version == "R4B" else "actualPeriod": _period(start, end)}

    def _encounter_status(self, key: str) -> str:
        status = self.status[key]
        if status not in self.allowed_status:  # fhir.resources does not check bindings
            raise ValueError(f"Encounter.status '{status}' is not in the {self.version} value set")
        return status

    # -- resources --------------------------------------------------------------------
    def patient(self, identity: Identity) -> Model:
        return self._resource(identity, [f"Patient {identity.value} ({identity.system})"])

    def episode(self, row: EpisodeRow, identity: Identity, patient: Identity) -> Model:
        history = [{"status": "active", "period": _period(row.admitted_at, row.discharged_at)}]
        if row.discharged_at is not None:
            history.append({"status": "finished", "period": _period(row.discharged_at, None)})
        status = "active" if row.discharged_at is None else "finished"
        text = f"Episode of care {row.number}: {status}, from {_iso(row.admitted_at)}"
        if row.discharged_at is not None:
            text += f" to {_iso(row.discharged_at)} ({row.discharge_reason})"
        return self._resource(
            identity, [text], status=status, statusHistory=history,
            patient={"reference": patient.full_url},
            period=_period(row.admitted_at, row.discharged_at),
        )  # fmt: skip

    def _level_type(self, level: Level, asam_code: str) -> list[Model]:
        codings = [
            self._code("level", level.id, level.name),
            self._code("asam", asam_code, self.displays["asam"][asam_code]),
            self._code("hcpcs", level.hcpcs),
        ]
        return [self.make.concept(*codings, text=f"{level.name} (ASAM {asam_code})")]

    def _disposition(self, reason: str) -> Json:
        code, display = self.disposition[reason]
        label = self.displays["discharge_reason"][reason]
        own = self._code("discharge_reason", reason, label)
        concept = self.make.concept(
            self._code("discharge_disposition", code, display), own, text=label
        )
        return {"hospitalization" if self.version == "R4B" else "admission": {
            "dischargeDisposition": concept}}  # fmt: skip

    def stay(self, row: StayRow, identity: Identity, refs: Json, reason: str | None) -> Model:
        level = self.catalog.levels[row.level]
        code = row.asam_code or level.asam3[0]  # old events: the level's default code
        status = self._encounter_status("stay_open" if row.ended_at is None else "stay_ended")
        ended = f" to {_iso(row.ended_at)}" if row.ended_at else " (open)"
        text = [f"Stay at {level.name}, ASAM {code}: {_iso(row.started_at)}{ended}"]
        extra = self._disposition(reason) if reason is not None else {}
        return self._resource(
            identity, text, status=status, **self._class(level.fhir_class),
            type=self._level_type(level, code), subject=refs["subject"],
            episodeOfCare=refs["episodeOfCare"], **self._when(row.started_at, row.ended_at),
            **extra,
        )  # fmt: skip

    def _session_type(self, row: SessionRow) -> list[Model]:
        kinds = [
            ("approach", row.approach, self.displays["approach"][row.approach]),
            ("format", row.format, self.displays["format"][row.format]),
            ("session_status", row.status, self.displays["session_status"][row.status]),
        ]
        return [self.make.concept(self._code(s, c, d), text=d) for s, c, d in kinds]

    def _session_time(self, row: SessionRow) -> Json:
        end = row.occurred_at + timedelta(minutes=row.duration_minutes)
        if row.status == "attended":
            length = {"value": row.duration_minutes, "unit": "min",
                      "system": self.systems["ucum"], "code": "min"}  # fmt: skip
            return self._when(row.occurred_at, end) | {"length": length}
        if self.version == "R5":  # it did not happen: only when it was planned
            return {"plannedStartDate": _iso(row.occurred_at), "plannedEndDate": _iso(end)}
        return {}

    def session(self, row: SessionRow, identity: Identity, refs: Json) -> Model:
        status = self._encounter_status("voided" if row.voided else row.status)
        text = (
            f"{self.displays['session_status'][row.status]} {row.format} {row.approach}"
            f" session, {row.duration_minutes} min, scheduled {_iso(row.occurred_at)}"
            + (" (entered in error)" if row.voided else "")
        )
        return self._resource(
            identity, [text], status=status, **self._class(self.session_class[row.delivery]),
            type=self._session_type(row), **refs, **self._session_time(row),
        )  # fmt: skip

    # -- the Bundle -------------------------------------------------------------------
    def bundle(self, record: PatientRecord) -> Model:
        pid = record.patient_id
        patient = self._identity("Patient", pid)
        entries = [self.make.entry(patient, self.patient(patient))]
        episodes = {e.number: self._identity("EpisodeOfCare", f"{pid}/episode/{e.number}")
                    for e in record.episodes}  # fmt: skip
        for row in record.episodes:
            resource = self.episode(row, episodes[row.number], patient)
            entries.append(self.make.entry(episodes[row.number], resource))
        stays = self._stays(record, patient, episodes, entries)
        for session in record.sessions:
            identity = self._identity("Encounter", f"{pid}/session/{session.session_id}")
            refs: Json = {"subject": {"reference": patient.full_url}}
            found = record.stay_at(session.occurred_at)
            if found is not None:
                refs["partOf"] = {"reference": stays[(found.episode_number, found.seq)].full_url}
                refs["episodeOfCare"] = [{"reference": episodes[found.episode_number].full_url}]
            entries.append(self.make.entry(identity, self.session(session, identity, refs)))
        bundle_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{patient.system}|{pid}|bundle"))
        return self.make(
            "Bundle", id=bundle_id, meta={"security": self.make.security()},
            type="transaction", entry=entries,
        )  # fmt: skip

    def _stays(
        self,
        record: PatientRecord,
        patient: Identity,
        episodes: dict[int, Identity],
        entries: list[Json],
    ) -> dict[tuple[int, int], Identity]:
        """Appends the stay Encounters to `entries`; returns their identities."""
        reasons = {row.number: row.discharge_reason for row in record.episodes}
        last_seq = {row.episode_number: row.seq for row in record.stays}
        stays: dict[tuple[int, int], Identity] = {}
        for row in record.stays:
            key, pid = (row.episode_number, row.seq), record.patient_id
            stays[key] = self._identity("Encounter", f"{pid}/episode/{key[0]}/stay/{key[1]}")
            ends_episode = last_seq[row.episode_number] == row.seq and row.ended_at is not None
            reason = reasons.get(row.episode_number) if ends_episode else None
            refs = {
                "subject": {"reference": patient.full_url},
                "episodeOfCare": [{"reference": episodes[row.episode_number].full_url}],
            }
            entries.append(self.make.entry(stays[key], self.stay(row, stays[key], refs, reason)))
        return stays


def builder(
    version: FhirVersion = "R5",
    catalog: Catalog | None = None,
    identifier_system: str | None = None,
) -> BundleBuilder:
    if identifier_system is None:
        from config.settings import get_settings  # noqa: PLC0415 - read on use, not import

        identifier_system = get_settings().fhir_identifier_system
    return BundleBuilder(version, catalog or default_catalog(), identifier_system)


def write_bundles(
    unit: Unit,
    directory: Path,
    identities: Identities,
    version: FhirVersion = "R5",
    identifier_system: str | None = None,
) -> int:
    """Writes `codesystems.json` and `<Bundle id>.json` per patient into `directory`;
    returns how many patient Bundles. `identities` restores the ids the read models
    pseudonymize (`fhir_identities.identities`)."""
    directory.mkdir(parents=True, exist_ok=True)
    make, written = builder(version, identifier_system=identifier_system), 0
    terminology = code_systems_bundle(version, make.catalog)
    (directory / CODE_SYSTEMS_FILE).write_text(terminology.model_dump_json(), encoding="utf-8")
    for page in patient_pages(unit, identities):
        for record in page:
            bundle: Any = make.bundle(record)
            (directory / f"{bundle.id}.json").write_text(bundle.model_dump_json(), encoding="utf-8")
            written += 1
    return written
