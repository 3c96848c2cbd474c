"""Run jobs in parallel worker processes on this machine, each with a one-thread BLAS.

Each worker is a :class:`concurrent.futures.ProcessPoolExecutor` of one process, started with
``spawn`` (a fresh interpreter: no copy of this process's threads, locks or loaded NumPy).

Why one BLAS thread per worker: NumPy's matrix products use every core by default. Two workers
that each start two BLAS threads on a 2-core machine fight over the cores and both slow down;
two workers with one thread each keep both cores busy with no switching. OpenBLAS reads
``OPENBLAS_NUM_THREADS`` when NumPy loads it and starts its helper threads then. threadpoolctl can
lower the count later (the trainer does, for every run: :mod:`mlplab.train.threads`), and a step
then takes the same time, but the helpers already started stay in the process, idle (measured by
``python benchmarks/bench_sweep.py --only blas``). So a worker is born with :data:`ONE_THREAD` in
its environment, and OpenBLAS starts no helper at all.

Why one executor per worker, rather than one executor of ``workers`` processes: when a process of
an executor is killed (out of memory, ``kill -9``) the whole executor breaks. Every job it holds
fails with ``BrokenProcessPool``, those running on its healthy processes and those still waiting
too, and nothing says which job was on the dead one: we would have to run the jobs that were
running again, the suspects one at a time, to find the culprit. With an executor per worker, the
broken executor held exactly one job: that job fails, with the signal as its reason, a fresh
executor takes the worker's place, and the other runs never notice.

What the standard library cannot do, and is done here by hand:

- say how a worker died: ``BrokenProcessPool`` carries no exit code, so we keep each worker's
  :class:`multiprocessing.Process` (found by its pid in :func:`multiprocessing.active_children`)
  and read its ``exitcode``;
- stop a job halfway (``shutdown`` waits for running jobs; Python 3.14 adds ``terminate_workers``):
  on Ctrl-C we terminate the busy workers' processes ourselves, so the sweep stops at once;
- end the workers when the sweep's own process is killed: each worker watches for that itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from mlplab.sweep.job import RunJob, RunOutcome, one_line, run_job

#: The environment every local worker starts with: one BLAS/OpenMP thread.
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

JobRunner = Callable[[RunJob], RunOutcome]


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the ``with`` block only (a spawned child copies them at birth)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _worker_start() -> None:
    """Run first in every worker.

    Ctrl-C reaches the whole terminal's process group, but it is the sweep's to handle (it stops the
    workers): a worker that raised KeyboardInterrupt would only print a traceback and break its
    executor. And a worker ends with the sweep's process even when that is killed (``kill -9``), which
    no executor notices: an idle worker would otherwise wait for jobs forever.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, daemon=True, name="exit-with-the-sweep").start()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()  # spawn gives it a pipe that closes when the sweep's process ends
    if parent is not None:
        parent.join()
        os._exit(1)


@dataclass
class _Worker:
    """One worker: its one-process executor, that process (to read how it died) and its current job."""

    executor: ProcessPoolExecutor
    process: BaseProcess | None = None
    job: RunJob | None = None
    future: Future | None = None


def _start_workers(n: int, pool: list[_Worker]) -> None:
    """Add ``n`` started workers to ``pool`` (added first, so that Ctrl-C meanwhile stops them too)."""
    new = [_Worker(ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_worker_start)) for _ in range(n)]
    pool += new
    # The environment is held until each worker has answered, so every process was born inside it,
    # whenever and from whichever thread its executor started it.
    with environment(ONE_THREAD):
        answers = [worker.executor.submit(os.getpid) for worker in new]
        try:
            pids = [answer.result() for answer in answers]
        except BrokenProcessPool:
            raise RuntimeError("a sweep worker process stopped while starting (its error, if any, is printed "
                               "above); no run can be trained until that is fixed.") from None
    children = {process.pid: process for process in multiprocessing.active_children()}
    for worker, pid in zip(new, pids, strict=True):
        worker.process = children.get(pid)  # None only if it died already: its reason will be vaguer


def death_reason(exitcode: int | None) -> str:
    """``-9`` → ``"the worker process was killed by SIGKILL …"``."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
        return f"the worker process {how} while training this run (out of memory?); the run did not finish."
    how = "stopped" if exitcode is None else f"exited with code {exitcode}"
    return f"the worker process {how} while training this run (its error is printed above); the run did not finish."


def run_local(
    jobs: Iterable[RunJob],
    on_outcome: Callable[[RunOutcome], None],
    *,
    workers: int,
    runner: JobRunner = run_job,
) -> None:
    """Run every job in up to ``workers`` processes, calling ``on_outcome`` (in this process) as each ends.

    ``runner`` must be a module-level function (it is pickled by name into the workers).
    A worker that dies fails only the job it was running; a fresh one takes its place.
    On any exception here (Ctrl-C included) the workers are stopped before it propagates.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    pending = deque(jobs)
    pool: list[_Worker] = []
    try:
        _start_workers(min(workers, len(pending)), pool)  # never more workers than jobs
        while True:
            for worker in pool:  # hand a job to every idle worker
                if worker.future is None and pending:
                    worker.job = pending.popleft()
                    worker.future = worker.executor.submit(runner, worker.job)
            busy = {worker.future: worker for worker in pool if worker.future is not None}
            if not busy:
                return
            done, _ = wait(busy, return_when=FIRST_COMPLETED)
            for future in done:
                worker = busy[future]
                job, worker.job, worker.future = worker.job, None, None
                try:
                    outcome = future.result()
                except BrokenProcessPool:  # its process died: this job, and only this one, is lost
                    worker.executor.shutdown()  # returns at once: the broken executor has reaped its process
                    pool.remove(worker)
                    exitcode = worker.process.exitcode if worker.process is not None else None
                    outcome = RunOutcome(job.name, "failed", reason=death_reason(exitcode))
                    if pending:
                        _start_workers(1, pool)
                except Exception as exc:  # noqa: BLE001 - a runner that raised fails its job, not the sweep
                    outcome = RunOutcome(job.name, "failed", reason=one_line(exc))
                on_outcome(outcome)
    finally:
        _stop(pool)


def _stop(pool: list[_Worker]) -> None:
    """Terminate busy workers (an interrupted sweep), then let every executor finish."""
    busy = [worker.process for worker in pool if worker.future is not None and worker.process is not None]
    for process in busy:
        process.terminate()
    for process in busy:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    for worker in pool:
        worker.executor.shutdown(cancel_futures=True)  # idle workers are asked to exit; all are joined
