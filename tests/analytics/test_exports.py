"""TEDS and FHIR exports: the TEDS rows equal what the live projection says of each
discharged episode; every FHIR resource validates with `fhir.resources` (R5 and R4B)."""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from config.settings import get_settings
from fhir.resources import get_fhir_model_class as r5_model
from fhir.resources.R4B import get_fhir_model_class as r4b_model
from projections.midnight_census import episode_days, stay_days
from typer.testing import CliRunner

from infrastructure.sql import connect
from interfaces.cli import app as cli
from journey.application import JourneyApplication
from journey.catalog import default_catalog
from projections.exports.fhir import write_bundles
from projections.exports.fhir_identities import identities
from projections.exports.teds import COLUMNS, los_code, read_teds, teds_rows, write_teds
from projections.facts import journey_facts
from tests.analytics.scenarios import scenarios
from tests.readmodels.support import cohort, follow, load, real_ids

T = datetime(2025, 11, 1, tzinfo=UTC)
SECURITY = {
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "42CFRPart2"),
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "SUD"),
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "NORDSCLCD"),
    ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R"),
}
ENCOUNTER_STATUSES = {
    "R5": {"in-progress", "completed", "cancelled", "entered-in-error"},
    "R4B": {"in-progress", "finished", "cancelled", "entered-in-error"},
}


@pytest.mark.parametrize(
    ("days", "code"),
    [(0, 1), (1, 1), (30, 30), (31, 31), (45, 31), (46, 32), (60, 32), (61, 33), (90, 33),
     (91, 34), (120, 34), (121, 35), (180, 35), (181, 36), (365, 36), (366, 37), (2000, 37)],
)  # fmt: skip
def test_los_codes_follow_the_teds_bands(days: int, code: int) -> None:
    assert los_code(days, default_catalog()) == code


@pytest.fixture
def projected(app: JourneyApplication, store_url: str) -> str:
    load(app, [*cohort(30, seed=9), *scenarios()])
    follow(app, store_url)
    return store_url


def _expected_teds(app: JourneyApplication, patients: list[str]) -> Counter[tuple[int, ...]]:
    """The demo cohort enters levels by id: each stay's code is its level's default."""
    catalog, rows = default_catalog(), Counter[tuple[int, ...]]()
    for pid in patients:
        facts = journey_facts(app.history(pid), as_of=T)
        assert facts is not None
        cal = facts.calendar
        for e in facts.timeline.episodes:
            if e.discharged_at is not None:
                days = episode_days(e, cal, T)
                first, last = e.stays[0], e.stays[-1]
                rows[(cal.local_date(e.discharged_at).year, cal.local_date(e.admitted_at).year,
                      catalog.teds_services(first.level, None, stay_days(first, cal, T)),
                      catalog.teds_services(last.level, None, stay_days(last, cal, T)),
                      los_code(days, catalog), catalog.discharge_reasons[e.discharge_reason or ""])] += 1  # fmt: skip
    return rows


def test_teds_rows_match_the_live_projection(app: JourneyApplication, projected: str) -> None:
    db = connect(projected)
    with db.transaction() as unit:
        patients = [r[0] for r in unit.all("SELECT patient_id FROM rm_patients")]
        first, second = teds_rows(unit, T), teds_rows(unit, T)
    db.close()
    sink = io.StringIO()
    write_teds(first, sink)
    rows = list(read_teds(io.StringIO(sink.getvalue())))
    assert list(rows[0]) == list(COLUMNS)
    got = Counter(tuple(int(r[c]) for c in COLUMNS[1:]) for r in rows)
    real = real_ids(app)  # the read models hold pseudonyms
    assert got == _expected_teds(app, [real[p] for p in patients])
    ids = [r["CASEID"] for r in rows]
    assert len(set(ids)) == len(ids) and ids == sorted(ids)
    assert not {str(r[0]) for r in first} & {str(r[0]) for r in second}  # drawn per export
    assert not any(pid in sink.getvalue() for pid in (*patients, *real.values()))


def _validate(bundle: dict[str, Any], version: str) -> Counter[str]:
    model = r5_model if version == "R5" else r4b_model
    model("Bundle").model_validate(bundle)
    kinds: Counter[str] = Counter()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model(resource["resourceType"]).model_validate(resource)
        assert {(s["system"], s["code"]) for s in resource["meta"]["security"]} == SECURITY
        if resource["resourceType"] == "Encounter":
            assert resource["status"] in ENCOUNTER_STATUSES[version]
        kinds[resource["resourceType"]] += 1
    return kinds


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_every_fhir_resource_validates(
    app: JourneyApplication, projected: str, tmp_path: Path, version: str
) -> None:
    db = connect(projected)
    with db.transaction() as unit:
        found = identities(app, unit)  # the read models hold pseudonyms
        written = write_bundles(unit, tmp_path, found, version)  # type: ignore[arg-type]
        patients = [r[0] for r in unit.all("SELECT patient_id FROM rm_patients")]
        counts = unit.one(
            "SELECT (SELECT COUNT(*) FROM rm_episodes), (SELECT COUNT(*) FROM rm_stays),"
            " (SELECT COUNT(*) FROM rm_sessions)"
        )
    db.close()
    assert counts is not None and written == len(patients)
    kinds: Counter[str] = Counter()
    exported = set()
    for path in tmp_path.glob("*.json"):
        if path.name == "codesystems.json":
            continue
        bundle = json.loads(path.read_text())
        exported.add(bundle["entry"][0]["resource"]["identifier"][0]["value"])  # identified
        kinds += _validate(bundle, version)
    assert exported == {real_ids(app)[p] for p in patients}
    assert kinds == Counter(
        Patient=written, EpisodeOfCare=counts[0], Encounter=counts[1] + counts[2]
    )


def test_cli_exports_are_in_the_access_trail(
    app: JourneyApplication, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(app, scenarios())  # not projected yet: the export catches up first
    monkeypatch.setenv("JOURNEY_DATABASE_URL", store_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        teds = runner.invoke(
            cli, ["export", "teds", "--out", str(tmp_path / "teds.csv"), "--actor", "ann"]
        )
        fhir = runner.invoke(
            cli, ["export", "fhir", "--out", str(tmp_path / "fhir"), "--version", "R4B"]
        )
        trail = runner.invoke(cli, ["access-log", "--json"])
    finally:
        get_settings.cache_clear()
    assert teds.exit_code == fhir.exit_code == trail.exit_code == 0, teds.output + fhir.output
    assert len((tmp_path / "teds.csv").read_text().splitlines()) == 1 + 3  # three discharges
    assert len(list((tmp_path / "fhir").glob("*.json"))) == 2 + 1  # and codesystems.json
    actions = {(a["action"], a["actor"], a["patient_id"]) for a in json.loads(trail.stdout)}
    assert ("export.teds", "ann", None) in actions
    assert any(action == "export.fhir" for action, _, _ in actions)
