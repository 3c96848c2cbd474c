"""Benchmark: what recording layer statistics costs on the textbook run (issue: at most +10 %).

In one process, alternating so that a busy machine slows both alike, it runs the default job
(``TrainConfig(seed=0)``: 10000 iterations, 18 evaluations) into a run folder ``--repeat`` times with
``record_layer_stats=True`` and as many with ``False``, and compares the best (smallest) wall times
of the whole ``train()`` call, the JSON writing included. It also times the recorder's own hooks
directly, which is less noisy than a difference of two long runs.

Usage: ``python benchmarks/bench_diagnose_overhead.py [--repeat 3] [--iters 10000]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from mlplab.train import TrainConfig, load_dataset, train
from mlplab.train import layer_stats as ls


class HookTimer:
    """Wraps the recorder's hooks to add up the time spent inside them."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.originals = {}

    def __enter__(self) -> HookTimer:
        for name in ("__init__", "on_start", "on_iteration", "on_evaluation", "on_end"):
            original = getattr(ls.LayerStatsRecorder, name)
            self.originals[name] = original

            def timed(*args, _f=original, **kwargs):
                t = time.perf_counter()
                try:
                    return _f(*args, **kwargs)
                finally:
                    self.seconds += time.perf_counter() - t

            setattr(ls.LayerStatsRecorder, name, timed)
        return self

    def __exit__(self, *exc) -> None:
        for name, original in self.originals.items():
            setattr(ls.LayerStatsRecorder, name, original)


def one_run(config: TrainConfig, data, folder: Path, record: bool) -> tuple[float, float]:
    """Wall time and CPU time (all threads of this process) of one ``train()`` call."""
    wall, cpu = time.perf_counter(), time.process_time()
    train(config, data=data, run_dir=folder, record_layer_stats=record)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iters", type=int, default=10_000)
    args = parser.parse_args()
    config = TrainConfig(seed=0, iters=args.iters)
    data = load_dataset(config)  # loaded once, outside the timings
    with_stats, without = [], []  # (wall, cpu) pairs
    hook_seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            without.append(one_run(config, data, Path(tmp) / f"off{k}", record=False))
            with HookTimer() as timer:
                with_stats.append(one_run(config, data, Path(tmp) / f"on{k}", record=True))
            hook_seconds.append(timer.seconds)
            print(f"round {k + 1}: without {without[-1][0]:.2f} s (cpu {without[-1][1]:.2f} s), "
                  f"with {with_stats[-1][0]:.2f} s (cpu {with_stats[-1][1]:.2f} s), "
                  f"recorder hooks {timer.seconds * 1000:.0f} ms")
        size = (Path(tmp) / "on0" / ls.LAYER_STATS).stat().st_size
    for i, kind in enumerate(("wall", "cpu")):
        best_off, best_on = min(r[i] for r in without), min(r[i] for r in with_stats)
        print(f"best of {args.repeat} ({kind} time): without {best_off:.2f} s, with {best_on:.2f} s, "
              f"ratio {best_on / best_off:.3f} ({(best_on / best_off - 1) * 100:+.1f} %)")
    best_off = min(r[0] for r in without)
    print(f"recorder hooks: {min(hook_seconds) * 1000:.0f} ms = {min(hook_seconds) / best_off * 100:.1f} % "
          f"of the best run without it; {ls.LAYER_STATS}: {size / 1024:.0f} kB")
    print("On a busy machine the wall-time ratio is noise; the hook time is measured inside the run.")


if __name__ == "__main__":
    main()
