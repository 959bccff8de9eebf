"""What preparing the relay's batches costs per event, part by part, with no broker: the
figures behind docs/benchmarks.md's "relay/raw" paragraph (sixth pass).

The benchmark's cohort (`bench_relay --commands N`, patients interleaved) is stored, then
each part runs over its pages as the relay's worker runs it, timed in process time, best of
`--rounds`: reading and decoding the pages (`LogReader.page`), the event records
(`relay_batch.event_outgoing`) and the summaries (`relay_batch.state_outgoing`).

Run: PYTHONPATH=$PWD .venv/bin/python -m benchmarks.relay_prep_cost [--commands 20000]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from benchmarks.bench_relay import stored_cohort
from benchmarks.common import work_dir
from config.settings import Settings
from consumers.log_reader import LogReader
from publishing.history_cache import HistoryCache
from publishing.relay_batch import event_outgoing, state_outgoing
from publishing.relay_worker import WORKER_GC_THRESHOLD
from publishing.topics import TopicNames

TOPICS = TopicNames()


def best_cpu(action: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.process_time()
        action()
        best = min(best, time.process_time() - began)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(database_url=f"sqlite:///{work_dir('prep-cost-')}/t.db")
    app, stored = stored_cohort(settings, args.commands)
    gc.freeze()  # as the relay's preparing worker sets its collector after its start
    gc.set_threshold(WORKER_GC_THRESHOLD, 10, 10)
    reader = LogReader(app, batch=args.batch_size)
    pages = list(reader.pages(1))
    events = sum(len(page.events) for page in pages)

    def summaries() -> int:
        histories = HistoryCache(lambda patient_id, version: [], max_patients=10**9)
        return sum(len(state_outgoing(page, histories, TOPICS)) for page in pages)

    parts = {
        "read and decode the pages": lambda: list(reader.pages(1)),
        "event records": lambda: [event_outgoing(page, TOPICS) for page in pages],
        f"summaries ({summaries()} of them)": summaries,
    }
    print(f"{stored} events stored, {len(pages)} pages of {args.batch_size}")
    print(f"process time per event, best of {args.rounds}:")
    total = 0.0
    for name, action in parts.items():
        cost = best_cpu(action, args.rounds) / events * 1e6
        total += cost
        print(f"  {name:<32}{cost:7.1f} µs")
    print(f"  {'all three':<32}{total:7.1f} µs")
    app.close()


if __name__ == "__main__":
    main()
