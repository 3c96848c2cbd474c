"""What a run costs, estimated *before* anything is allocated, and the limits every interface shares.

``mlplab train --hidden 10000000`` would otherwise allocate until the machine runs out of memory, and
``mlplab sweep --seeds 1000000000`` would build a billion-item plan first. So each interface — the
CLI's ``train``, ``gradcheck`` and ``sweep`` and the web app's Train page — asks this module first,
and this module alone says how much is too much:

- :func:`training_memory` adds up the arrays a run holds at once (shapes below, ``P`` parameters,
  ``B`` the batch size, ``S`` the layer sizes after the input, ``itemsize`` 4 for float32)::

      parameters, gradients, optimizer state   P × itemsize × (2 + slots)   (Adam keeps m and v: 2 slots)
      snapshot and ΔW copies                   P × (2 + itemsize)           (float16 snapshot, layer-stats copy)
      a mini-batch's activations               B × (784 + 4 ΣS) × itemsize  (the batch, affine out, activation
                                                                             out and their two gradients)
      the evaluation chunk                     min(10 000, N) × 2 ΣS × itemsize
      the data set                             (60 000 + 10 000) × 784 × (itemsize + 1)  (float + cached bytes)

  and :func:`check_memory` refuses a run above what the machine has available
  (``MemAvailable`` in ``/proc/meminfo``, else ``os.sysconf``), saying both numbers;
- a run that fits but would take years (``--iters 10**12``) is allowed — Ctrl-C keeps it —
  and :func:`training_seconds` lets the CLI say how long it would take;
- :func:`check_gradcheck` bounds the numerical gradient (two forward passes per parameter);
- :func:`check_sweep_size` bounds the number of runs of a sweep, counted before any list is built.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.networks import EVAL_CHUNK
from mlplab.train.config import TrainConfig

#: MNIST's shape: what a run loads unless ``--data-dir`` says otherwise.
MNIST_ROWS = (60_000, 10_000)
MNIST_FEATURES, MNIST_CLASSES = 784, 10

#: Arrays each optimizer keeps per parameter (its ``state()``): velocity, squared sums, moments.
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}

#: Runs in one sweep: each is a folder with a model and figures; 10 000 is already days of training.
MAX_SWEEP_RUNS = 10_000

#: The numerical gradient of ``gradcheck`` may take this long before it is refused.
MAX_GRADCHECK_SECONDS = 3600.0
#: A forward pass of a few rows: fixed Python overhead plus matrix products at a fast single-core
#: rate (measured here: 784-50-10 checks in 2.5 s, 784-200-10 in 23 s). Errs on the fast side.
PASS_SECONDS, FLOPS_PER_SECOND = 25e-6, 2e10

#: A Python float in a list (8-byte pointer + 24-byte object): what ``History.loss`` grows by each step.
HISTORY_BYTES_PER_ITERATION = 32


@dataclass(frozen=True)
class MemoryEstimate:
    """The bytes a computation needs, by part (``{"the data set": 219_520_000, …}``)."""

    parts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.parts.values())

    def largest(self) -> str:
        """The parts that matter (≥ 10 % of the total), largest first: ``parameters … 118.3 GiB, …``."""
        big = sorted((v, k) for k, v in self.parts.items() if v >= 0.1 * self.total)
        return ", ".join(f"{k} {format_bytes(v)}" for v, k in reversed(big))


def format_bytes(n: float) -> str:
    """``1536`` → ``1.5 KiB``; ``3 * 2**40`` → ``3.0 TiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"  # pragma: no cover - the loop always returns


def format_seconds(seconds: float) -> str:
    """``42 s``, ``12 minutes``, ``3.5 hours``, ``44 days``, ``31,700 years``."""
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:,.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds:.0f} s"


def available_memory() -> int | None:
    """Bytes the machine can give a new computation now, or ``None`` when it cannot be told.

    Linux's ``MemAvailable`` counts free memory plus caches it can drop — or less, inside a container
    whose cgroup allows less (``memory.max − memory.current``); elsewhere the free pages
    (``SC_AVPHYS_PAGES``), or at least the physical memory (``SC_PHYS_PAGES``, macOS).
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024  # the file counts in kB
                    return min(available, _cgroup_room() or available)
    except (OSError, ValueError, IndexError):
        pass
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return int(os.sysconf(pages)) * int(os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            continue
    return None


def _cgroup_room(root: str = "/sys/fs/cgroup") -> int | None:
    """Bytes this container may still allocate (cgroup v2), or ``None`` without a limit."""
    try:
        limit = Path(root, "memory.max").read_text(encoding="ascii").strip()
        used = int(Path(root, "memory.current").read_text(encoding="ascii"))
        return max(int(limit) - used, 0) if limit != "max" else None
    except (OSError, ValueError):
        return None


def layer_sizes(config: TrainConfig, n_features: int = MNIST_FEATURES, n_classes: int = MNIST_CLASSES) -> tuple:
    return (n_features, *config.hidden, max(n_classes, 2))


def parameter_count(sizes: Sequence[int]) -> int:
    """``W`` and ``b`` of every affine layer: ``Σ (fan_in × fan_out + fan_out)``; 39 760 for 784-50-10."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def training_memory(config: TrainConfig, *, n_features: int = MNIST_FEATURES, n_classes: int = MNIST_CLASSES,
                    rows: tuple[int, int] = MNIST_ROWS, include_data: bool = True) -> MemoryEstimate:
    """The bytes a run of ``config`` holds at once (see the module's table); Python ints, no overflow."""
    sizes = layer_sizes(config, n_features, n_classes)
    itemsize = np.dtype(config.dtype).itemsize
    n_params, widths = parameter_count(sizes), sum(sizes[1:])
    slots = OPTIMIZER_SLOTS.get(config.optimizer, 2)
    n_train = min(config.train_size or rows[0], rows[0])
    parts = {
        "parameters, gradients and optimizer state": n_params * itemsize * (2 + slots),
        "snapshot and ΔW copies": n_params * (2 + itemsize),
        f"a batch of {config.batch_size:,}": config.batch_size * (8 + (n_features + 4 * widths) * itemsize),
        "the evaluation chunk": min(EVAL_CHUNK, n_train) * 2 * widths * itemsize,
    }
    if include_data:
        parts["the data set"] = sum(rows) * n_features * (itemsize + 1)
    return MemoryEstimate(parts)


def check_memory(estimate: MemoryEstimate, what: str, fix: str, *, copies: int = 1) -> None:
    """Refuse (:class:`ConfigError`) when ``copies × estimate`` is more than the machine has available."""
    available = available_memory()
    need = estimate.total * copies
    if available is None or need <= available:
        return
    each = f" ({copies} at once, each {format_bytes(estimate.total)}: {estimate.largest()})" if copies > 1 \
        else f" ({estimate.largest()})"
    raise ConfigError(f"{what} needs about {format_bytes(need)} of memory{each} but only "
                      f"{format_bytes(available)} is available; {fix}.")


def check_training(config: TrainConfig, **shape) -> MemoryEstimate:
    """Refuse a run that cannot fit in memory; ``shape`` as for :func:`training_memory`."""
    estimate = training_memory(config, **shape)
    hidden = ",".join(str(h) for h in config.hidden)
    check_memory(estimate, f"a run with hidden {hidden} and batch size {config.batch_size:,}",
                 "use fewer hidden units (--hidden) or a smaller --batch-size")
    return estimate


def training_flops(config: TrainConfig, n_features: int = MNIST_FEATURES, n_classes: int = MNIST_CLASSES) -> int:
    """Multiply-adds × 2 of one training step: forward 2·B·ΣW, backward twice that."""
    sizes = layer_sizes(config, n_features, n_classes)
    return 6 * config.batch_size * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def quick_training_seconds(config: TrainConfig) -> float:
    """A quick estimate of the training loop's time from its FLOPs (nothing is run), to skip measuring
    runs that are clearly short. Not a bound either way: a batch of 100 multiplies faster than
    :data:`FLOPS_PER_SECOND` (the default run: 12.2 s estimated, ≈ 5 s measured), a pass of a few rows
    through a wide layer is slower (memory-bound: 7.7 GFLOP/s measured for 3 rows through 784-20000-10);
    so ``mlplab train`` measures the steps before it prints a duration (``duration_note``)."""
    return config.iters * (PASS_SECONDS + training_flops(config) / FLOPS_PER_SECOND)


def growth_bytes(config: TrainConfig, n_train: int = MNIST_ROWS[0]) -> int:
    """What the run adds as it goes: a loss per iteration, a float16 snapshot per evaluation."""
    eval_every = config.eval_every or max(min(config.train_size or n_train, n_train) // config.batch_size, 1)
    evaluations = -(-config.iters // eval_every)
    return config.iters * HISTORY_BYTES_PER_ITERATION + evaluations * parameter_count(layer_sizes(config)) * 2


def gradcheck_seconds(sizes: Sequence[int], samples: int) -> float:
    """The numerical gradient's time: two forward passes of ``samples`` rows for every parameter."""
    flops = 2 * samples * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))
    return 2 * parameter_count(sizes) * (PASS_SECONDS + flops / FLOPS_PER_SECOND)


def check_gradcheck(sizes: Sequence[int], samples: int) -> None:
    """Refuse a gradient check that cannot fit in memory or would take more than an hour."""
    n_params = parameter_count(sizes)
    hidden = ",".join(str(s) for s in sizes[1:-1])
    # float64: the parameters, the numerical gradient, backprop's gradient, its copy and |difference|
    estimate = MemoryEstimate({"parameters and gradients": 5 * 8 * n_params,
                               "the data set": sum(MNIST_ROWS) * sizes[0] * 5})
    check_memory(estimate, f"gradcheck --hidden {hidden}", "check a smaller network such as --hidden 50")
    seconds = gradcheck_seconds(sizes, samples)
    if seconds > MAX_GRADCHECK_SECONDS:
        raise ConfigError(
            f"gradcheck --hidden {hidden} would take at least {format_seconds(seconds)}: the numerical gradient "
            f"runs 2 forward passes for each of the {n_params:,} parameters; check a smaller network such as "
            "--hidden 50 (backprop is the same code at any width)."
        )


def sweep_size(n_configurations: int, n_seeds: int) -> int:
    """Runs of a sweep, refused above :data:`MAX_SWEEP_RUNS` before any list of them is built."""
    n_runs = n_configurations * n_seeds
    if n_runs > MAX_SWEEP_RUNS:
        raise ConfigError(
            f"this sweep has {n_configurations:,} configuration{'s' if n_configurations != 1 else ''} × "
            f"{n_seeds:,} seed{'s' if n_seeds != 1 else ''} = {n_runs:,} runs; at most {MAX_SWEEP_RUNS:,} are "
            "allowed in one sweep; use fewer values, --seeds or --random."
        )
    return n_runs


def check_sweep_memory(configs: Sequence[TrainConfig], workers: int) -> None:
    """Refuse a sweep whose largest run, times the runs at once, cannot fit in memory."""
    if not configs:
        return
    largest = max(configs, key=lambda c: training_memory(c).total)
    estimate = training_memory(largest)
    n = max(min(workers, len(configs)), 1)
    check_memory(estimate, f"this sweep's largest run (hidden {','.join(map(str, largest.hidden))}, batch size "
                           f"{largest.batch_size:,})", "use smaller networks, or fewer --workers", copies=n)
