"""A fixed CPU reference for benchmark reports: this machine's speed drifts by half between runs
(shared host), so each report says how fast plain Python ran while it was measured."""

from __future__ import annotations

import statistics
import time


def python_loop_s(steps: int = 10_000_000, repeats: int = 3) -> float:
    """Median seconds of a plain ``for`` loop adding ``steps`` integers (about 0.6–1.5 s here)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        total = 0
        for i in range(steps):
            total += i
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
