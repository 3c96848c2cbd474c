"""Backprop step by step for test image ``index`` of a run folder, with its final, replayed or initial weights.

``at=k`` uses the parameters as they were at evaluation ``k`` (from ``snapshots.npz``, the replay of
``mlplab plot --at``); ``untrained=True`` the network before its first step, rebuilt from the run's
seed exactly as the trainer built it. The run folder is read by
:func:`mlplab.viz.training.run_figures.load_run_data` (the CLI) or the web app's cache of it; this module only
needs the object's ``run``, ``x_test``, ``t_test``, ``eval_index`` and ``params_at``.

Example
-------
>>> from mlplab.viz.training.run_figures import load_run_data                  # doctest: +SKIP
>>> e = explain_run(load_run_data("runs/demo"), index=0, at=3)        # doctest: +SKIP
>>> e.weights                                                         # doctest: +SKIP
'evaluation 3 (after iteration 1800)'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.explain.stages import Explanation, explain_image, float64_copy
from mlplab.nn.networks import LayerNet
from mlplab.train import trainer
from mlplab.train.config import TrainConfig

if TYPE_CHECKING:
    from mlplab.viz.training.run_figures import RunData


@dataclass(frozen=True)
class RunExplanation:
    """An :class:`Explanation` of test image ``index`` and which weights it used."""

    explanation: Explanation
    run: str  # the run folder's name
    index: int | None  # the test image (None: a drawn digit, ``image`` of :func:`explain_run`)
    weights: str  # "final", "evaluation 3 (after iteration 1800)" or "untrained (seed 0)"
    at: int | None  # the evaluation (0-based), None for the final or the untrained weights
    iteration: int | None  # the last training iteration those weights had seen (None: untrained)
    n_test: int
    network: str  # e.g. "784-50-10 sigmoid"

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``mlplab explain --json`` and ``/api/explain/RUN``."""
        return {"index": self.index, **self.explanation.to_dict(), "run": self.run, "weights": self.weights,
                "at": self.at, "iteration": self.iteration, "n_test": self.n_test, "network": self.network}


def initial_network(config: TrainConfig, sizes: tuple[int, ...] | list[int]) -> LayerNet:
    """The network of a run before its first step, in float64 (the trainer's own seeding)."""
    return trainer.initial_network(config, sizes[0], sizes[-1], dtype=np.float64)


def explain_run(data: RunData, index: int = 0, *, at: int | None = None, untrained: bool = False,
                check: bool = True, image: np.ndarray | None = None, label: int | None = None) -> RunExplanation:
    """Every stage of backprop for test image ``index`` of the run in ``data`` (see the module docstring),
    or for ``image`` ``(784,)`` with true class ``label`` (a digit drawn in the web app: ``index`` is ignored)."""
    n_test = len(data.t_test)
    if image is not None:
        n_classes = int(data.run.sizes[-1])
        if label is None or not 0 <= label < n_classes:
            raise ConfigError(f"label must be the digit you drew, between 0 and {n_classes - 1}, got {label}.")
    elif not -n_test <= index < n_test:
        raise ConfigError(f"index must be a test image between 0 and {n_test - 1} (this run was evaluated on "
                          f"{n_test} test images), got {index}.")
    index %= n_test
    run = data.run
    if untrained and at is not None:
        raise ConfigError("choose either --untrained or --at K, not both.")
    if untrained:
        network = initial_network(run.config, run.sizes)
        params, weights, k, iteration = network.params, f"untrained (seed {run.config.seed})", None, None
    else:
        k = data.eval_index(at)
        params = data.params_at(k)
        if k is None:
            iteration = max(len(run.history.loss) - 1, 0)
            weights = "final"
        else:
            iteration = int(run.history.iterations[k])
            weights = f"evaluation {k} (after iteration {iteration})"
    network = float64_copy(params, run.sizes, run.config.activation)
    x, t = (data.x_test[index], int(data.t_test[index])) if image is None else (image, int(label))
    explanation = explain_image(network, x, t, lr=run.config.lr, check=check)
    return RunExplanation(explanation=explanation, run=run.path.name, index=index if image is None else None,
                          weights=weights, at=k, iteration=iteration, n_test=n_test, network=run.network.describe())
