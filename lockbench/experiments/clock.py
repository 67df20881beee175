"""Wall and CPU seconds per step of a long command (demo, experiments), printed as it goes."""

from __future__ import annotations

import resource
import time


class Clock:
    """Wall and CPU seconds per step, printed as the demo goes."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.rows: list[tuple[str, float, float]] = []
        self.reused: set[str] = set()  # titles of steps that reused an earlier run's output

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime

    def step(self, title: str):
        clock = self

        class _Step:
            def reuse(self) -> None:
                """Say the step's output came from an earlier run (its time is not in this one)."""
                clock.reused.add(title)

            def __enter__(self):
                print(f"\n== {title}", flush=True)
                self.t0, self.c0 = time.perf_counter(), clock._cpu()
                return self

            def __exit__(self, *exc):
                wall, cpu = time.perf_counter() - self.t0, clock._cpu() - self.c0
                clock.rows.append((title, wall, cpu))
                if exc[0] is None:
                    print(f"   done in {wall:.0f} s (CPU {cpu:.0f} s)", flush=True)
                return False

        return _Step()
