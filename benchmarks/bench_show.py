"""`journey show` of a patient with 1,000 events, in-process: load the history from SQLite
and fold it with the journey projection (target: under 50 ms).

Cold: the first read in a process (a fresh application: decode every stored event).
Warm: a long-running server (the patient's envelopes are kept; only new events are read).

Run: .venv/bin/python -m benchmarks.bench_show
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import percentile, timed
from benchmarks.long_histories import load_patients
from config.settings import Settings
from projections.queries import patient_journey
from services.bootstrap import build_application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-show-')) / 'show.db'}"
    settings = Settings(database_url=url)
    (pid,) = load_patients(build_application(settings), "show", 1, args.events)
    cold = []
    for _ in range(max(5, args.runs // 5)):
        fresh = build_application(settings)
        view, seconds = timed(lambda app=fresh: patient_journey(app, pid))  # type: ignore[misc]
        cold.append(seconds * 1000)
        fresh.close()
    app = build_application(settings)
    patient_journey(app, pid)
    warm = [timed(lambda: patient_journey(app, pid))[1] * 1000 for _ in range(args.runs)]
    print(
        f"patient with {args.events} events, {len(view.weeks)} weeks, "
        f"{view.days_in_care} days in care"
    )
    for label, samples in (("cold (first read in a process)", cold), ("warm (server)", warm)):
        print(
            f"{label:<32} median {statistics.median(samples):6.1f} ms, "
            f"p95 {percentile(samples, 0.95):6.1f} ms over {len(samples)} runs"
        )


if __name__ == "__main__":
    main()
