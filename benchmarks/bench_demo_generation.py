"""Prints how fast the demo cohort generator produces commands (not a test: no assertion).

Usage: python benchmarks/bench_demo_generation.py [patients]   (default 20,000)"""

from __future__ import annotations

import sys
import time
from datetime import date

from devtools.demo.cohort import generate_cohort


def main(patients: int = 20_000) -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate_cohort(patients, until=date(2026, 3, 1)))
    elapsed = time.perf_counter() - started
    print(
        f"{patients:,} patients -> {count:,} commands ({count / patients:.1f} per patient)"
        f" in {elapsed:.2f} s: {count / elapsed:,.0f} commands/s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
