"""Observers: small objects the trainer calls at fixed moments, so recording, streaming and progress
bars stay out of the training loop itself.

An observer implements any of ``on_start``, ``on_iteration``, ``on_evaluation``, ``on_end``; each
receives the :class:`TrainingState`. They read the state; they must not change the parameters.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import MlplabError
from mlplab.nn.networks import LayerNet
from mlplab.optim import Optimizer
from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.run_folder import SNAPSHOTS, STREAM, reason, write_npz


@dataclass
class TrainingState:
    """What an observer can see: the run so far and, in ``on_iteration``, this step's gradients."""

    config: TrainConfig
    network: LayerNet
    optimizer: Optimizer
    history: History
    iteration: int = -1
    loss: float = float("nan")
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    run_dir: Path | None = None


class Observer:
    """Base class with do-nothing hooks; override the ones you need."""

    def on_start(self, state: TrainingState) -> None: ...

    def on_iteration(self, state: TrainingState) -> None: ...

    def on_evaluation(self, state: TrainingState) -> None: ...

    def on_end(self, state: TrainingState) -> None: ...


def end_observers(observers: list[Observer], state: TrainingState) -> list[str]:
    """Call every observer's ``on_end``, even after one failed to write its file (a full disk);
    return ``"file (reason)"`` for each failure."""
    failed = []
    for obs in observers:
        try:
            obs.on_end(state)
        except (OSError, MlplabError) as exc:
            what = Path(getattr(obs, "path", None) or type(obs).__name__).name
            failed.append(f"{what} ({reason(exc) if isinstance(exc, OSError) else exc})")
    return failed


class StreamWriter(Observer):
    """Appends JSON lines to ``stream.jsonl`` so another process (the web app) can follow the run.

    Events: ``start`` (config), ``loss`` (mean loss of the last ``every`` iterations), ``eval``
    (accuracies and losses), ``end`` (status and message). Each line is written and flushed whole.
    """

    def __init__(self, run_dir: Path, every: int = 50) -> None:
        self.path = Path(run_dir) / STREAM
        self.every = every
        self._file: Any = None
        self.error: OSError | None = None  # the write that failed (a full disk), reported at the end

    def _emit(self, event: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(event) + "\n")
            self._file.flush()
        except OSError as exc:
            # the stream is a live view, not the record: training goes on; on_end reports the failure
            self.error = self.error or exc
            self._close()

    def _close(self) -> None:
        file, self._file = self._file, None
        try:
            file.close()
        except OSError:
            pass  # the buffered rest could not be written either; self.error says why

    def on_start(self, state: TrainingState) -> None:
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in on_end
        self._emit({"event": "start", "iters": state.config.iters, "config": state.config.to_dict(),
                    "sizes": list(state.network.sizes)})

    def on_iteration(self, state: TrainingState) -> None:
        i = state.iteration
        if (i + 1) % self.every == 0 or i + 1 == state.config.iters:
            recent = state.history.loss[-self.every:]
            self._emit({"event": "loss", "iteration": i, "loss": float(np.mean(recent))})

    def on_evaluation(self, state: TrainingState) -> None:
        h = state.history
        self._emit({
            "event": "eval", "iteration": h.iterations[-1], "train_acc": h.train_acc[-1],
            "test_acc": h.test_acc[-1], "train_loss": h.train_loss[-1], "test_loss": h.test_loss[-1],
            "seconds": h.eval_seconds[-1],
        })

    def on_end(self, state: TrainingState) -> None:
        h = state.history
        self._emit({"event": "end", "status": h.status, "message": h.message,
                    "train_acc": h.final_train_acc, "test_acc": h.final_test_acc})
        if self._file is not None:
            self._close()
        if self.error is not None:
            raise self.error


class SnapshotRecorder(Observer):
    """Keeps a float16 copy of every parameter at each evaluation and writes ``snapshots.npz``.

    float16 halves the size again (≈80 kB per evaluation for 784-50-10) and is plenty for pictures.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = Path(run_dir) / SNAPSHOTS
        self.frames: dict[str, list[np.ndarray]] = {}

    def on_evaluation(self, state: TrainingState) -> None:
        for key, value in state.network.params.items():
            # Clip first: a diverging run's huge weights would overflow float16 to inf.
            limit = float(np.finfo(np.float16).max)
            self.frames.setdefault(key, []).append(np.clip(value, -limit, limit).astype(np.float16))

    def on_end(self, state: TrainingState) -> None:
        if self.frames:
            arrays = {k: np.stack(v) for k, v in self.frames.items()}
            arrays["iterations"] = np.asarray(state.history.iterations[: len(next(iter(self.frames.values())))])
            write_npz(self.path, arrays)


class LatestEvaluation(Observer):
    """The parameters and the history as they were at the latest evaluation, for another thread.

    The web app draws a training run's pictures while it trains from here (``snapshots.npz`` is
    written only at the end). The trainer updates the parameters in place every iteration, so they
    are copied at each evaluation, in the training thread; ``latest`` is replaced in one assignment,
    so a reader sees the previous pair or the new one, never a mix.
    """

    def __init__(self) -> None:
        self.latest: tuple[dict[str, np.ndarray], History] | None = None
        self.sizes: tuple[int, ...] = ()

    def on_start(self, state: TrainingState) -> None:
        self.sizes = tuple(state.network.sizes)

    def on_evaluation(self, state: TrainingState) -> None:
        h = state.history
        params = {key: value.copy() for key, value in state.network.params.items()}
        history = dataclasses.replace(
            h, iterations=list(h.iterations), train_acc=list(h.train_acc), test_acc=list(h.test_acc),
            train_loss=list(h.train_loss), test_loss=list(h.test_loss), eval_seconds=list(h.eval_seconds),
            loss=list(h.loss), status=f"running: evaluation {h.n_evaluations}")
        self.latest = (params, history)
