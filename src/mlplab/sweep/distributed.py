"""Run a sweep's jobs on a Dask distributed cluster (``--scheduler tcp://HOST:8786``).

A cluster is a scheduler and workers started elsewhere::

    dask scheduler                          # on one machine, listens on :8786
    dask worker tcp://HOST:8786 --nthreads 1   # on each machine with mlplab installed

Each job is one ``client.submit(run_job, job)``; a Dask worker trains the run into a temporary
folder and sends the folder's files back (see :mod:`mlplab.sweep.job`), so the workers need no
shared disk. Dask's nanny starts worker processes with one BLAS thread (its
``distributed.nanny.pre-spawn-environ`` setting), which is what we want for the same reason as
locally. If a worker dies during a run, Dask retries the run elsewhere; after
``distributed.scheduler.allowed-failures`` deaths it gives up and the run is recorded as failed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from mlplab.errors import ConfigError
from mlplab.sweep.job import RunJob, RunOutcome, one_line, run_job

_ADDRESS = re.compile(r"^(?:(tcp|tls)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.\-]+):(\d{1,5})$")


def scheduler_address(text: str) -> str:
    """``"host:8786"`` or ``"tcp://host:8786"`` → ``"tcp://host:8786"``; anything else is refused."""
    match = _ADDRESS.match(text.strip())
    if not match or not 1 <= int(match.group(3)) <= 65535:
        raise ConfigError(
            f"--scheduler {text!r} is not a scheduler address; give tcp://HOST:PORT, e.g. tcp://127.0.0.1:8786."
        )
    protocol = match.group(1) or "tcp"
    return f"{protocol}://{match.group(2)}:{int(match.group(3))}"


def connect(address: str, timeout: float = 5.0) -> Any:
    """A ``dask.distributed.Client`` for the scheduler at ``address``, with at least one worker.

    Fails fast with one :class:`ConfigError` line when Dask is missing, nothing answers within
    ``timeout`` seconds, the cluster has no workers, or the workers cannot import mlplab.
    """
    address = scheduler_address(address)
    try:
        from dask.distributed import Client
    except ImportError:
        raise ConfigError(
            "--scheduler needs dask.distributed, which is not installed; pip install 'mlplab[dask]'."
        ) from None
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - refused, timed out, or something else answering there
        raise ConfigError(
            f"cannot reach a Dask scheduler at {address} within {timeout:g} s ({one_line(exc, 120)}); "
            "start one with `dask scheduler` and check the host and port."
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception:  # noqa: BLE001 - dask raises TimeoutError subclasses that vary by version
        client.close()
        raise ConfigError(
            f"the Dask scheduler at {address} has no workers; start some with `dask worker {address}`."
        ) from None
    try:
        client.run(_worker_versions)
    except Exception as exc:  # noqa: BLE001 - a worker that cannot unpickle mlplab functions
        client.close()
        raise ConfigError(
            f"the Dask workers at {address} cannot run mlplab ({one_line(exc, 120)}); "
            "install the same mlplab on every worker machine."
        ) from None
    return client


def _worker_versions() -> dict[str, str]:
    """Run on every worker: the versions that decide whether runs are reproducible there."""
    import numpy

    import mlplab

    return {"mlplab": mlplab.__version__, "numpy": numpy.__version__}


def version_mismatches(client: Any) -> list[str]:
    """Workers whose mlplab or NumPy differs from this machine's (their runs may differ in the last bits)."""
    here = _worker_versions()
    found = client.run(_worker_versions)
    return [
        f"worker {address} has {name} {versions[name]} (here: {here[name]})"
        for address, versions in sorted(found.items()) for name in here if versions.get(name) != here[name]
    ]


def worker_threads(client: Any) -> int:
    """How many runs the cluster can train at once: the sum of its workers' threads."""
    return max(sum(client.nthreads().values()), 1)


def run_dask(jobs: Iterable[RunJob], on_outcome: Callable[[RunOutcome], None], *, client: Any) -> None:
    """Submit every job and call ``on_outcome`` as each finishes, in finishing order.

    A task that Dask itself gives up on (e.g. ``KilledWorker`` after repeated worker deaths) becomes
    a ``failed`` outcome with that reason. On any exception (Ctrl-C included) the remaining tasks
    are cancelled before it propagates.
    """
    from dask.distributed import as_completed

    jobs = [RunJob(job.name, job.config, folder=None) for job in jobs]  # the files come back as bytes
    futures = {client.submit(run_job, job, pure=False, key=f"mlplab-run-{job.name}-{uuid.uuid4().hex[:8]}"): job
               for job in jobs}
    try:
        for future in as_completed(futures, loop=client.loop):  # our client is not the default one
            job = futures[future]
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - the cluster's failure is this run's failure
                outcome = RunOutcome(job.name, "failed", reason=f"the Dask cluster could not run it: {one_line(exc)}")
            future.release()
            on_outcome(outcome)
    finally:
        unfinished = [f for f in futures if not f.done()]
        if unfinished:
            client.cancel(unfinished)
