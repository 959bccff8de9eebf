"""What every FHIR resource of the export shares: the `fhir.resources` model classes of a
version (R5: the default package, R4B: `fhir.resources.R4B`), the codes of
`fhir_codes.toml`, stable identities (business identifier, `urn:uuid` full URL, the
conditional-update request) and the narrative."""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from typing import Any, Literal
from urllib.parse import quote

from fhir.resources import get_fhir_model_class as r5_model
from fhir.resources.R4B import get_fhir_model_class as r4b_model
from fhir_core.fhirabstractmodel import FHIRAbstractModel

FhirVersion = Literal["R4B", "R5"]
Model = FHIRAbstractModel
Json = dict[str, Any]
XHTML = "http://www.w3.org/1999/xhtml"


@cache
def fhir_codes() -> Json:
    text = resources.files("projections.exports").joinpath("fhir_codes.toml").read_text("utf-8")
    return tomllib.loads(text)


def model_class(version: FhirVersion) -> Callable[[str], type[Model]]:
    return r4b_model if version == "R4B" else r5_model


@dataclass(frozen=True)
class Identity:
    """A resource's stable identity: its business identifier (`system|value`), the
    `urn:uuid` full URL derived from it (UUID 5), and the conditional update that loads it
    (`PUT Kind?identifier=system|value`: created once, then matched)."""

    kind: str
    system: str
    value: str

    @property
    def full_url(self) -> str:
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{self.system}|{self.value}')}"

    @property
    def request_url(self) -> str:
        return (
            f"{self.kind}?identifier={quote(self.system, safe=':/')}|{quote(self.value, safe='/')}"
        )


@dataclass(frozen=True)
class Factory:
    """Builds `fhir.resources` models of one FHIR version (validated as they are built)."""

    version: FhirVersion

    def __call__(self, kind: str, **fields: Any) -> Model:
        built: Model = model_class(self.version)(kind).model_validate(fields)
        return built

    def coding(self, system: str, code: str, display: str | None = None) -> Model:
        fields = {"system": system, "code": code} | ({"display": display} if display else {})
        return self("Coding", **fields)

    def concept(self, *codings: Model, text: str | None = None) -> Model:
        return self("CodeableConcept", coding=list(codings), **({"text": text} if text else {}))

    def narrative(self, *lines: str) -> Model:
        """`text` (dom-6): a generated XHTML narrative, one paragraph per line."""
        body = "".join(f"<p>{escape(line)}</p>" for line in lines)
        return self("Narrative", status="generated", div=f'<div xmlns="{XHTML}">{body}</div>')

    def security(self) -> list[Model]:
        return [self.coding(s["system"], s["code"], s["display"]) for s in fhir_codes()["security"]]

    def entry(self, identity: Identity, resource: Model) -> Json:
        """A transaction entry: the resource under its `urn:uuid`, loaded by conditional
        update."""
        return {
            "fullUrl": identity.full_url,
            "resource": resource,
            "request": {"method": "PUT", "url": identity.request_url},
        }

    def transaction(self, bundle_id: str, entries: list[Json]) -> Model:
        return self("Bundle", id=bundle_id, type="transaction", entry=entries)
