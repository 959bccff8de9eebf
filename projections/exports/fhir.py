"""FHIR export (SPEC 9): one Bundle (type collection) per patient, R5 or R4B.

Each Bundle holds a Patient (a random pseudonymous id drawn per export, nothing else), an
EpisodeOfCare per episode (status, statusHistory, period), an Encounter per stay (class
from the catalog's `fhir_class`, the level's ASAM / HCPCS / id codes in `type`, period,
episodeOfCare) and an Encounter per session (status from the session's status or void,
start and duration, the approach in `type`, partOf the stay in force at its start). Every
resource carries the 42 CFR Part 2 and confidentiality R labels in `meta.security`.
Resources are plain JSON dicts; the tests validate each with `fhir.resources`."""

from __future__ import annotations

import json
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from infrastructure.sql import Unit
from journey.catalog import Catalog, Level, default_catalog
from projections.exports.fhir_rows import (
    EpisodeRow,
    PatientRecord,
    SessionRow,
    StayRow,
    patient_pages,
)

FhirVersion = Literal["R4B", "R5"]
Json = dict[str, Any]


@cache
def fhir_codes() -> Json:
    text = resources.files("projections.exports").joinpath("fhir_codes.toml").read_text("utf-8")
    return tomllib.loads(text)


def _iso(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat()


def _period(start: datetime, end: datetime | None) -> Json:
    return {"start": _iso(start)} | ({"end": _iso(end)} if end is not None else {})


def _ref(resource: Json) -> Json:
    return {"reference": f"urn:uuid:{resource['id']}"}


@dataclass
class BundleBuilder:
    """Builds one patient's Bundle; `version` decides the few R4B / R5 differences."""

    version: FhirVersion
    catalog: Catalog

    def __post_init__(self) -> None:
        codes = fhir_codes()
        self.systems: dict[str, str] = codes["systems"]
        self.status: dict[str, str] = codes["status"][self.version]
        self.security: list[Json] = codes["security"]
        self.class_display: dict[str, str] = codes["class_display"]
        self.session_class: dict[str, str] = codes["session_class"]

    def _resource(self, kind: str, **fields: Any) -> Json:
        body = {"resourceType": kind, "id": str(uuid.uuid4())}
        return body | {"meta": {"security": self.security}} | fields

    def _coding(self, system: str, code: str, display: str | None = None) -> Json:
        coding = {"system": self.systems[system], "code": code}
        return coding | ({"display": display} if display else {})

    def _class(self, code: str) -> Json:
        coding = self._coding("encounter_class", code, self.class_display.get(code))
        return {"class": coding} if self.version == "R4B" else {"class": [{"coding": [coding]}]}

    def _when(self, start: datetime, end: datetime | None = None) -> Json:
        key = "period" if self.version == "R4B" else "actualPeriod"
        return {key: _period(start, end)}

    def _level_type(self, level: Level) -> list[Json]:
        codings = [self._coding("level", level.id, level.name)]
        codings += [self._coding("asam", code, level.name) for code in level.asam3[:1]]
        codings.append(self._coding("hcpcs", level.hcpcs))
        return [{"coding": codings, "text": level.name}]

    def episode(self, row: EpisodeRow, patient: Json) -> Json:
        history = [{"status": "active", "period": _period(row.admitted_at, row.discharged_at)}]
        if row.discharged_at is not None:
            history.append({"status": "finished", "period": {"start": _iso(row.discharged_at)}})
        return self._resource(
            "EpisodeOfCare",
            status="active" if row.discharged_at is None else "finished",
            statusHistory=history,
            patient=_ref(patient),
            period=_period(row.admitted_at, row.discharged_at),
        )

    def stay(self, row: StayRow, patient: Json, episode: Json, reason: str | None) -> Json:
        level = self.catalog.levels[row.level]
        status = self.status["stay_open" if row.ended_at is None else "stay_ended"]
        body = self._resource(
            "Encounter", status=status, **self._class(level.fhir_class),
            type=self._level_type(level), subject=_ref(patient), episodeOfCare=[_ref(episode)],
            **self._when(row.started_at, row.ended_at),
        )  # fmt: skip
        if reason is not None:  # the stay its episode's discharge ended
            disposition = {"coding": [self._coding("discharge_reason", reason)], "text": reason}
            key = "hospitalization" if self.version == "R4B" else "admission"
            body[key] = {"dischargeDisposition": disposition}
        return body

    def session(self, row: SessionRow, patient: Json, stay: Json | None) -> Json:
        status = self.status["voided" if row.voided else row.status]
        kinds = [
            {"coding": [self._coding("approach", row.approach)], "text": row.approach},
            {"coding": [self._coding("format", row.format)], "text": row.format},
        ]
        body = self._resource(
            "Encounter", status=status, **self._class(self.session_class[row.delivery]),
            type=kinds, subject=_ref(patient), **self._when(row.occurred_at),
            length={"value": row.duration_minutes, "unit": "min",
                    "system": self.systems["ucum"], "code": "min"},
        )  # fmt: skip
        if stay is not None:
            body["partOf"] = _ref(stay)
            body["episodeOfCare"] = stay["episodeOfCare"]
        return body

    def bundle(self, record: PatientRecord, timestamp: datetime) -> Json:
        patient = self._resource("Patient")
        resources = [patient]
        episodes = {row.number: self.episode(row, patient) for row in record.episodes}
        reasons = {row.number: row.discharge_reason for row in record.episodes}
        last_seq = {row.episode_number: row.seq for row in record.stays}
        stays: dict[tuple[int, int], Json] = {}
        for row in record.stays:
            ends_episode = last_seq[row.episode_number] == row.seq and row.ended_at is not None
            reason = reasons.get(row.episode_number) if ends_episode else None
            key = (row.episode_number, row.seq)
            stays[key] = self.stay(row, patient, episodes[row.episode_number], reason)
        resources += [*episodes.values(), *stays.values()]
        for session in record.sessions:
            found = record.stay_at(session.occurred_at)
            stay = stays.get((found.episode_number, found.seq)) if found else None
            resources.append(self.session(session, patient, stay))
        return self._resource(
            "Bundle", type="collection", timestamp=_iso(timestamp),
            entry=[{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
        )  # fmt: skip


def builder(version: FhirVersion = "R5", catalog: Catalog | None = None) -> BundleBuilder:
    return BundleBuilder(version, catalog or default_catalog())


def write_bundles(unit: Unit, directory: Path, version: FhirVersion = "R5") -> int:
    """Writes `<Bundle id>.json` per patient into `directory`; returns how many."""
    directory.mkdir(parents=True, exist_ok=True)
    make, now, written = builder(version), datetime.now(UTC), 0
    for page in patient_pages(unit):
        for record in page:
            bundle = make.bundle(record, now)
            (directory / f"{bundle['id']}.json").write_text(json.dumps(bundle), encoding="utf-8")
            written += 1
    return written
