"""The bulk import on an encrypted store: worker processes encrypt each new patient's rows
with a new data key, and the writer stores the wrapped keys with the events."""

from __future__ import annotations

import json

from eventsourcing.cryptography import AESCipher

from config.settings import Settings
from infrastructure import keys
from services.bulk.importer import bulk_import_lines
from services.importing import import_lines
from tests.analytics.scenarios import scenarios
from tests.app.bulk_support import (
    NOW,
    RECORDING_ONLY,
    Opener,
    Stores,
    cohort_lines,
    histories,
    log_rows,
    snapshot_rows,
)
from tests.privacy.support import raw_rows

KEY = AESCipher.create_key(32)


def test_bulk_import_in_worker_processes_encrypts_per_patient(
    two_stores: Stores, open_app: Opener
) -> None:
    normal_url, bulk_url = two_stores
    lines = cohort_lines(12) + [json.dumps(c) for c in scenarios()]
    normal = open_app(normal_url, cipher_key=KEY)
    assert import_lines(normal, lines, now=NOW).applied
    report = bulk_import_lines(
        lines, settings=Settings(database_url=bulk_url, cipher_key=KEY), workers=2, now=NOW
    )
    assert (report.applied, report.rejected) == (True, [])
    bulk = open_app(bulk_url, cipher_key=KEY)
    rows = log_rows(bulk)
    assert all(keys.is_patient_format(row[4]) for row in rows)
    snapshots = snapshot_rows(bulk)
    assert snapshots  # the cohort crosses the snapshot interval: snapshots are checked too
    assert all(keys.is_patient_format(row[2]) for row in snapshots)
    patients = sorted({row[1] for row in rows})
    stored_keys = raw_rows(
        bulk_url, "SELECT patient_id FROM journey_keys WHERE wrapped IS NOT NULL"
    )
    assert sorted(r[0] for r in stored_keys) == patients
    assert histories(bulk, drop=RECORDING_ONLY) == histories(normal, drop=RECORDING_ONLY)
