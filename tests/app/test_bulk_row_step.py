"""The compiled row step (`services/bulk/_rowstep.c`) writes a recorded session's chain hash
and stored state exactly as the Python step (`SessionLines._written`, orjson) does, or
declines (None) and leaves it to Python: compared to the byte on generated values (texts of
any character, instants in any offset, with and without microseconds, with and without a
recording principal). It is built wherever a C compiler is, so that these tests and every
bulk import test run it; tests/app/test_bulk_session_lines.py compares whole imports with the
reference path on top."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from config.settings import Settings
from journey.application import JourneyApplication
from journey.patient import Patient
from journey.session_batch import Event, SessionDecisions
from services.bootstrap import build_application
from services.bulk import session_lines
from services.bulk.rows import RowEncoder

step = session_lines.compiled_step
WHOLE = [  # UTC offsets of whole minutes, written by the step
    timedelta(0),
    timedelta(hours=-7),
    timedelta(hours=5, minutes=30),
    timedelta(hours=-12, minutes=-45),
    timedelta(hours=14),
]
ODD_OFFSETS = [timedelta(seconds=30), timedelta(hours=-3, seconds=-1)]  # declined by the step
ZONES = st.sampled_from([UTC, *(timezone(o) for o in WHOLE * 4 + ODD_OFFSETS)])
INSTANTS = st.datetimes(
    min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30), timezones=ZONES
)
PLAIN = st.from_regex(r"[A-Za-z0-9 ._:/-]{0,24}", fullmatch=True)  # written by the step
ODD = st.text(max_size=40) | st.sampled_from(['quote"d', "back\\slash", "tab\t", "é", "\x7f"])


def _mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """`common` 19 times in 20, so that most examples are written by the step."""
    return st.sampled_from([True] * 19 + [False]).flatmap(lambda c: common if c else rare)


TEXTS = _mostly(PLAIN, ODD)
MINUTES = _mostly(st.integers(1, 720), st.integers(-(2**63), 2**64 - 1))  # orjson's range


@pytest.fixture(scope="module")
def sqlite_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JourneyApplication]:
    """A plain SQLite store's application (its mapper and instants' transcoding)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('row-step') / 'store.db'}"
    application = build_application(Settings(database_url=url))
    yield application
    application.close()


def _lines(application: Any) -> session_lines.SessionLines:
    sessions = SessionDecisions(datetime.now(UTC), None, application.earliest_occurred_at)
    return session_lines.SessionLines(sessions, RowEncoder(application.mapper), None)


def _patient(patient_id: str, chain_head: str) -> Patient:
    patient = Patient.__new__(Patient)
    Patient.__init__(patient)
    patient._id = patient_id  # what `id` reads
    patient.chain_head = chain_head
    return patient


def test_the_compiled_step_is_built_where_a_c_compiler_and_openssl_are() -> None:
    headers = [Path(p) / "openssl" / "sha.h" for p in ("/usr/include", "/usr/local/include")]
    if shutil.which("cc") is None or not any(h.exists() for h in headers):
        pytest.skip("no C compiler or OpenSSL headers here: the import writes in Python")
    assert step is not None, "services/bulk/_rowstep.c was not built: pip install -e . again"


@pytest.mark.skipif(step is None, reason="the compiled step is not built here")
@settings(max_examples=400, deadline=None)
@given(
    at=INSTANTS,
    timestamp=INSTANTS,
    actor=st.none() | TEXTS,
    by=st.none() | TEXTS,
    clinician=st.none() | TEXTS,
    texts=st.tuples(TEXTS, TEXTS, TEXTS, TEXTS, TEXTS, TEXTS),
    minutes=MINUTES,
    version=st.integers(1, 10**6),
)
def test_the_compiled_step_writes_the_bytes_python_writes_or_declines(
    *,
    sqlite_app: Any,
    at: datetime,
    timestamp: datetime,
    actor: str | None,
    by: str | None,
    clinician: str | None,
    texts: tuple[str, str, str, str, str, str],
    minutes: int,
    version: int,
) -> None:
    lines = _lines(sqlite_app)
    form, status, approach, delivery, session_id, patient_id = texts
    head = "0" * 64
    patient = _patient(patient_id, head)
    at_utc, timestamp_utc = at.astimezone(UTC), timestamp.astimezone(UTC)
    assert step is not None
    made = step(
        head, patient_id, version, by, actor, approach, clinician, delivery, minutes, form,
        session_id, status, at, at_utc, timestamp, timestamp_utc, lines.instants[0],
    )  # fmt: skip
    named: dict[str, Any] = {"version": version, "by": by, "actor": actor, "form": form}
    named |= {"status": status}
    named |= {"approach": approach, "minutes": minutes, "delivery": delivery, "at": at}
    named |= {"clinician": clinician, "session_id": session_id, "at_utc": at_utc}
    expected = lines._written(patient, timestamp=timestamp, timestamp_utc=timestamp_utc, **named)
    event("written by the compiled step" if made is not None else "declined")
    if made is not None:
        assert made == expected
    else:  # declined: only for what it does not write as orjson does
        values = [actor, by, clinician, *texts]
        plain = all(
            v is None or (v.isascii() and all(" " <= c < "\x7f" and c not in '"\\' for c in v))
            for v in values
        )
        whole = all(
            (i.utcoffset() or timedelta(0)) % timedelta(minutes=1) == timedelta(0)
            for i in (at, timestamp)
        )
        assert not (plain and whole and abs(minutes) < 2**63), (values, at, timestamp, minutes)


@pytest.mark.skipif(step is None, reason="the compiled step is not built here")
def test_the_compiled_step_declines_what_python_must_write(sqlite_app: Any) -> None:
    at = datetime(2026, 5, 6, 18, 0, tzinfo=timezone(timedelta(hours=-7)))
    name = _lines(sqlite_app).instants[0]

    def made(**change: Any) -> Any:
        values = {
            "head": "0" * 64, "patient_id": "p-1", "version": 2, "by": None, "actor": "a",
            "approach": "cbt", "clinician": None, "delivery": "video", "minutes": 60,
            "form": "individual", "session_id": "s-1", "status": "attended", "at": at,
            "at_utc": at.astimezone(UTC), "timestamp": Event.create_timestamp(),
        }  # fmt: skip
        values.update(change)
        values["timestamp_utc"] = values["timestamp"]
        assert step is not None
        return step(*values.values(), name)

    class Text(str):
        pass

    assert made() is not None
    assert made(actor='a"b') is None
    assert made(actor="é") is None
    assert made(actor=Text("a")) is None
    assert made(minutes=True) is None  # an int subclass: orjson writes true
    assert made(at=at.replace(tzinfo=None)) is None
    assert made(at=at.replace(tzinfo=timezone(timedelta(seconds=-1)))) is None
    assert made(head="é" * 64) is None


def test_without_a_c_compiler_the_build_goes_on_without_the_step(tmp_path: Path) -> None:
    """setup.py's extension is optional: a compiler that fails leaves no step behind and
    the build succeeds (so `pip install` and `make run` work on a bare machine)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--build-lib", str(tmp_path / "lib"),
         "--build-temp", str(tmp_path / "tmp")],
        cwd=root, env={**os.environ, "CC": "/bin/false", "LDSHARED": "/bin/false"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "lib").rglob("_rowstep*"))
    assert "_rowstep" in done.stderr  # the failure is named, not hidden
