"""Timing of the relay's steps and of its garbage collections, for bench_relay's
`--trace-relay` (never installed in the service: bench_relay puts this directory first on
the relay subprocess's PYTHONPATH, so Python imports it at start).

Only in a `journey relay` process, and only when JOURNEY_BENCH_RELAY_TRACE names the file
to write at exit: each step of the relay and each part of it (prepare, anchor head,
summaries, send, confirm) is timed, and each collection by generation (gc callbacks). With
JOURNEY_BENCH_RELAY_NO_FREEZE=1 the relay's `gc.freeze()` is a no-op (the comparison)."""

from __future__ import annotations

import atexit
import gc
import os
import sys
import time
from collections.abc import Callable
from typing import Any

OUT = os.environ.get("JOURNEY_BENCH_RELAY_TRACE")
Timings = dict[str, list[float]]


def timed(timings: Timings, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            timings.setdefault(name, []).append((time.perf_counter() - began) * 1000)

    return run


def collections(timings: Timings) -> None:
    began = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            elapsed = (time.perf_counter() - began[0]) * 1000
            timings.setdefault(f"gc generation {info['generation']}", []).append(elapsed)

    gc.callbacks.append(callback)


def summary(timings: Timings) -> str:
    lines = [f"{'relay, ms':<28}{'count':>7}{'total':>9}{'p50':>8}{'p99':>8}{'max':>8}"]
    for name, values in timings.items():
        ordered = sorted(values)
        p50, p99 = ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.99)]
        lines.append(
            f"{name:<28}{len(ordered):>7}{sum(ordered):>9.0f}{p50:>8.2f}{p99:>8.1f}{ordered[-1]:>8.1f}"
        )
    lines.append(f"objects tracked at exit {len(gc.get_objects())}, frozen {gc.get_freeze_count()}")
    return "\n".join(lines) + "\n"


def install(out: str) -> None:
    from publishing import publisher, relay, relay_heads, relay_worker  # only in a relay

    timings: Timings = {}
    for owner, name, label in (
        (relay.Relay, "step", "step (0: caught up)"),
        (relay_worker.InlinePreparer, "prepare", "  prepare, inline"),
        (relay_heads.HeadKeeper, "next_head", "  anchor head"),
        (relay_worker.Prepared, "rest", "  summaries (inline: after the events' send)"),
        (publisher.Publisher, "send", "  send (twice: events, then the rest)"),
        (publisher.Publisher, "confirm", "  confirm (flush, acks)"),
    ):
        setattr(owner, name, timed(timings, label, getattr(owner, name)))
    collections(timings)
    if os.environ.get("JOURNEY_BENCH_RELAY_NO_FREEZE") == "1":
        gc.freeze = lambda: None

    def write() -> None:
        with open(out, "w", encoding="utf-8") as file:
            file.write(summary(timings))

    atexit.register(write)


if OUT and "relay" in sys.orig_argv:
    install(OUT)
