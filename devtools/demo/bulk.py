"""The demo cohort loaded with the bulk import (`services.bulk`): each worker process
generates its own patients (`cohort.cohort_patients`), so no commands file is written."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from config.settings import Settings
from devtools.demo.cohort import CohortProfile, cohort_patients
from services.bulk.importer import BATCH_PATIENTS, WORKERS, bulk_load_generated
from services.importing import ImportReport


def bulk_load_cohort(
    patients: int,
    *,
    until: date,
    seed: int = 7,
    id_prefix: str = "demo",
    profile: CohortProfile | None = None,
    settings: Settings | None = None,
    actor: str | None = None,
    workers: int = WORKERS,
    batch_patients: int = BATCH_PATIENTS,
    now: datetime | None = None,
    recorded_by: str | None = None,
) -> ImportReport:
    """Loads the demo cohort (`generate_cohort` with these arguments) atomically; rejected
    commands are numbered as lines of `journey demo --out`."""
    generate = partial(
        cohort_patients, seed=seed, until=until, id_prefix=id_prefix, profile=profile
    )
    return bulk_load_generated(
        patients,
        generate,
        settings=settings,
        actor=actor,
        workers=workers,
        batch_patients=batch_patients,
        now=now,
        recorded_by=recorded_by,
    )
