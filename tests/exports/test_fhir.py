"""What the FHIR export says (SPEC 9): the ASAM code a stay was entered with, sessions
that keep their statuses and times, HL7 discharge dispositions, our CodeSystems, a
transaction of conditional updates keyed by stable identifiers, narratives and the
42 CFR Part 2 labels, all built with `fhir.resources`."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from fhir.resources import get_fhir_model_class as r5_model
from fhir.resources.R4B import get_fhir_model_class as r4b_model

from journey.application import JourneyApplication
from journey.catalog import default_catalog
from projections.exports.fhir import builder
from projections.exports.fhir_rows import PatientRecord, SessionRow
from projections.exports.fhir_terminology import CODE_SYSTEM_KINDS
from tests.exports.cohort import REASONS
from tests.exports.conftest import SYSTEM, Export, export

Json = dict[str, Any]
OURS = "https://carejourney.org/fhir/CodeSystem/"
LEVEL, ASAM = OURS + "level-of-care", OURS + "asam-level"
STATUS = OURS + "session-status"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
HL7_DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ACT, CONF = (
    "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
)
LABELS = {(ACT, "42CFRPart2"), (ACT, "SUD"), (ACT, "NORDSCLCD"), (CONF, "R")}
ATTENDED = {"R5": "completed", "R4B": "finished"}


def _codes(concepts: list[Json], system: str) -> list[str]:
    return [c["code"] for cc in concepts for c in cc["coding"] if c["system"] == system]


def _period(resource: Json, version: str) -> Json | None:
    found: Json | None = resource.get("actualPeriod" if version == "R5" else "period")
    return found


def _class_code(resource: Json, version: str) -> str:
    if version == "R4B":
        return str(resource["class"]["code"])
    return str(resource["class"][0]["coding"][0]["code"])


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_stays_carry_the_asam_code_they_were_entered_with(
    exports: dict[str, Export], version: str
) -> None:
    got = exports[version]
    detox = got.resource("p-mixed", "p-mixed/episode/1/stay/1")
    assert _codes(detox["type"], ASAM) == ["1-WM"]  # not 3.7-WM
    assert _codes(detox["type"], LEVEL) == ["detox"]
    assert _codes(detox["type"], HCPCS) == ["H0010"] and _class_code(detox, version) == "IMP"
    residential = got.resource("p-mixed", "p-mixed/episode/1/stay/2")
    assert _codes(residential["type"], ASAM) == ["3.1"]  # not 3.7
    assert _codes(residential["type"], HCPCS) == ["H0018"]
    by_id = got.resource("p-mixed", "p-mixed/episode/1/stay/3")  # entered as "iop"
    assert _codes(by_id["type"], ASAM) == ["2.1"] and _class_code(by_id, version) == "AMB"
    assert _codes(got.resource("p-other", "p-other/episode/1/stay/1")["type"], ASAM) == ["1.5"]


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_sessions_keep_their_status_and_only_attended_ones_have_a_period(
    exports: dict[str, Export], version: str
) -> None:
    got = exports[version]

    def session(sid: str) -> Json:
        return got.resource("p-mixed", f"p-mixed/session/{sid}")

    attended = session("attended")
    assert attended["status"] == ATTENDED[version]
    assert _period(attended, version) == {"start": "2025-01-20T15:00:00Z",
                                          "end": "2025-01-20T15:50:00Z"}  # fmt: skip
    assert attended["length"]["value"] == 50
    fixed = session("fixed")  # corrected to 90 minutes
    assert _period(fixed, version) == {"start": "2025-01-23T15:00:00Z",
                                       "end": "2025-01-23T16:30:00Z"}  # fmt: skip
    for sid, status in (("noshow", "no_show"), ("cancelled", "cancelled")):
        missed = session(sid)
        assert missed["status"] == "cancelled"
        assert _codes(missed["type"], STATUS) == [status]  # no-show stays apart
        assert _period(missed, version) is None and "length" not in missed
    assert session("wrong")["status"] == "entered-in-error"
    assert _codes(attended["type"], STATUS) == ["attended"]
    if version == "R5":
        assert session("noshow")["plannedStartDate"] == "2025-01-21T15:00:00Z"


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_discharge_dispositions_are_also_coded_in_the_hl7_system(
    exports: dict[str, Export], version: str
) -> None:
    expected = {"completed": "oth", "ama": "aadvice", "facility_terminated": "oth",
                "transferred": "other-hcf", "incarcerated": "oth", "death": "exp", "other": "oth"}  # fmt: skip
    key = "admission" if version == "R5" else "hospitalization"
    for reason in (*REASONS, "other"):
        pid = f"p-{reason.replace('_', '-')}"
        stay = exports[version].resource(pid, f"{pid}/episode/1/stay/1")
        concept = stay[key]["dischargeDisposition"]
        assert _codes([concept], HL7_DISPOSITION) == [expected[reason]]
        assert _codes([concept], OURS + "discharge-reason") == [reason]
    open_stay = exports[version].resource("p-again", "p-again/episode/2/stay/1")
    assert key not in open_stay


def test_every_reason_of_the_catalog_has_an_hl7_disposition() -> None:
    codes = tomllib.loads(Path("projections/exports/fhir_codes.toml").read_text())
    assert set(codes["discharge_disposition"]) == set(default_catalog().discharge_reasons)


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_our_code_systems_are_shipped_and_cover_every_code_used(
    exports: dict[str, Export], version: str
) -> None:
    got = exports[version]
    bundle = got.code_systems()
    model = r5_model if version == "R5" else r4b_model
    model("Bundle").model_validate(bundle)
    systems = {e["resource"]["url"]: e["resource"] for e in bundle["entry"]}
    assert len(systems) == len(CODE_SYSTEM_KINDS) == 6
    for resource in systems.values():
        assert resource["content"] == "complete" and resource["status"] == "active"
        assert resource["count"] == len(resource["concept"])
    defined = {(url, c["code"]): c["display"] for url, cs in systems.items() for c in cs["concept"]}
    used = 0
    for bundle_json in got.bundles():
        for coding in _all_codings(bundle_json):
            if coding["system"].startswith(OURS):
                assert defined[(coding["system"], coding["code"])] == coding["display"]
                used += 1
    assert used > 0


def _all_codings(node: Any) -> list[Json]:
    if isinstance(node, dict):
        own = [node] if {"system", "code"} <= set(node) else []
        return own + [c for v in node.values() for c in _all_codings(v)]
    if isinstance(node, list):
        return [c for v in node for c in _all_codings(v)]
    return []


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_a_transaction_of_conditional_updates_keyed_by_stable_identifiers(
    exports: dict[str, Export],
    app: JourneyApplication,
    projected: str,
    tmp_path: Path,
    version: str,
) -> None:
    got = exports[version]
    for bundle in got.bundles():
        assert bundle["type"] == "transaction"
        urls = {e["fullUrl"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            resource = entry["resource"]
            (identifier,) = resource["identifier"]
            assert identifier["system"] == SYSTEM
            key = f"{SYSTEM}|{identifier['value']}"
            assert entry["request"] == {"method": "PUT",
                                        "url": f"{resource['resourceType']}?identifier={key}"}  # fmt: skip
            assert entry["fullUrl"] == f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}"
            assert "id" not in resource  # a conditional update lets the server keep its ids
            refs = [v for k, v in _references(resource)]
            assert set(refs) <= urls and (refs or resource["resourceType"] == "Patient")
    again = export(app, projected, tmp_path / "again", version)
    first = sorted(p.name for p in got.directory.iterdir())
    assert first == sorted(p.name for p in again.directory.iterdir())
    for name in first:
        assert (got.directory / name).read_bytes() == (again.directory / name).read_bytes()
    other = export(app, projected, tmp_path / "other", version, "https://example.org/ids/patient")
    mixed = other.resource("p-mixed", "p-mixed/session/noshow")
    assert mixed["identifier"][0]["system"] == "https://example.org/ids/patient"


def _references(node: Any) -> list[tuple[str, str]]:
    if isinstance(node, dict):
        own = [("reference", node["reference"])] if "reference" in node else []
        return own + [r for k, v in node.items() if k != "reference" for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_the_identifier_system_is_a_setting_and_must_be_a_uri(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from config.settings import Settings, get_settings

    monkeypatch.setenv("JOURNEY_FHIR_IDENTIFIER_SYSTEM", "https://clinic.example/patients")
    get_settings.cache_clear()
    try:
        assert builder().identifier_system == "https://clinic.example/patients"
    finally:
        get_settings.cache_clear()
    assert Settings().fhir_identifier_system == "https://clinic.example/patients"
    monkeypatch.setenv("JOURNEY_FHIR_IDENTIFIER_SYSTEM", "not a uri")
    with pytest.raises(ValueError, match="fhir_identifier_system"):
        Settings()
    monkeypatch.delenv("JOURNEY_FHIR_IDENTIFIER_SYSTEM")
    assert Settings().fhir_identifier_system == "urn:care-journey:patient-id"


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_every_resource_has_a_narrative_and_the_part_2_labels(
    exports: dict[str, Export], version: str
) -> None:
    for bundle in exports[version].bundles():
        assert {(s["system"], s["code"]) for s in bundle["meta"]["security"]} == LABELS
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert {(s["system"], s["code"]) for s in resource["meta"]["security"]} == LABELS
            assert resource["text"]["status"] == "generated"
            assert resource["text"]["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
    for entry in exports[version].code_systems()["entry"]:
        assert entry["resource"]["text"]["status"] == "generated"


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_resources_are_fhir_resources_models(version: str) -> None:
    from datetime import UTC, datetime

    from fhir.resources.bundle import Bundle as R5Bundle
    from fhir.resources.R4B.bundle import Bundle as R4BBundle

    at = datetime(2025, 1, 1, 9, tzinfo=UTC)
    record = PatientRecord(
        "p1", sessions=[SessionRow("s1", at, "cbt", "group", 30, "in_person", "attended", False)]
    )
    bundle = builder(version, identifier_system=SYSTEM).bundle(record)  # type: ignore[arg-type]
    assert isinstance(bundle, R5Bundle if version == "R5" else R4BBundle)
    pyproject = tomllib.loads(Path("pyproject.toml").read_text())
    assert any(d.startswith("fhir.resources") for d in pyproject["project"]["dependencies"])


def test_the_cli_says_the_fhir_export_is_identified_phi() -> None:
    from typer.testing import CliRunner

    from interfaces.cli import app as cli

    runner = CliRunner()
    group = runner.invoke(cli, ["export", "--help"], terminal_width=200)
    fhir = runner.invoke(cli, ["export", "fhir", "--help"], terminal_width=200)
    assert group.exit_code == fhir.exit_code == 0
    for text in (group.stdout, fhir.stdout):
        flat = " ".join(text.split())
        assert "de-identified" not in flat.lower() and "pseudonymous" not in flat.lower()
        assert "identified PHI" in flat and "42 CFR Part 2" in flat
