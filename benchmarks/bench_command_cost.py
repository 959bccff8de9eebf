"""The cost of one command does not grow with the patient's history: commands per second
on patients with 1,000 prior events next to patients with 10, in the same run (SQLite).

Run: .venv/bin/python -m benchmarks.bench_command_cost
"""

from __future__ import annotations

import argparse
import statistics
from datetime import timedelta

from benchmarks.common import timed, work_dir
from benchmarks.long_histories import START, _cmd, load_patients
from config.settings import Settings
from journey.application import JourneyApplication
from services.bootstrap import build_application


def rate(app: JourneyApplication, ids: list[str], commands: int, round_no: int) -> float:
    """Single-command `handle` calls (one transaction each), round robin over patients."""
    batch = [
        _cmd(
            "record_session",
            ids[n % len(ids)],
            session_id=f"r{round_no}-{n}",
            format="individual",
            approach="cbt",
            duration_minutes=50,
            occurred_at=START + timedelta(days=1, minutes=n),
        )
        for n in range(commands)
    ]

    def run() -> None:
        for command in batch:
            app.handle(command)

    _, seconds = timed(run)
    return commands / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--commands", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    db = work_dir("bench-cost-") / "cost.db"
    app = build_application(Settings(database_url=f"sqlite:///{db}"))
    groups = {size: load_patients(app, f"h{size}", args.patients, size) for size in (10, 1_000)}
    rates: dict[int, list[float]] = {10: [], 1_000: []}
    for round_no in range(args.rounds):  # interleaved, so drift hits both alike
        for size, ids in groups.items():
            rates[size].append(rate(app, ids, args.commands, round_no * 10 + size))
    print(
        f"{args.commands} record_session commands per round, {args.rounds} rounds, "
        f"{args.patients} patients per group, one transaction per command"
    )
    for size, samples in rates.items():
        print(
            f"prior events {size:>5}: median {statistics.median(samples):>8,.0f} commands/s "
            f"(rounds: {', '.join(f'{s:,.0f}' for s in samples)})"
        )
    ratio = statistics.median(rates[1_000]) / statistics.median(rates[10])
    print(f"1,000-event patients at {ratio:.1%} of 10-event patients (target >= 90%)")


if __name__ == "__main__":
    main()
