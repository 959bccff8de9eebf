"""On PostgreSQL the read models follow the log with eventsourcing's `ProjectionRunner`
(LISTEN/NOTIFY subscription): events stored while it runs are applied in batches with the
tracked position, the result equals a rebuild, and an erased patient's events (which the
runner's mapper cannot read) make it forget the patient instead of stopping."""

from __future__ import annotations

import threading
from tempfile import TemporaryDirectory

import pytest
from eventsourcing.cipher import AESCipher

from config.settings import Settings
from consumers.projection import MAPPER_TOPIC, run_subscribed
from consumers.read_model_service import ReadModelService
from consumers.replay import rebuild_into
from infrastructure.erasure import erase_patient
from infrastructure.sql import connect
from journey.application import JourneyApplication
from services.bootstrap import application_class, build_application
from tests.readmodels.support import cohort, dump, load, position, real_ids, rebuilt

KEY = AESCipher.create_key(32)


@pytest.mark.postgres
def test_the_runner_follows_new_events_and_an_erasure(fresh_postgres_url: str) -> None:
    url = fresh_postgres_url
    settings = Settings(database_url=url, cipher_key=KEY)
    app = build_application(settings)
    load(app, cohort(4, seed=2, prefix="a"))  # a backlog, applied in batches first
    stop, started = threading.Event(), threading.Event()
    service = ReadModelService(app, url, batch_size=50)
    service.prepare()
    subscribed = application_class(settings, MAPPER_TOPIC)
    applied: list[int] = []
    runner = threading.Thread(
        target=lambda: applied.append(run_subscribed(service, subscribed, url, stop, started))
    )
    runner.start()
    try:
        assert started.wait(timeout=60)
        caught_up = position(url)
        load(app, cohort(4, seed=3, prefix="b"))  # stored while the runner listens
        assert service.wait_for(app.recorder.max_notification_id() or 0, timeout=60)
        assert caught_up is not None and caught_up < (app.recorder.max_notification_id() or 0)
        assert dump(url) == rebuilt_copy(app, url)
        erased = next(p for p in real_ids(app).values() if p.startswith("b"))
        erase_patient(app, erased, "request", actor="admin")
        assert service.wait_for(app.recorder.max_notification_id() or 0, timeout=60)
        patients = {pid for (pid, *_) in dump(url)["rm_patients"]}
        assert len(patients) == 7
        load(app, cohort(3, seed=4, prefix="c"))  # after the erasure: still followed
        assert service.wait_for(app.recorder.max_notification_id() or 0, timeout=60)
        assert len(dump(url)["rm_patients"]) == 10
    finally:
        stop.set()
        runner.join(timeout=60)
        service.close()
    assert not runner.is_alive() and applied == [app.recorder.max_notification_id()]
    assert position(url) == app.recorder.max_notification_id()
    assert dump(url) == rebuilt(app, url)  # without the erased patient
    app.close()


def rebuilt_copy(app: JourneyApplication, url: str) -> dict[str, list[tuple[object, ...]]]:
    """What a rebuild gives, computed into a scratch SQLite file (the live tables stay)."""
    with TemporaryDirectory() as folder:
        scratch_url = f"sqlite:///{folder}/scratch.db"
        scratch = connect(scratch_url)
        try:
            rebuild_into(app, scratch, app.recorder.max_notification_id() or 0)
        finally:
            scratch.close()
        return dump(scratch_url)
