"""What encryption at rest with per-patient keys and the read models' pseudonyms cost:
importing a demo cohort, reading every history back (new process caches), and rebuilding
the read models, on a plain store and on an encrypted one (SQLite).

Run: .venv/bin/python -m benchmarks.bench_privacy [--patients 200]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date
from pathlib import Path

from eventsourcing.cryptography import AESCipher

from config.settings import Settings
from consumers.read_model_service import ReadModelService
from devtools.demo.cohort import generate_cohort
from services.bootstrap import build_application
from services.importing import import_lines


def measure(folder: Path, lines: list[str], key: str | None) -> dict[str, float]:
    url = f"sqlite:///{folder}/{'encrypted' if key else 'plain'}.db"
    app = build_application(Settings(database_url=url, cipher_key=key))
    began = time.perf_counter()
    report = import_lines(app, lines)
    imported = time.perf_counter() - began
    events = app.recorder.max_notification_id() or 0
    patients = sorted({json.loads(line)["patient_id"] for line in lines})
    app.close()
    reader = build_application(Settings(database_url=url, cipher_key=key))
    began = time.perf_counter()
    for patient_id in patients:
        reader.history(patient_id)
    read = time.perf_counter() - began
    began = time.perf_counter()
    with ReadModelService(reader, url) as service:
        service.rebuild()
    rebuilt = time.perf_counter() - began
    reader.close()
    assert report.applied
    return {
        "events": events,
        "import_events_per_s": events / imported,
        "read_events_per_s": events / read,
        "rebuild_events_per_s": events / rebuilt,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=200)
    args = parser.parse_args()
    lines = [json.dumps(c) for c in generate_cohort(args.patients, seed=7, until=date(2026, 6, 1))]
    with tempfile.TemporaryDirectory() as folder:
        for label, key in (("plain", None), ("encrypted", AESCipher.create_key(32))):
            figures = measure(Path(folder), lines, key)
            shown = ", ".join(f"{k} {v:,.0f}" for k, v in figures.items())
            print(f"{label:>9}: {shown}")


if __name__ == "__main__":
    main()
