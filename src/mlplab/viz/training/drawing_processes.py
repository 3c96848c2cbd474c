"""The processes that draw a run's figures, so that both cores draw and none waits for Python to start.

Why processes: matplotlib draws in Python, one figure at a time, on one core; a machine with two
cores draws twice as fast with two processes. Why *started early*: a new Python process needs about
a second to import NumPy, matplotlib and mlplab and to load its fonts. ``mlplab train`` starts the
processes when training starts (:func:`drawing_for_training`): the training loop uses one core (one
BLAS thread, :mod:`mlplab.train.threads`), so the processes get ready on the other one while the
network trains, and when the run ends they only draw.

Processes that are ready take the figures one unit at a time, the costliest first (:func:`job_units`):
whichever is free draws the next, so a figure that costs more than :data:`COST` says delays nobody.
Processes started only when the drawing starts get a share fixed in advance (:func:`split_jobs`),
since this process draws too while they start. Each draws with the same code as a single process
would (:func:`mlplab.viz.training.run_figures.draw_run`). The figures
that need only the run's configuration (:data:`AT_START`: the gradient check of the untrained
network) are handed to them when training starts (:class:`DrawWhileTraining`), and are done
before it ends.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplab.train.observers import Observer, TrainingState

#: Drawing cost of each job in CPU-seconds (measured on the default run's figures at 150 dpi, each in a
#: fresh drawing process after it got ready, mean of four; ``benchmarks/bench_figures.py`` measures
#: them in a warm one): the order in which the processes take them, the costliest first.
COST = {"gradcheck": 1.0, "predictions": 0.6, "confusion": 0.45, "layer_health": 0.4, "hidden_units_animation": 0.4,
        "accuracy": 0.25, "architecture": 0.25, "activations": 0.2, "loss": 0.2, "gradient_flow": 0.15,
        "mistakes": 0.15, "hidden_units": 0.1}
#: Figures that need only the run's configuration, not its training: drawn while it trains.
AT_START = ("gradcheck",)
#: Figures drawn from one forward pass of the test set (``RunData.probabilities``): one process draws them.
SAME_PROCESS = (("confusion", "mistakes", "predictions"),)
#: A process started when the drawing starts (not early) first spends this long getting ready.
PROCESS_START = 1.2
#: How far a drawing process steps back behind the training (``nice``: 0 is normal, 19 the lowest).
NICENESS = 10
#: Idle cores needed for a second process (one for this process, one for it; a little noise allowed).
IDLE_FOR_TWO = 1.5
#: Below this much drawing (CPU-seconds) a second process costs more than it saves.
PARALLEL_ABOVE = 2.0


def cost(job: str) -> float:
    return COST.get(job, 0.3)


@dataclass(frozen=True)
class CpuSample:
    """The machine's CPU counters (``/proc/stat``, ``None`` where there is none) and this process's
    own CPU time, at one moment: the start of a measurement of :func:`idle_cores`."""

    machine: list[int] | None
    own: float
    wall: float


def cpu_sample() -> CpuSample:
    try:
        machine = _cpu_times()
    except (OSError, ValueError, IndexError):
        machine = None
    return CpuSample(machine, time.process_time(), time.perf_counter())


def idle_cores(seconds: float = 0.1, *, since: CpuSample | None = None) -> float:
    """How many cores no other program used: since ``since`` (e.g. while this process loaded the
    data: its own work is not counted), else over the next ``seconds`` while this process sleeps.
    Linux: ``/proc/stat``; elsewhere, this process's cores minus the 1-minute load average.

    Measured now rather than read from the load average: that average trails the machine by a minute,
    so right after a busy minute it would say "busy" on a machine that has since gone quiet. Measured
    over something this process had to do anyway (loading the data), it costs no waiting; a window
    shorter than ``seconds`` is topped up by sleeping, so that a few clock ticks do not decide.
    """
    before = since if since is not None else cpu_sample()
    remaining = seconds - (time.perf_counter() - before.wall)
    if remaining > 0:
        time.sleep(remaining)
    after = cpu_sample()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if before.machine is None or after.machine is None:
        return cores - (os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0)
    total = sum(after.machine) - sum(before.machine)
    idle = (after.machine[3] + after.machine[4]) - (before.machine[3] + before.machine[4])  # idle + iowait
    own = (after.own - before.own) * os.sysconf("SC_CLK_TCK")  # this process's work, in clock ticks
    return cores * min(idle + own, total) / total if total > 0 else float(cores)


def _cpu_times() -> list[int]:
    """The first line of ``/proc/stat``: user, nice, system, idle, iowait, … in clock ticks, all cores."""
    with open("/proc/stat", encoding="ascii") as f:
        return [int(v) for v in f.readline().split()[1:]]


def default_workers(jobs: Sequence[str]) -> int:
    """Two processes for a full set of figures when two cores are idle, else one.

    A second process only pays when it runs on a core nobody else is using: on a machine already
    busy the two processes would just share the same cores.
    """
    if sum(cost(j) for j in jobs) <= PARALLEL_ABOVE:
        return 1
    return 2 if idle_cores() >= IDLE_FOR_TWO else 1


def job_units(jobs: Sequence[str]) -> list[list[str]]:
    """``jobs`` as the units one process draws: each job alone, except those of a :data:`SAME_PROCESS`
    bundle, which stay together; the most expensive unit first."""
    units = [[j for j in bundle if j in jobs] for bundle in SAME_PROCESS]
    units = [u for u in units if u] + [[j] for j in jobs if not any(j in b for b in SAME_PROCESS)]
    return sorted(units, key=lambda u: -sum(cost(j) for j in u))


def split_jobs(jobs: Sequence[str], loads: Sequence[float]) -> list[list[str]]:
    """Share ``jobs`` between processes that are already busy for ``loads`` seconds (``[0.0, 1.2]``:
    this process and one still starting): the most expensive first, each to the process that would
    finish it soonest. Jobs in one :data:`SAME_PROCESS` bundle stay together. One list per process."""
    finish = list(loads)
    groups: list[list[str]] = [[] for _ in finish]
    for unit in job_units(jobs):
        i = min(range(len(finish)), key=lambda g: finish[g] + sum(cost(j) for j in unit))
        groups[i] += unit
        finish[i] += sum(cost(j) for j in unit)
    return groups


class DrawingProcesses:
    """``n`` spawned processes with one BLAS thread each, that import what drawing needs as they start.

    Spawned, not forked: a fresh interpreter holds no copy of this process's threads or locks (the
    web app's server threads). One BLAS thread: two processes on two cores, not four threads
    fighting over them. Use as a context manager, or call :meth:`shutdown`.
    """

    def __init__(self, n: int) -> None:
        from mlplab.sweep.local import ONE_THREAD, environment

        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n = n
        with environment({**ONE_THREAD, "MPLBACKEND": "agg"}):  # a spawned child copies them at birth
            self._pool = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_process)
            # one task per process starts all n now, inside the environment; none waits for another
            self._ready = [self._pool.submit(_cpu_seconds) for _ in range(n)]

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future:
        return self._pool.submit(fn, *args)

    def ready_cpu_seconds(self) -> float:
        """CPU seconds the processes spent getting ready (waits until they are)."""
        return sum(f.result() for f in self._ready)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DrawingProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def drawing_for_training(since: CpuSample | None = None) -> DrawingProcesses | None:
    """The processes that will draw a run's figures, started now, as training starts; ``None`` when
    there is no core for them beside the training's (then the figures are drawn after the run).
    ``since``: measure the machine from then (see :func:`idle_cores`)."""
    if idle_cores(since=since) < IDLE_FOR_TWO:
        return None
    return DrawingProcesses(2)


class DrawWhileTraining(Observer):
    """When training starts, hands ``processes`` the figures of :data:`AT_START`; ``future`` then
    holds what they drew, for :func:`~mlplab.viz.training.run_figures.draw_run` to collect at the end."""

    def __init__(self, processes: DrawingProcesses, theme: str, formats: Sequence[str]) -> None:
        self.processes, self.theme, self.formats = processes, theme, tuple(formats)
        self.future: Future | None = None

    def on_start(self, state: TrainingState) -> None:
        if state.run_dir is None:
            return
        from mlplab.viz.theme import current_dpi  # the caller's --dpi: a spawned process does not inherit it
        from mlplab.viz.training.run_figures import draw_at_start, read_test_set

        self.future = self.processes.submit(draw_at_start, Path(state.run_dir), self.theme, self.formats,
                                            current_dpi())
        for _ in range(self.processes.n - 1):  # the others read the test set now, not when the run ends
            self.processes.submit(read_test_set, Path(state.run_dir))


def _cpu_seconds() -> float:
    """This process's CPU time so far: what getting ready cost it."""
    return time.process_time()


def _start_process() -> None:
    """Each drawing process's first act: step back (:data:`NICENESS`), then get ready.

    While the network trains, two processes getting ready and the gradient check beside it make three
    busy processes on two cores; at a lower priority they take what the training loop leaves and do
    not slow it down. When the run has ended nothing else competes, and they draw at full speed.
    """
    os.nice(NICENESS)
    atexit.register(_exit_without_teardown)
    _get_ready()


def _exit_without_teardown() -> None:
    """A drawing process's last act: leave without taking its modules apart.

    By then it has written its figures and handed back their paths, and it holds nothing else. A
    normal exit would first dismantle matplotlib, NumPy and Pillow object by object: 0.15 s
    (measured) that ``mlplab train`` would wait for at its very end, before the prompt returns.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _get_ready() -> None:
    """In each new process: import the drawing code and draw one small figure with a piece of every
    kind the run's figures have (an image with a colour bar, a log axis with a second x-axis, an
    inset, bars, the symbols of the titles), so that the code, the fonts and matplotlib's caches are
    loaded before the first real figure is asked for, not while the user waits for it."""
    import matplotlib.pyplot as plt
    import numpy as np

    import mlplab.viz.diagnose  # noqa: F401 - the layer-health figures, imported now rather than later
    import mlplab.viz.training.run_figures  # noqa: F401
    from mlplab.viz.theme import figure_bytes, theme_context

    with theme_context("dark"):
        fig, (image_ax, log_ax, bar_ax) = plt.subplots(1, 3, figsize=(4, 1.5), layout="constrained")
        image = image_ax.imshow(np.eye(3), cmap="magma", interpolation="nearest")
        fig.colorbar(image, ax=image_ax).set_label("share")
        image_ax.text(0, 0, "1", ha="center", va="center", fontweight="bold")
        log_ax.plot([1, 10, 100], [1e-3, 1e-1, 1], "-o", label="warm-up")
        log_ax.set_yscale("log")
        log_ax.secondary_xaxis("top").set_xlabel("epoch")
        log_ax.inset_axes((0.5, 0.1, 0.4, 0.4)).plot([0, 1], [1, 0])
        log_ax.legend()
        log_ax.annotate("train 94.84%", (10, 0.1), xytext=(0, 4), textcoords="offset points")
        bar_ax.bar(range(3), [0.1, 0.7, 0.2], color=["C0", "C1", "C2"])
        bar_ax.set_title("✓ ✗ → ‖∇W‖ λ·σ", fontsize=10)
        fig.suptitle("warm-up", fontsize=12)
        figure_bytes(fig, "png", dpi=72)  # the way the figures are saved
        plt.close(fig)
