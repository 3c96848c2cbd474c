"""Training from the browser: a small worker manager and the ``/api/train`` endpoints.

Each training runs :func:`mlplab.train.train` in its own thread — the very call ``mlplab train`` makes,
with ``run_dir`` in the runs folder (so the run folder is the same as a CLI run's) and
``should_stop`` wired to the Stop button. A thread rather than a process: the trainer spends its time
in NumPy, which releases the GIL, so the server stays responsive; stopping is a flag the loop polls
every iteration; and nothing needs to be pickled. At most ``max_trainings`` run at once (default 1,
a laptop has few cores); one more request gets a 409 that says which run is busy.

Stopping loses nothing: the trainer writes ``history.json``, ``model.npz`` and ``snapshots.npz``
however the run ends, and :meth:`TrainingManager.shutdown` stops and waits for every worker when the
server exits. Progress reaches the browser through ``stream.jsonl`` (see :mod:`mlplab.app.streaming`); the pictures
of a run while it trains are drawn from the network as it was at its latest evaluation
(:class:`~mlplab.train.LatestEvaluation`, :meth:`Job.live_data`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mlplab.app.responses import BusyError, NotFoundError, answer
from mlplab.app.runs_folder import RunsFolder
from mlplab.app.schemas import TrainRequest
from mlplab.errors import MlplabError
from mlplab.train import LatestEvaluation, TrainConfig, new_run_dir, train
from mlplab.train.limits import check_training
from mlplab.train.run_folder import prepare_run_dir
from mlplab.viz.training.drawing_processes import DrawWhileTraining, drawing_for_training

log = logging.getLogger("mlplab.app")
#: How long the server waits, at exit, for a stopped training to write its run folder.
JOIN_SECONDS = 60.0


@dataclass
class Job:
    """One training in a worker thread."""

    name: str
    run_dir: Path
    config: TrainConfig
    plots: bool
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: str | None = None
    status: str = "starting"
    training: bool = True  # until train() returns; then only the figures may still be drawn
    latest: LatestEvaluation = field(default_factory=LatestEvaluation)
    _live: tuple[int, Any] | None = field(default=None, repr=False)  # (evaluations, RunData) drawn last
    _test_set: tuple[Any, Any, int] | None = field(default=None, repr=False)  # x_test, t_test, n_train

    @property
    def active(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def live_data(self) -> Any:
        """The run as it was at its latest evaluation, as a :class:`~mlplab.viz.training.run_figures.RunData` (no
        snapshots: ``at=None`` is that evaluation), or ``None`` before the first evaluation."""
        from mlplab.nn.networks import network_from_params
        from mlplab.train.run_folder import Run
        from mlplab.train.trainer import load_dataset
        from mlplab.viz.training.run_figures import RunData

        latest = self.latest.latest
        if latest is None or not self.training:
            return None
        params, history = latest
        if self._live is not None and self._live[0] == history.n_evaluations:
            return self._live[1]
        if self._test_set is None:
            (x_train, _), (x_test, t_test) = load_dataset(self.config)  # as the trainer loads it
            self._test_set = (x_test.reshape(x_test.shape[0], -1), t_test, x_train.shape[0])
        x_test, t_test, n_train = self._test_set
        network = network_from_params(params, self.latest.sizes, self.config.activation, dtype=self.config.dtype)
        run = Run(path=self.run_dir, config=self.config, record={}, history=history, network=network)
        data = RunData(run=run, snapshots=None, x_test=x_test, t_test=t_test, n_train=n_train)
        self._live = (history.n_evaluations, data)
        return data

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "active": self.active, "status": self.status, "error": self.error,
                "stopping": self.stop.is_set(), "iters": self.config.iters}


class TrainingManager:
    """Starts trainings in threads, at most ``max_trainings`` at a time, and stops them on request."""

    def __init__(self, runs: RunsFolder, *, max_trainings: int = 1, data_dir: str | None = None,
                 render_lock: threading.Lock | None = None) -> None:
        self.runs = runs
        self.max_trainings = max_trainings
        self.data_dir = data_dir
        self.render_lock = render_lock or threading.Lock()
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def active(self) -> list[Job]:
        return [job for job in self.jobs.values() if job.active]

    def start(self, request: TrainRequest) -> Job:
        """Validate the settings (the library's checks), claim a slot and start the worker."""
        config = TrainConfig(**request.config_fields(), data_dir=self.data_dir)
        check_training(config)  # the CLI's memory limit, answered here as a 400 before any thread starts
        with self._lock:
            busy = self.active()
            if len(busy) >= self.max_trainings:
                names = "; ".join(f"{job.name}: {job.status}" for job in busy)
                raise BusyError(
                    f"busy: {len(busy)} training{'s' if len(busy) > 1 else ''} already running ({names}); "
                    f"stop it or wait for it to end (this server allows {self.max_trainings} at a time, "
                    "see mlplab serve --max-trainings)."
                )
            run_dir = self._new_folder(request.name)
            name = run_dir.relative_to(self.runs.root.resolve()).as_posix()
            job = Job(name=name, run_dir=run_dir, config=config, plots=request.plots)
            job.thread = threading.Thread(target=self._work, args=(job,), name=f"train-{name}", daemon=True)
            self.jobs[name] = job
            job.thread.start()
        return job

    def _new_folder(self, name: str | None) -> Path:
        root = self.runs.root
        if name is None:
            return new_run_dir(root).resolve()
        path = self.runs.path(name, must_exist=False)
        if path.exists():
            raise BusyError(f"a run called {name!r} already exists in {root}; choose another name "
                            "or leave the name empty for a time stamp.")
        return prepare_run_dir(path)

    def _work(self, job: Job) -> None:
        job.status = "running"
        processes = drawing = None
        try:
            if job.plots:  # the processes that will draw get ready while the network trains
                processes = drawing_for_training()
                drawing = DrawWhileTraining(processes, "dark", ("png",)) if processes is not None else None
            try:
                result = train(job.config, run_dir=job.run_dir, should_stop=job.stop.is_set,
                               observers=[job.latest, *([drawing] if drawing else [])])
            finally:
                job.training = False  # the run folder is written: the pictures come from it now
                job._live = job._test_set = None  # the test set in memory (31 MB for MNIST's) is let go
            job.status = result.history.status
            if job.plots and result.history.n_evaluations:
                job.status = f"{result.history.status}, drawing figures"
                self._draw(job.run_dir, drawing)
                job.status = result.history.status
        except MlplabError as exc:
            job.error, job.status = str(exc), "failed"
        except Exception as exc:  # noqa: BLE001 - a bug must reach the page, not kill the thread silently
            log.exception("training %s failed", job.name)
            job.error, job.status = f"the training failed: {type(exc).__name__}: {exc}", "failed"
        finally:
            if processes is not None:
                processes.shutdown()

    def _draw(self, run_dir: Path, drawing: DrawWhileTraining | None) -> None:
        """The figures and ``report.html``, as ``mlplab train`` draws them after training: in the
        ``drawing`` processes started with the training, else in this one and a second one."""
        from mlplab.viz.report import draw_run_and_report

        with self.render_lock:  # matplotlib is not thread-safe; the pages draw with the same lock
            draw_run_and_report(run_dir, workers=None, drawing=drawing)

    def stop(self, name: str) -> Job:
        job = self.jobs.get(name)
        if job is None:
            raise NotFoundError(f"no training called {name!r} was started by this server; "
                                "a run started with `mlplab train` is stopped with Ctrl-C in its terminal.")
        job.stop.set()
        return job

    def shutdown(self, timeout: float = JOIN_SECONDS) -> None:
        """Ask every worker to stop and wait until each has written its run folder."""
        for job in self.jobs.values():
            job.stop.set()
        for job in self.jobs.values():
            if job.thread is not None:
                job.thread.join(timeout)


router = APIRouter(prefix="/api/train", tags=["train"])


def _manager(request: Request) -> TrainingManager:
    return request.app.state.trainings


@router.post("", status_code=202)
def start_training(body: TrainRequest, request: Request) -> Response:
    """Start a training; answers 202 with the run's name (follow it at ``/api/runs/NAME/stream``)."""
    job = _manager(request).start(body)
    return answer(job.to_dict(), status_code=202)


@router.get("")
def list_trainings(request: Request) -> Response:
    """The trainings this server started (active first) and the limit."""
    manager = _manager(request)
    jobs = sorted(manager.jobs.values(), key=lambda j: not j.active)
    return answer({"max_trainings": manager.max_trainings, "jobs": [job.to_dict() for job in jobs]})


@router.post("/{name:path}/stop")
def stop_training(name: str, request: Request) -> Response:
    """Ask the training to stop after its current iteration; it writes its run folder as it ends."""
    return answer(_manager(request).stop(name).to_dict())
