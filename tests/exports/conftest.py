"""The export cohort stored, projected and exported (FHIR R5 and R4B) on each store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infrastructure.sql import connect
from journey.application import JourneyApplication
from projections.exports.fhir import write_bundles
from projections.exports.fhir_identities import identities
from projections.exports.fhir_terminology import CODE_SYSTEMS_FILE
from tests.exports.cohort import export_cohort
from tests.readmodels.support import follow, load

SYSTEM = "urn:care-journey:test-patient-id"
Json = dict[str, Any]


@dataclass
class Export:
    directory: Path
    version: str

    def bundles(self) -> list[Json]:
        paths = sorted(p for p in self.directory.glob("*.json") if p.name != CODE_SYSTEMS_FILE)
        return [json.loads(p.read_text()) for p in paths]

    def code_systems(self) -> Json:
        found: Json = json.loads((self.directory / CODE_SYSTEMS_FILE).read_text())
        return found

    def patient(self, patient_id: str) -> list[Json]:
        """The entries of one patient's Bundle."""
        for bundle in self.bundles():
            first = bundle["entry"][0]["resource"]
            if first["identifier"][0]["value"] == patient_id:
                entries: list[Json] = bundle["entry"]
                return entries
        raise AssertionError(f"no Bundle for {patient_id}")

    def resource(self, patient_id: str, value: str) -> Json:
        """The resource whose identifier value is `value` in the patient's Bundle."""
        for entry in self.patient(patient_id):
            if entry["resource"]["identifier"][0]["value"] == value:
                resource: Json = entry["resource"]
                return resource
        raise AssertionError(f"no resource {value}")


def export(
    app: JourneyApplication, url: str, directory: Path, version: str, system: str = SYSTEM
) -> Export:
    db = connect(url)
    try:
        with db.transaction() as unit:
            found = identities(app, unit)
            write_bundles(unit, directory, found, version, identifier_system=system)  # type: ignore[arg-type]
    finally:
        db.close()
    return Export(directory, version)


@pytest.fixture
def projected(app: JourneyApplication, store_url: str) -> str:
    load(app, export_cohort())
    follow(app, store_url)
    return store_url


@pytest.fixture
def exports(app: JourneyApplication, projected: str, tmp_path: Path) -> dict[str, Export]:
    return {v: export(app, projected, tmp_path / v, v) for v in ("R5", "R4B")}
