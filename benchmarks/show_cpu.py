"""CPU time of the process (`process_time`) and wall time per cold `patient_journey` of a
1,000-event patient, beside its limit (a fresh `sqlite3` connection, the patient's rows,
`json.loads` of each) measured in turn in the same run: the before/after comparison of
issue 14's show row on any tree, since it uses only what every version has.

Run, from the repository root, on this tree or on another one (e.g. main):
    PYTHONPATH=$PWD .venv/bin/python benchmarks/show_cpu.py --runs 30
    PYTHONPATH=/work/main .venv/bin/python benchmarks/show_cpu.py --runs 30
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import work_dir
from benchmarks.long_histories import load_patients
from config.settings import Settings
from projections.queries import patient_journey
from services.bootstrap import build_application

ROWS = "SELECT state FROM stored_events WHERE originator_id = ? ORDER BY originator_version"


def limit(path: Path, patient_id: str) -> list[Any]:
    with sqlite3.connect(path) as connection:
        states = [row[0] for row in connection.execute(ROWS, (patient_id,))]
    connection.close()
    return [json.loads(state) for state in states]


def measured(action: Callable[[], object], cpu: list[float], wall: list[float]) -> None:
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    action()
    cpu.append((time.process_time() - start_cpu) * 1000)
    wall.append((time.perf_counter() - start_wall) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--events", type=int, default=1_000)
    args = parser.parse_args()
    path = work_dir("show-cpu-") / "show.db"
    settings = Settings(database_url=f"sqlite:///{path}")
    (patient_id,) = load_patients(build_application(settings), "show", 1, args.events)
    show_cpu: list[float] = []
    show_wall: list[float] = []
    limit_cpu: list[float] = []
    limit_wall: list[float] = []
    for _ in range(args.runs):  # in turn, so a busy machine slows both alike
        measured(lambda: limit(path, patient_id), limit_cpu, limit_wall)
        app = build_application(settings)
        measured(lambda app=app: patient_journey(app, patient_id), show_cpu, show_wall)  # type: ignore[misc]
        app.close()
    median = statistics.median
    print(
        f"cold show: CPU median {median(show_cpu):.1f} ms (min {min(show_cpu):.1f}), "
        f"wall median {median(show_wall):.1f} ms; limit: CPU median {median(limit_cpu):.1f} ms "
        f"(min {min(limit_cpu):.1f}), wall median {median(limit_wall):.1f} ms; show / limit: "
        f"CPU {median(show_cpu) / median(limit_cpu):.2f} x, "
        f"wall {median(show_wall) / median(limit_wall):.2f} x"
    )


if __name__ == "__main__":
    main()
