"""The access trail's rows are chained (an edit or deletion by SQL, triggers dropped, is
named by `verify`), appends from several writers never fork the chain, a trail written by
main f282db8 is migrated, and with JOURNEY_CIPHER_KEY no patient id is stored in clear."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from audit.access_log import SEALED_DETAIL, Access, AccessLog
from audit.pseudonyms import derive_key, pseudonym
from infrastructure.sql import connect
from tests.audit.test_tamper_evidence import raw

KEY = base64.b64encode(bytes(range(32))).decode()
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
# The trail's table exactly as main f282db8 created it.
LEGACY = {
    "sqlite": [
        "CREATE TABLE audit_access_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT"
        " NULL, role TEXT NOT NULL, channel TEXT NOT NULL, source TEXT NOT NULL, action TEXT NOT"
        " NULL, patient_id TEXT, detail TEXT NOT NULL, outcome TEXT NOT NULL)",
        "CREATE TRIGGER audit_access_log_no_update BEFORE UPDATE ON audit_access_log"
        " BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END",
    ],
    "postgres": [
        "CREATE TABLE audit_access_log (id BIGSERIAL PRIMARY KEY, at TIMESTAMPTZ NOT NULL, actor"
        " TEXT NOT NULL, role TEXT NOT NULL, channel TEXT NOT NULL, source TEXT NOT NULL, action"
        " TEXT NOT NULL, patient_id TEXT, detail TEXT NOT NULL, outcome TEXT NOT NULL)",
        "CREATE OR REPLACE FUNCTION audit_access_log_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'the access log is append-only'; END $$",
        "CREATE TRIGGER audit_access_log_append_only BEFORE UPDATE OR DELETE ON"
        " audit_access_log FOR EACH ROW EXECUTE FUNCTION audit_access_log_append_only()",
    ],
}


def access(n: int, patient_id: str | None = "p-1", actor: str = "aud-1") -> Access:
    return Access(
        T0 + timedelta(seconds=n), actor, "auditor", "cli", "me@host", "history.read",
        patient_id, f"known_at=None n={n}", "ok",
    )  # fmt: skip


def sql(store_url: str, *statements: str) -> None:
    with raw(store_url) as (conn, _, _):
        for statement in statements:
            conn.execute(statement)


def drop_triggers(store_url: str) -> None:
    if store_url.startswith("sqlite"):
        sql(
            store_url,
            "DROP TRIGGER audit_access_log_no_update",
            "DROP TRIGGER audit_access_log_no_delete",
        )
    else:
        sql(store_url, "DROP TRIGGER audit_access_log_append_only ON audit_access_log")


def filled(store_url: str, rows: int = 5, key: str | None = None) -> AccessLog:
    log = AccessLog(connect(store_url), key)
    for n in range(1, rows + 1):
        log.record(access(n))
    return log


def test_an_untouched_trail_verifies(store_url: str) -> None:
    result = filled(store_url).verify()
    assert result.ok and result.rows == 5


@pytest.mark.parametrize(
    ("tamper", "named"),
    [
        ("UPDATE audit_access_log SET outcome = 'denied' WHERE id = 3", "access trail row 3"),
        ("UPDATE audit_access_log SET actor = 'x' WHERE id = 5", "access trail row 5"),
        ("DELETE FROM audit_access_log WHERE id = 2", "row 3: does not match"),
    ],
)
def test_an_edit_or_deletion_by_sql_is_named(store_url: str, tamper: str, named: str) -> None:
    log = filled(store_url)
    drop_triggers(store_url)
    sql(store_url, tamper)
    result = log.verify()
    assert not result.ok
    assert named in str(result.first())
    if "DELETE" in tamper:
        assert "no row between 1 and 3" in str(result.first())


def test_a_row_inserted_around_the_service_is_named(store_url: str) -> None:
    log = filled(store_url, rows=2)
    sql(
        store_url,
        "INSERT INTO audit_access_log (at, actor, role, channel, source, action, patient_id,"
        " detail, outcome) VALUES ('2026-05-01T12:00:09.000000+00:00', 'x', 'admin', 'cli',"
        " 'h', 'history.read', 'p-1', '', 'ok')",
    )
    log.record(access(9))
    first = log.verify().first()
    assert first is not None and first.row == 3 and "no chain hash" in first.reason


def test_concurrent_writers_do_not_fork_the_chain(store_url: str) -> None:
    logs = [AccessLog(connect(store_url)) for _ in range(4)]
    start = threading.Barrier(len(logs))

    def write(log: AccessLog, k: int) -> None:
        start.wait()
        for n in range(25):
            log.record(access(n, actor=f"writer-{k}"))

    threads = [threading.Thread(target=write, args=(log, k)) for k, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = logs[0].verify()
    assert result.rows == 100 and result.ok, result.first()


@pytest.mark.parametrize("key", [None, KEY])
def test_a_trail_written_by_main_is_migrated(store_url: str, key: str | None) -> None:
    kind = "sqlite" if store_url.startswith("sqlite") else "postgres"
    sql(store_url, *LEGACY[kind])
    insert = (
        "INSERT INTO audit_access_log (at, actor, role, channel, source, action, patient_id,"
        " detail, outcome) VALUES ('2026-05-01T10:00:0{n}.000000+00:00', 'dr-a', 'cli', 'cli',"
        " 'me@host', 'journey.read', 'p-legacy', 'as_of=None', 'ok')"
    )
    sql(store_url, *(insert.format(n=n) for n in range(3)))
    log = AccessLog(connect(store_url), key)
    log.record(access(1))
    result = log.verify()
    assert result.ok and result.rows == 4, result.first()
    assert [a.patient_id for a in log.query(patient_id="p-legacy")] == ["p-legacy"] * 3
    stored = dump(store_url)
    assert ("p-legacy" in stored) == (key is None)
    with pytest.raises(Exception, match="append-only"):
        sql(store_url, "UPDATE audit_access_log SET actor = 'x'")


def dump(store_url: str) -> str:
    with raw(store_url) as (conn, _, _):
        return repr(conn.execute("SELECT * FROM audit_access_log").fetchall())


def test_with_a_key_no_patient_id_is_stored_in_clear(store_url: str) -> None:
    log = filled(store_url, rows=3, key=KEY)
    log.record(access(4, patient_id="p-2"))
    stored = dump(store_url)
    assert "p-1" not in stored and "p-2" not in stored and "known_at" not in stored
    expected_ref = pseudonym(derive_key(KEY, "access-trail.pseudonym"), "p-2")
    assert expected_ref in stored
    mine = log.query(patient_id="p-2")
    assert [(a.patient_id, a.detail) for a in mine] == [("p-2", "known_at=None n=4")]
    assert log.verify().ok
    keyless: list[Any] = AccessLog(connect(store_url)).query()
    assert {(a.patient_id, a.detail) for a in keyless} == {(None, SEALED_DETAIL)}


def test_the_pseudonym_function_is_hmac_sha256_of_a_derived_key() -> None:
    import hashlib
    import hmac

    master = bytes(range(32))
    key = derive_key(base64.b64encode(master).decode(), "access-trail.pseudonym")
    assert key == hmac.new(master, b"care-journey:access-trail.pseudonym", "sha256").digest()
    expected = "ps_" + hmac.new(key, b"patient|p-1", hashlib.sha256).hexdigest()[:32]
    assert pseudonym(key, "p-1") == expected
    assert derive_key(KEY, "a") != derive_key(KEY, "b")
