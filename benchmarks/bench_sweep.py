"""Benchmark: sweep throughput on this machine, and what going through Dask costs per run.

1. Throughput, in runs per minute, of a 12-run sweep of the textbook job (784-50-10 sigmoid, SGD,
   batch 100, 10000 iterations, full MNIST; 4 learning rates × 3 seeds), run three ways:

   - ``sequential``: one ``train()`` after another in this process, NumPy's BLAS with its default
     thread count (what twelve ``mlplab train`` commands would do, minus starting Python);
   - ``--workers 1``: the sweep's own pool with one worker (one BLAS thread);
   - ``--workers 2``: two workers, one BLAS thread each.

   The ratio ``--workers 2`` / ``sequential`` is the issue's number; ``--workers 2`` / ``--workers 1``
   separates parallelism from the BLAS-thread effect.

2. Per-run overhead of a Dask cluster of 2 local worker processes (``LocalCluster``, one thread
   each, already started and warm) against the plain local processes, on tiny runs where overhead
   dominates: wall time per run for N runs both ways. The local pool starts its workers inside
   every sweep; that start-up (a sweep of 2 tiny runs) is measured separately and shown both ways.
   Each is measured 3 times, alternating, and the best time kept: other programs only slow a run.

Usage: ``python benchmarks/bench_sweep.py [--quick] [--only throughput|dask]`` (``--quick``: 1000
iterations per run and 12 tiny runs instead of 10000 and 24; a few minutes instead of ~10 on 2 idle
cores — much longer on a busy machine, where the sequential baseline suffers most).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from mlplab.sweep import SweepSpace, plan_runs, run_sweep
from mlplab.train import TrainConfig, train


def textbook_runs(iters: int):
    """12 runs of the textbook job: lr 0.05, 0.1, 0.5, 1 × seeds 0, 1, 2."""
    return plan_runs(SweepSpace(values={"lr": (0.05, 0.1, 0.5, 1.0)}, seeds=(0, 1, 2), base=TrainConfig(iters=iters)))


def tiny_runs(n: int):
    """``n`` runs of 50 iterations on 1000 images: a few tens of milliseconds of training each."""
    return plan_runs(SweepSpace(values={"lr": tuple(0.1 + k / 100 for k in range(n))},
                                base=TrainConfig(iters=50, train_size=1000, test_size=500, eval_every=25)))


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def sequential(runs, out: Path) -> None:
    for run in runs:
        train(run.config, run_dir=out / run.name)


def throughput(iters: int, root: Path) -> None:
    runs = textbook_runs(iters)
    print(f"1. throughput: {len(runs)} runs of the textbook job, {iters} iterations each, on {os.cpu_count()} cores")
    rates = {}
    for folder, label, go in (
        ("sequential", "sequential (this process, default BLAS threads)", lambda out: sequential(runs, out)),
        ("workers1", "--workers 1 (one BLAS thread)", lambda out: run_sweep(runs, out, workers=1)),
        ("workers2", "--workers 2 (one BLAS thread each)", lambda out: run_sweep(runs, out, workers=2)),
    ):
        seconds, _ = timed(go, root / folder)
        rates[label] = 60 * len(runs) / seconds
        print(f"   {label:<50} {seconds:7.1f} s   {rates[label]:6.2f} runs/minute", flush=True)
    seq, one, two = rates.values()
    print(f"   ratio --workers 2 / sequential:  {two / seq:.2f}x")
    print(f"   ratio --workers 2 / --workers 1: {two / one:.2f}x  (parallelism alone)")


def dask_overhead(n: int, root: Path, repeat: int = 3) -> None:
    from dask.distributed import Client, LocalCluster

    runs = tiny_runs(n)
    print(f"2. per-run overhead: {n} tiny runs (50 iterations on 1000 images), 2 workers, best of {repeat}")
    cluster_start, (cluster, client) = timed(
        lambda: (c := LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None),
                 Client(c)))
    startup = local = on_dask = float("inf")
    try:
        run_sweep(tiny_runs(2), root / "warm", client=client)  # workers import mlplab and load MNIST once
        for k in range(repeat):  # alternate, so that a busy moment slows both ways alike
            startup = min(startup, timed(run_sweep, tiny_runs(2), root / f"startup{k}", workers=2)[0])
            seconds, result = timed(run_sweep, runs, root / f"local{k}", workers=2)
            local = min(local, seconds)
            on_dask = min(on_dask, timed(run_sweep, runs, root / f"dask{k}", client=client)[0])
    finally:
        client.close()
        cluster.close()
    training = statistics.fmean(r["seconds"] for r in result.rows)
    print(f"   training loop per run (mean):                  {1000 * training:7.1f} ms")
    print(f"   local processes, start-up of 2 workers:          {startup:7.2f} s once per sweep")
    print(f"   local processes, per run incl. start-up:        {1000 * local / n:7.1f} ms")
    print(f"   local processes, per run after start-up:        {1000 * (local - startup) / n:7.1f} ms")
    print(f"   Dask LocalCluster (started in {cluster_start:.1f} s, warm), per run: {1000 * on_dask / n:7.1f} ms")
    print(f"   Dask overhead per run vs local after start-up:  {1000 * (on_dask - (local - startup)) / n:+7.1f} ms")
    print(f"   Dask overhead per run vs local incl. start-up:  {1000 * (on_dask - local) / n:+7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 iterations per run and 12 tiny runs")
    parser.add_argument("--only", choices=("throughput", "dask"), help="run one of the two parts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        if args.only != "dask":
            throughput(1000 if args.quick else 10_000, Path(tmp))
        if args.only != "throughput":
            dask_overhead(12 if args.quick else 24, Path(tmp))


if __name__ == "__main__":  # the sweep's workers are spawned: they re-import this file
    main()
