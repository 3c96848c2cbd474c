"""One run of a sweep as a job a worker can do, and what it reports back.

The same function :func:`run_job` is called in a local worker process and on a Dask worker. It
never raises: whatever goes wrong becomes a :class:`RunOutcome` with status ``failed`` and the
reason, so one bad configuration cannot stop the sweep.

- With ``job.folder`` (local workers share the disk) the run folder is written there directly.
- Without it (a Dask worker on another machine) the run is trained into a temporary folder on the
  worker and the folder's files come back as bytes in ``outcome.files``; the machine that started
  the sweep writes them. We ship the files rather than train in memory because ``train()`` is the
  one writer of the run-folder format: re-creating its files elsewhere would be a second copy of
  that format that could drift.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlplab.train import TrainConfig, train

#: How a run can end: the trainer's statuses, plus ``failed`` for a run that raised or whose worker died.
FINISHED = ("completed", "diverged")


@dataclass(frozen=True)
class RunJob:
    """Train ``config`` as run ``name``; into ``folder`` if given, else return the files' bytes."""

    name: str
    config: TrainConfig
    folder: str | None = None


@dataclass
class RunOutcome:
    """How a job ended: ``status`` (``completed``, ``diverged``, ``failed``, …), why, and how long.

    ``seconds`` is the job's wall time on the worker (data loading included); ``files`` maps file
    names to their bytes when the run was trained away from the sweep's folder.
    """

    name: str
    status: str
    reason: str = ""
    seconds: float = 0.0
    files: dict[str, bytes] | None = field(default=None, repr=False)
    worker: str = ""


def run_job(job: RunJob) -> RunOutcome:
    """Train one configuration and report how it ended (never raises)."""
    started = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        if job.folder is not None:
            result = train(job.config, run_dir=job.folder)
            files = None
        else:
            with tempfile.TemporaryDirectory(prefix="mlplab-run-") as tmp:
                result = train(job.config, run_dir=tmp)
                files = {p.name: p.read_bytes() for p in sorted(Path(tmp).iterdir()) if p.is_file()}
    except Exception as exc:  # noqa: BLE001 - any error is this run's failure, not the sweep's
        return RunOutcome(job.name, "failed", reason=one_line(exc), seconds=time.perf_counter() - started,
                          worker=worker)
    history = result.history
    return RunOutcome(job.name, history.status, reason=history.message, seconds=time.perf_counter() - started,
                      files=files, worker=worker)


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``"DataError: data folder … does not exist"`` — the first line of the message, shortened."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
