"""The optimizers on MNIST (book ``optimizer_compare_mnist.py``, fig 6-9).

784-100-100-100-100-10 ReLU (He initialisation), batch 128, 2000 iterations, each optimizer with
its default learning rate, which is the book's (SGD, Momentum, AdaGrad 0.01; Adam 0.001; mlplab
adds Nesterov and RMSprop). The book draws four; mlplab all six in its registry. Same seed: same
initial weights and the same batches for all.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from mlplab.optim import OPTIMIZERS
from mlplab.study.common import StudyResult, train_settings
from mlplab.study.init import printed_loss_means
from mlplab.train.config import TrainConfig

BASE = TrainConfig(iters=2000, batch_size=128, hidden=(100,) * 4, activation="relu", weight_init_std="he", seed=0,
                   eval_every=2000)
QUICK = BASE.replace(iters=100, eval_every=100, train_size=2000, test_size=500)

#: The book's run (np.random.seed(0)): the mini-batch losses it prints at iterations 1500 … 1900.
BOOK_PRINTED_LOSS = {"sgd": (0.2827, 0.2376, 0.1098, 0.2331, 0.1575),
                     "momentum": (0.086, 0.0961, 0.0195, 0.0629, 0.0922),
                     "adagrad": (0.0296, 0.0394, 0.0247, 0.042, 0.0127),
                     "adam": (0.0388, 0.0679, 0.0147, 0.0635, 0.0274)}


def default_lr(name: str) -> float:
    """The learning rate an optimizer's constructor defaults to (the book's defaults)."""
    return float(inspect.signature(OPTIMIZERS[name].__init__).parameters["lr"].default)


def run_optimizers(folder: str | Path, *, quick: bool = False) -> StudyResult:
    base = QUICK if quick else BASE
    configs = {name: base.replace(optimizer=name, lr=default_lr(name)) for name in OPTIMIZERS}
    result = StudyResult("optimizers", Path(folder), quick)
    result.histories = train_settings(configs, Path(folder))
    result.numbers = {
        "lr": {k: c.lr for k, c in configs.items()}, **printed_loss_means(result.histories, base.iters),
        "final_test_acc": {k: h.final_test_acc for k, h in result.histories.items()},
    }
    result.book = {"mean_printed_loss": {k: float(np.mean(v)) for k, v in BOOK_PRINTED_LOSS.items()}}
    result.write()
    return result
