"""`journey show` of a patient with 1,000 events, in-process: load the history from SQLite
and fold it with the journey projection (target: cold median under 20 ms, issue 14).

Cold: the first read in a process (a fresh application: decode every stored row; the
journey is folded from the stored rows, projections/stored_journey.py, and the run stops
if it was not). Warm: a long-running server (what the first read kept of the patient;
only new rows are read). Each figure is given in wall time and in CPU time of the reading
thread (`thread_time`) and of the process (`process_time`), less sensitive to other
processes on a busy machine than wall time.
Limit: in the same run, the same patient's stored rows read with plain `sqlite3` (a fresh
connection, one query) and `json.loads` of each state; on the encrypted store also the
unwrapping of the patient's data key and the AES-GCM decryption of each row (one cipher
object). Both a plain store and an encrypted one (per-patient keys) are measured.

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.bench_show
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sqlite3
import statistics
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from benchmarks.common import percentile, timed, work_dir
from benchmarks.long_histories import load_patients
from config.settings import Settings
from infrastructure import keys
from projections.queries import patient_journey
from services.bootstrap import build_application

ROWS = "SELECT state FROM stored_events WHERE originator_id = ? ORDER BY originator_version"
KEY = "SELECT wrapped FROM journey_keys WHERE patient_id = ?"


def raw_read(path: str, patient_id: str, master: bytes | None) -> int:
    """The physical limit: the patient's rows with sqlite3 and json.loads (decrypted first
    on an encrypted store); returns the number of events read."""
    with sqlite3.connect(path) as connection:
        states = [row[0] for row in connection.execute(ROWS, (patient_id,))]
        if master is not None:
            (wrapped,) = connection.execute(KEY, (patient_id,)).fetchone()
    connection.close()
    if master is not None:
        aead, associated = AESGCM(keys.unwrap(master, patient_id, wrapped)), patient_id.encode()
        skip = len(keys.PATIENT_FORMAT)
        states = [aead.decrypt(s[skip : skip + 12], s[skip + 28 :] + s[skip + 12 : skip + 28],
                               associated) for s in states]  # fmt: skip
    return len([json.loads(s) for s in states])


def measure(events: int, cold_runs: int, warm_runs: int, *, encrypted: bool) -> None:
    path = work_dir("bench-show-") / "show.db"
    cipher_key = base64.b64encode(os.urandom(32)).decode() if encrypted else None
    settings = Settings(database_url=f"sqlite:///{path}", cipher_key=cipher_key)
    (pid,) = load_patients(build_application(settings), "show", 1, events)
    master = keys.parse_master_key(cipher_key)
    cold, raw, cold_cpu, raw_cpu, cold_proc, raw_proc = [], [], [], [], [], []
    for _ in range(cold_runs):  # interleaved, so a busy machine slows both alike
        cpu, proc = time.thread_time(), time.process_time()
        count, seconds = timed(lambda: raw_read(str(path), pid, master))
        raw_cpu.append((time.thread_time() - cpu) * 1000)
        raw_proc.append((time.process_time() - proc) * 1000)
        assert count == events, count
        raw.append(seconds * 1000)
        fresh = build_application(settings)
        cpu, proc = time.thread_time(), time.process_time()
        view, seconds = timed(lambda app=fresh: patient_journey(app, pid))  # type: ignore[misc]
        cold_cpu.append((time.thread_time() - cpu) * 1000)
        cold_proc.append((time.process_time() - proc) * 1000)
        cold.append(seconds * 1000)
        fresh.folds.get(pid)  # KeyError: the journey was not folded from the stored rows
        fresh.close()
    app = build_application(settings)
    patient_journey(app, pid)
    warm = [timed(lambda: patient_journey(app, pid))[1] * 1000 for _ in range(warm_runs)]
    app.close()
    store = "encrypted (per-patient AES-GCM keys)" if encrypted else "plain (not encrypted)"
    print(
        f"{store} store: patient with {events} events, {len(view.weeks)} weeks, "
        f"{view.days_in_care} days in care"
    )
    for label, samples in (
        ("limit: sqlite3 + json.loads" + (" + decrypt" if encrypted else ""), raw),
        ("cold (first read in a process)", cold),
        ("limit, CPU time of the thread", raw_cpu),
        ("cold, CPU time of the thread", cold_cpu),
        ("limit, CPU time of the process", raw_proc),
        ("cold, CPU time of the process", cold_proc),
        ("warm (server)", warm),
    ):
        print(
            f"  {label:<42} median {statistics.median(samples):6.1f} ms, "
            f"p95 {percentile(samples, 0.95):6.1f} ms over {len(samples)} runs"
        )
    ratio = statistics.median(cold) / statistics.median(raw)
    cpu_ratio = statistics.median(cold_cpu) / statistics.median(raw_cpu)
    print(f"  cold median = {ratio:.1f} x the limit's median ({cpu_ratio:.1f} x in CPU time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--cold-runs", type=int, default=15)
    parser.add_argument("--runs", type=int, default=50, help="warm runs")
    parser.add_argument("--store", choices=("plain", "encrypted", "both"), default="both")
    args = parser.parse_args()
    for encrypted in (False, True):
        if args.store in ("both", "encrypted" if encrypted else "plain"):
            measure(args.events, args.cold_runs, args.runs, encrypted=encrypted)


if __name__ == "__main__":
    main()
