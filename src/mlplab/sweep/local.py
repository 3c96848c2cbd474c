"""Run jobs in parallel worker processes on this machine, each with a one-thread BLAS.

Why one BLAS thread per worker: NumPy's matrix products use every core by default. Two workers
that each start two BLAS threads on a 2-core machine fight over the cores and both slow down;
two workers with one thread each keep both cores busy with no switching. The thread count is read
by OpenBLAS/MKL/OpenMP *when NumPy is imported*, so it must be in the environment a worker
process is born with: workers are started with the ``spawn`` method (a fresh interpreter, no
inherited NumPy) while :data:`ONE_THREAD` is in the environment.

Why not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers is killed (out of
memory, ``kill -9``) the whole pool breaks and every pending job fails with it, and it cannot say
which job killed the worker. Here each worker has its own pipe, so a dead worker fails exactly the
job it was running (with the signal as the reason), a fresh worker takes its place, and the sweep
goes on.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from mlplab.sweep.job import RunJob, RunOutcome, run_job

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


def _worker_main(conn: Connection, runner: JobRunner) -> None:
    """A worker's life: receive a job, run it, send the outcome back; ``None`` means stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops us
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send(runner(job))


@dataclass
class _Worker:
    process: Any  # multiprocessing.Process (spawn context)
    conn: Connection
    job: RunJob | None = None


def _start_worker(runner: JobRunner) -> _Worker:
    ctx = multiprocessing.get_context("spawn")
    parent_end, child_end = ctx.Pipe()
    process = ctx.Process(target=_worker_main, args=(child_end, runner), daemon=True, name="mlplab-sweep-worker")
    with environment(ONE_THREAD):
        process.start()
    child_end.close()
    return _Worker(process, parent_end)


def death_reason(exitcode: int | None) -> str:
    """``-9`` → ``"the worker process was killed by SIGKILL …"``."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
        return f"the worker process {how} while training this run (out of memory?); the run did not finish."
    return (f"the worker process exited with code {exitcode} while training this run (its error is "
            "printed above); the run did not finish.")


def run_local(
    jobs: Iterable[RunJob],
    on_outcome: Callable[[RunOutcome], None],
    *,
    workers: int,
    runner: JobRunner = run_job,
) -> None:
    """Run every job in up to ``workers`` processes, calling ``on_outcome`` (in this process) as each ends.

    ``runner`` must be a module-level function (it is pickled by name into the workers).
    On any exception here (Ctrl-C included) the workers are stopped before it propagates.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    pending = deque(jobs)
    pool: list[_Worker] = []
    try:
        while pending or any(w.job is not None for w in pool):
            for worker in [w for w in pool if w.job is None]:  # hand a job to every idle worker
                if pending and not _give(worker, pending):
                    pool.remove(worker)  # it died between jobs; a fresh one is started below
            while pending and len(pool) < workers:  # start workers lazily, never more than jobs
                worker = _start_worker(runner)
                pool.append(worker)
                if not _give(worker, pending):  # died at birth: fail the job so the loop moves on
                    pool.remove(worker)
                    job = pending.popleft()
                    on_outcome(RunOutcome(job.name, "failed", reason=death_reason(worker.process.exitcode)))
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy]))
            for worker in busy:
                job = worker.job
                assert job is not None
                if worker.conn not in ready and worker.process.sentinel not in ready:
                    continue
                try:
                    outcome = worker.conn.recv() if worker.conn.poll() else None
                except (EOFError, OSError):  # the pipe closed: the worker is gone
                    outcome = None
                if outcome is not None:
                    worker.job = None
                    on_outcome(outcome)
                    continue
                worker.process.join()
                pool.remove(worker)
                worker.conn.close()
                on_outcome(RunOutcome(job.name, "failed", reason=death_reason(worker.process.exitcode)))
    finally:
        _stop(pool)


def _give(worker: _Worker, pending: deque[RunJob]) -> bool:
    """Send the next job to ``worker``; if it cannot take it, the job goes back to the queue."""
    job = pending.popleft()
    try:
        worker.conn.send(job)
    except OSError:
        pending.appendleft(job)
        worker.process.join()
        worker.conn.close()
        return False
    worker.job = job
    return True


def _stop(pool: list[_Worker]) -> None:
    """Ask idle workers to finish; terminate busy ones (an interrupted sweep)."""
    for worker in pool:
        try:
            if worker.job is None and worker.process.is_alive():
                worker.conn.send(None)
            else:
                worker.process.terminate()
        except OSError:
            worker.process.terminate()
    for worker in pool:
        worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
