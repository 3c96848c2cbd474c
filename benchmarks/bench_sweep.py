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

3. One BLAS thread (``--only blas``, about a minute). First, how a worker gets it: born with
   ``ONE_THREAD`` in its environment (the sweep's way), or lowered by threadpoolctl in the executor's
   initializer after NumPy has loaded OpenBLAS with its default count, or neither: the threads each
   BLAS library uses, the threads Python did not start (OpenBLAS's helpers), and the time of a
   training step. Second, whether ``--plan`` may time steps in its own process inside
   ``blas_threads(1)`` rather than in a one-thread worker: the same steps timed both ways.
   Best of 5, alternating.

Usage: ``python benchmarks/bench_sweep.py [--quick] [--only throughput|dask|blas]`` (``--quick``: 1000
iterations per run and 12 tiny runs instead of 10000 and 24; a few minutes instead of ~10 on 2 idle
cores — much longer on a busy machine, where the sequential baseline suffers most).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from mlplab.sweep import ONE_THREAD, SweepSpace, plan_runs, run_sweep
from mlplab.sweep.estimate import step_seconds
from mlplab.sweep.local import environment
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


#: Networks whose steps are timed in part 3: the textbook's, a deeper one, and one with big products.
BLAS_CONFIGS = {"784-50-10, batch 100": TrainConfig(), "784-100-100-10, batch 100": TrainConfig(hidden=(100, 100)),
                "784-1000-10, batch 1000": TrainConfig(hidden=(1000,), batch_size=1000)}


def _lower_blas_threads() -> None:
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")  # for the rest of the process


def _blas_state() -> str:
    from threadpoolctl import threadpool_info

    with open("/proc/self/status") as status:
        threads = next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
    uses = ", ".join(f"{lib['internal_api']} {lib['num_threads']}" for lib in threadpool_info())
    return f"BLAS threads: {uses}; threads not started by Python: {threads - threading.active_count()}"


def _steps() -> list[float]:
    return [step_seconds(config)[0] for config in BLAS_CONFIGS.values()]


def one_thread(repeat: int = 5) -> None:
    print(f"3. one BLAS thread per worker (ms per training step, best of {repeat})")
    spawn = multiprocessing.get_context("spawn")
    workers = {}
    for label, env, initializer in (("born with ONE_THREAD", ONE_THREAD, None),
                                    ("threadpoolctl initializer", {}, _lower_blas_threads),
                                    ("neither", {}, None)):
        with environment(env):
            workers[label] = ProcessPoolExecutor(1, mp_context=spawn, initializer=initializer)
            workers[label].submit(int).result()  # its process is born now, in this environment
    try:
        for label, worker in workers.items():
            print(f"   worker {label:<27} {worker.submit(_blas_state).result()}")
        ways = {"in this process, blas_threads(1)": _steps,
                "worker born with ONE_THREAD": lambda: workers["born with ONE_THREAD"].submit(_steps).result(),
                "worker, threadpoolctl initializer": lambda: workers["threadpoolctl initializer"].submit(_steps)
                .result()}
        best = {label: [float("inf")] * len(BLAS_CONFIGS) for label in ways}
        for _ in range(repeat):  # alternate, so that a busy moment slows every way alike
            for label, steps in ways.items():
                best[label] = [min(a, b) for a, b in zip(best[label], steps(), strict=True)]
        print(f"   {'':<36}" + "".join(f"{name:>28}" for name in BLAS_CONFIGS))
        for label, seconds in best.items():
            print(f"   {label:<36}" + "".join(f"{1000 * s:28.3f}" for s in seconds))
    finally:
        for worker in workers.values():
            worker.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1000 iterations per run and 12 tiny runs")
    parser.add_argument("--only", choices=("throughput", "dask", "blas"), help="run one of the three parts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        if args.only in (None, "throughput"):
            throughput(1000 if args.quick else 10_000, Path(tmp))
        if args.only in (None, "dask"):
            dask_overhead(12 if args.quick else 24, Path(tmp))
        if args.only in (None, "blas"):
            one_thread()


if __name__ == "__main__":  # the sweep's workers are spawned: they re-import this file
    main()
