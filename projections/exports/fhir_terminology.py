"""The project's own code systems as FHIR CodeSystem resources (SPEC 9): level of care,
ASAM level, therapy approach, session format, session status, discharge reason, ASAM
dimension (treatment-plan goals) and referral specialty.

Their concepts come from the catalog (so a catalog change changes them), their names and
displays from `fhir_codes.toml`. `journey export fhir` writes them beside the patient
Bundles as `codesystems.json`, a transaction Bundle of conditional updates keyed by each
CodeSystem's canonical `url`, so a FHIR server (and the HL7 validator) knows the codes the
patient Bundles use. The version is the digest of the concepts: it changes exactly when a
code or display does."""

from __future__ import annotations

import hashlib
import json
import uuid

from journey.catalog import Catalog
from projections.exports.fhir_model import Factory, FhirVersion, Model, fhir_codes

CODE_SYSTEM_KINDS = (
    "level", "asam", "approach", "format", "session_status", "discharge_reason",
    "asam_dimension", "referral_specialty",
)  # fmt: skip
CODE_SYSTEMS_FILE = "codesystems.json"


def asam_codes(catalog: Catalog) -> list[str]:
    """Every ASAM code the catalog accepts (3rd edition codes, then 4th edition ones),
    each once, in catalog order."""
    found: dict[str, None] = {}
    for level in catalog.levels.values():
        found.update(dict.fromkeys((*level.asam3, *level.asam4)))
    return list(found)


def concepts(kind: str, catalog: Catalog) -> list[tuple[str, str]]:
    """(code, display) of one of our code systems."""
    displays: dict[str, str] = fhir_codes()["displays"].get(kind, {})
    if kind == "level":
        return [(lv.id, lv.name) for lv in catalog.levels.values()]
    if kind == "asam":
        return [(code, displays[code]) for code in asam_codes(catalog)]
    if kind == "approach":
        return [(a, a.replace("_", " ").capitalize()) for a in catalog.approaches]
    codes = {
        "format": catalog.formats,
        "session_status": catalog.session_statuses,
        "discharge_reason": tuple(catalog.discharge_reasons),
        "asam_dimension": catalog.asam_dimensions,
        "referral_specialty": catalog.referral_specialties,
    }[kind]
    return [(code, displays[code]) for code in codes]


def _code_system(make: Factory, kind: str, catalog: Catalog) -> Model:
    meta = fhir_codes()["code_systems"][kind]
    found = concepts(kind, catalog)
    version = hashlib.sha256(json.dumps(found).encode()).hexdigest()[:12]
    url = fhir_codes()["systems"][kind]
    rows = [f"{code}: {display}" for code, display in found]
    return make(
        "CodeSystem", url=url, version=version, name=meta["name"], title=meta["title"],
        status="active", experimental=False, description=meta["description"],
        caseSensitive=True, content="complete", count=len(found),
        concept=[{"code": code, "display": display} for code, display in found],
        text=make.narrative(f"{meta['title']} ({url})", *rows),
    )  # fmt: skip


def code_systems_bundle(version: FhirVersion, catalog: Catalog) -> Model:
    """A transaction Bundle that creates or updates our CodeSystems (matched by url)."""
    make, entries = Factory(version), []
    for kind in CODE_SYSTEM_KINDS:
        resource = _code_system(make, kind, catalog)
        url = fhir_codes()["systems"][kind]
        full_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url)}"
        request = {"method": "PUT", "url": f"CodeSystem?url={url}"}
        entries.append({"fullUrl": full_url, "resource": resource, "request": request})
    bundle_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "care-journey code systems"))
    return make.transaction(bundle_id, entries)
