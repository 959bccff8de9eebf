"""HAPI FHIR's instance validator (R4B and R5), offline, from the jars that
devtools/fhir-validator/pom.xml resolves into devtools/fhir-validator/lib/ (Maven runs on first
use, like the Kafka jars; later runs find them there or in ~/.m2).

`validate({"R5": Batch(terminology=[...], files=[...]), "R4B": ...})` starts one JVM that
runs Validate.java (a Java 17 source file, no build step) over every file and returns its
issues. No terminology server is configured: codes are checked against the FHIR core
packages, HAPI's built-in code systems and the terminology files given. Stdlib only.

Usage: python devtools/fhir_validator.py [--version R5|R4B] [--terminology FILE] FILE...
"""

from __future__ import annotations

import argparse
import fcntl
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make the `infra` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devtools._common import ServiceError, check

SRC = Path(__file__).resolve().parent / "fhir-validator"
BLOCKING = frozenset({"error", "fatal"})
# HL7 terminology the R4B packages lack (HAPI's R5 resources ship THO 5.1.0): given to the
# R4B validator so that the codes our exports use from them are checked there too.
THO_FOR_R4B = (
    "CodeSystem-v3-ActCode.json",
    "CodeSystem-v3-Confidentiality.json",
    "CodeSystem-discharge-disposition.json",
    "ValueSet-v3-ActEncounterCode.json",
)


@dataclass
class Batch:
    """The files of one FHIR version, and the terminology (CodeSystem Bundles) they use."""

    files: list[Path] = field(default_factory=list)
    terminology: list[Path] = field(default_factory=list)


def lib_dir() -> Path:
    """devtools/fhir-validator/lib holding the pom's HAPI version, resolved when missing (a
    file lock keeps concurrent callers, e.g. pytest-xdist workers, from racing)."""
    lib = SRC / "lib"
    found = re.search(r"<hapi.version>(.+?)</hapi.version>", (SRC / "pom.xml").read_text())
    version = found.group(1) if found else "?"
    marker = lib / f"hapi-fhir-validation-{version}.jar"
    with open(SRC / "resolve.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not marker.exists():
            shutil.rmtree(lib, ignore_errors=True)
            mvn = ["mvn", "-q", "-B", "-f", str(SRC / "pom.xml")]
            check([*mvn, "dependency:copy-dependencies", "-DincludeScope=runtime"])
    return lib


def hl7_terminology(names: tuple[str, ...] = THO_FOR_R4B) -> list[Path]:
    """Resources of the HL7 terminology package inside HAPI's R5 validation resources,
    extracted once next to the jars."""
    lib, target = lib_dir(), SRC / "tho"
    paths = [target / name for name in names]
    if all(path.exists() for path in paths):
        return paths
    (jar,) = lib.glob("hapi-fhir-validation-resources-r5-*.jar")
    with zipfile.ZipFile(jar) as archive:
        (member,) = [n for n in archive.namelist() if "/hl7.terminology" in n]
        package = archive.read(member)
    target.mkdir(exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(package), mode="r:gz") as tgz:
        for path in paths:
            found = tgz.extractfile(f"package/{path.name}")
            if found is None:
                raise ServiceError(f"{path.name} is not in {member}")
            path.write_bytes(found.read())
    return paths


def command(batches: dict[str, Batch]) -> list[str]:
    # One short-lived JVM: the C1 compiler and the serial collector halve its CPU time.
    jvm = ["java", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
    args = [*jvm, "-cp", f"{lib_dir()}/*", str(SRC / "Validate.java")]
    for version, batch in batches.items():
        args += ["--version", version]
        for path in batch.terminology:
            args += ["--terminology", str(path)]
        args += [str(path) for path in batch.files]
    return args


def validate(batches: dict[str, Batch]) -> list[dict[str, Any]]:
    """Every issue the validator reports: {file, version, severity, location, message}."""
    res = subprocess.run(
        command(batches), check=False, text=True, capture_output=True, stdin=subprocess.DEVNULL
    )
    if res.returncode != 0:
        raise ServiceError(f"the FHIR validator failed ({res.returncode}):\n{res.stderr[-4000:]}")
    issues: list[dict[str, Any]] = json.loads(res.stdout)
    return issues


def blocking(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issues that make a resource invalid (severity error or fatal)."""
    return [issue for issue in issues if issue["severity"] in BLOCKING]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Validate FHIR JSON files with HAPI, offline.")
    parser.add_argument("--version", choices=["R5", "R4B"], default="R5")
    parser.add_argument("--terminology", type=Path, action="append", default=[])
    parser.add_argument("files", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        issues = validate({args.version: Batch(args.files, args.terminology)})
    except ServiceError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(issues, indent=1))
    return 1 if blocking(issues) else 0


if __name__ == "__main__":
    sys.exit(main())
