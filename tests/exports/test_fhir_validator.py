"""HAPI FHIR's instance validator (8.8.x, offline, no terminology server) finds no error
in any file of the FHIR export, in R4B and in R5, and does find the error planted in a
broken copy (so a silent validator cannot pass). One JVM validates every file."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from devtools import fhir_validator
from devtools._common import ServiceError
from projections.exports.fhir_terminology import CODE_SYSTEMS_FILE
from services.bootstrap import build_application
from tests.exports.cohort import export_cohort
from tests.exports.conftest import export
from tests.readmodels.support import follow, load

pytestmark = pytest.mark.xdist_group("fhir-validator")


@pytest.fixture(scope="session")
def validator_lib() -> Path:
    """The validator's jars, resolved from Maven Central once (then cached in lib/)."""
    try:
        return fhir_validator.lib_dir()
    except (ServiceError, OSError) as exc:
        pytest.fail(f"cannot resolve the HAPI FHIR validator with Maven: {exc}", pytrace=False)


@pytest.fixture
def exported(tmp_path: Path) -> Iterator[dict[str, Path]]:
    url = f"sqlite:///{tmp_path}/journey.db"
    app = build_application(Settings(database_url=url))
    try:
        load(app, export_cohort())
        follow(app, url)
        yield {v: export(app, url, tmp_path / v, v).directory for v in ("R5", "R4B")}
    finally:
        app.close()


def _broken(patients: list[Path], target: Path) -> Path:
    """A copy of a patient Bundle with an Encounter status outside the value set and a
    discharge disposition code that HL7's code system does not have."""
    source = next(p for p in patients if "dischargeDisposition" in p.read_text())
    bundle = json.loads(source.read_text())
    encounters = [e["resource"] for e in bundle["entry"] if "status" in e["resource"]]
    encounters[-1]["status"] = "no-show"
    for encounter in encounters:
        for key in ("admission", "hospitalization"):
            if key in encounter:
                encounter[key]["dischargeDisposition"]["coding"][0]["code"] = "ama"
    target.write_text(json.dumps(bundle))
    return target


def test_hapi_validator_finds_no_error_in_any_export(
    validator_lib: Path, exported: dict[str, Path], tmp_path: Path
) -> None:
    batches, broken = {}, {}
    tho = {"R4B": fhir_validator.hl7_terminology(), "R5": []}  # R5's packages have THO
    for version, directory in exported.items():
        terminology = directory / CODE_SYSTEMS_FILE
        files = sorted(directory.glob("*.json"))
        patients = [p for p in files if p != terminology]
        broken[version] = _broken(patients, tmp_path / f"broken-{version}.json")
        batches[version] = fhir_validator.Batch(
            [*files, broken[version]], [terminology, *tho[version]]
        )
    issues = fhir_validator.validate(batches)
    planted = {str(path) for path in broken.values()}
    errors = [i for i in fhir_validator.blocking(issues) if i["file"] not in planted]
    assert errors == [], json.dumps(errors[:10], indent=1)
    for planted_error in ("no-show", "ama"):  # the validator does check status and codes
        caught = {
            i["file"] for i in fhir_validator.blocking(issues) if planted_error in i["message"]
        }
        assert caught == planted, planted_error
    warned = Counter(i["severity"] for i in issues)
    print(f"validated {sum(len(b.files) for b in batches.values())} files: {dict(warned)}")
