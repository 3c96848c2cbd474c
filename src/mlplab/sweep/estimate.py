"""How long a sweep will take, estimated before running it (``mlplab sweep --plan``).

A run's time is its iterations plus its evaluations::

    seconds ≈ iters × (one training step) + evaluations × (one forward pass over train + test sets)

Both costs are measured, not guessed: for each distinct network shape and batch size we time a
few real training steps and a forward pass on random data of the right shape (milliseconds each),
on one BLAS thread as the sweep's workers and the trainer run them, keeping the fastest of three
tries (other programs only ever make a timing slower). The steps are timed in this process, with
the BLAS threads lowered by threadpoolctl for the while: that gives the same step times as a worker
process born with one thread, without the second or so it takes to start one (measured by
``python benchmarks/bench_sweep.py --only blas``, here vs in a worker: 0.272 vs 0.273 ms per
784-50-10 step of batch 100, 0.553 vs 0.542 ms for 784-100-100-10, 34.8 vs 35.1 ms for 784-1000-10
with batch 1000). The sweep's wall time then follows by handing runs, in plan order, to the first
free worker — exactly what the sweep will do.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Sequence

import numpy as np

from mlplab.nn.networks import build_network
from mlplab.optim import make_optimizer
from mlplab.train.config import TrainConfig
from mlplab.train.threads import blas_threads

MNIST_SIZES = (60_000, 10_000)  # training and test images, when not cut by train_size / test_size
N_FEATURES, N_CLASSES = 784, 10
STARTUP_SECONDS = 0.3  # per run: loading and converting the data set in a warm worker


def step_seconds(config: TrainConfig, steps: int = 5, tries: int = 3) -> tuple[float, float]:
    """``(seconds per training step, seconds per forward pass of one row)`` for this config's shape,
    on one BLAS thread, as every run is trained."""
    with blas_threads(1):
        rng = np.random.default_rng(0)
        dtype = np.dtype(config.dtype)
        network = build_network((N_FEATURES, *config.hidden, N_CLASSES), activation=config.activation,
                                weight_init_std=0.01, seed=0, dtype=dtype)
        optimizer = make_optimizer(config.optimizer, config.lr, **config.optimizer_options)
        x = rng.random((config.batch_size, N_FEATURES)).astype(dtype)  # (B, 784)
        t = rng.integers(0, N_CLASSES, size=config.batch_size)
        rows = rng.random((1000, N_FEATURES)).astype(dtype)  # (1000, 784)
        optimizer.update(network.params, network.gradient(x, t))  # warm up caches and the optimizer state
        per_step = per_row = float("inf")
        for _ in range(tries):
            start = time.perf_counter()
            for _ in range(steps):
                optimizer.update(network.params, network.gradient(x, t))
            per_step = min(per_step, (time.perf_counter() - start) / steps)
            start = time.perf_counter()
            network.predict(rows)
            per_row = min(per_row, (time.perf_counter() - start) / rows.shape[0])
    return per_step, per_row


def run_seconds(config: TrainConfig, per_step: float, per_row: float) -> float:
    """Estimated wall time of one run from the measured step and per-row costs."""
    n_train = min(config.train_size or MNIST_SIZES[0], MNIST_SIZES[0])
    n_test = min(config.test_size or MNIST_SIZES[1], MNIST_SIZES[1])
    eval_every = config.eval_every or max(n_train // config.batch_size, 1)
    evaluations = -(-config.iters // eval_every)  # after iterations 0, eval_every, … below iters
    return STARTUP_SECONDS + config.iters * per_step + evaluations * (n_train + n_test) * per_row


def estimate_runs(configs: Sequence[TrainConfig]) -> list[float]:
    """Estimated seconds of each run; each distinct shape is timed once."""
    timings: dict[tuple, tuple[float, float]] = {}
    out = []
    for config in configs:
        key = (config.hidden, config.batch_size, config.activation, config.dtype, config.optimizer)
        if key not in timings:
            timings[key] = step_seconds(config)
        out.append(run_seconds(config, *timings[key]))
    return out


def wall_seconds(run_seconds: Sequence[float], workers: int) -> float:
    """Finishing time when runs go, in order, to whichever of ``workers`` is free first."""
    free_at = [0.0] * max(workers, 1)
    for seconds in run_seconds:
        heapq.heappush(free_at, heapq.heappop(free_at) + seconds)
    return max(free_at)
