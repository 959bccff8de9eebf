"""`journey show` of a patient with 1,000 events, in-process: load the history from SQLite
and fold it with the journey projection (target: under 50 ms).

Run: .venv/bin/python -m benchmarks.bench_show
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import percentile, timed
from benchmarks.histories import load_patients
from interfaces.bootstrap import build_application
from journey.settings import Settings
from projections.queries import patient_journey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-show-')) / 'show.db'}"
    (pid,) = load_patients(build_application(Settings(database_url=url)), "show", 1, args.events)
    app = build_application(Settings(database_url=url))  # a fresh process's view
    view, first = timed(lambda: patient_journey(app, pid))
    samples = [timed(lambda: patient_journey(app, pid))[1] * 1000 for _ in range(args.runs)]
    print(
        f"patient with {args.events} events, {len(view.weeks)} weeks, "
        f"{view.days_in_care} days in care"
    )
    print(
        f"first call {first * 1000:.1f} ms; median {statistics.median(samples):.1f} ms, "
        f"p95 {percentile(samples, 0.95):.1f} ms, max {max(samples):.1f} ms over {args.runs} runs"
    )


if __name__ == "__main__":
    main()
