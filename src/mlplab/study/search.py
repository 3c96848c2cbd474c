"""Hyper-parameter search (book §6.5, ``hyperparameter_optimization.py``, fig 6-24).

The book's random search: 500 training images, 20 % of them (100) held out for validation, a
784-100×6-10 ReLU network (He initialisation), SGD, batch 100, 50 epochs (4 iterations each) per
trial, and 100 trials with ``lr = 10 ** uniform(-6, -2)`` and ``weight decay = 10 ** uniform(-8, -4)``.
Trials are ranked on their final validation accuracy; the test set is measured too but never used
to choose (that would make its accuracy an optimistic estimate). It runs through ``mlplab sweep``'s
machinery (:mod:`mlplab.sweep`): every trial is a run folder, ``summary.csv`` has one row per trial.
All trials share one seed: the same held-out images, initial draws and batches.
"""

from __future__ import annotations

from pathlib import Path

from mlplab.study.common import StudyResult
from mlplab.sweep import LogRange, SweepSpace, plan_runs, rank_configurations, run_sweep
from mlplab.sweep.summary import read_history
from mlplab.train.config import TrainConfig

TRAIN_IMAGES, VALIDATION = 500, 100
ITERS_PER_EPOCH = (TRAIN_IMAGES - VALIDATION) // 100
EPOCHS, TRIALS, BEST = 50, 100, 20
LR_RANGE, DECAY_RANGE = LogRange(1e-6, 1e-2), LogRange(1e-8, 1e-4)
BASE = TrainConfig(iters=EPOCHS * ITERS_PER_EPOCH, batch_size=100, hidden=(100,) * 6, activation="relu",
                   optimizer="sgd", weight_init_std="he", seed=0, train_size=TRAIN_IMAGES, validation=VALIDATION,
                   eval_every=ITERS_PER_EPOCH)

#: The book's run (np.random.seed(0)): the validation accuracies of its best 20 trials.
BOOK_BEST_VAL_ACC = [0.87, 0.82, 0.82, 0.81, 0.75, 0.75, 0.73, 0.73, 0.72, 0.72, 0.71, 0.63, 0.58, 0.56, 0.56,
                     0.55, 0.53, 0.52, 0.47, 0.41]


def run_search(folder: str | Path, *, quick: bool = False, workers: int | None = None,
               trials: int | None = None) -> StudyResult:
    """The full search measures 1000 test images (reported, never used); ``quick``: 6 trials of 5 epochs, 500.

    ``trials`` overrides the number of trials; the draws are those of the full search's first
    ``trials`` (the sweep keeps the first draws), so a search cut short resumes into the same folder.
    """
    folder = Path(folder)
    trials, epochs = (trials or 6, 5) if quick else (trials or TRIALS, EPOCHS)
    base = BASE.replace(iters=epochs * ITERS_PER_EPOCH, test_size=500 if quick else 1000)  # test: reported only
    space = SweepSpace(values={"lr": LR_RANGE, "weight_decay": DECAY_RANGE}, base=base, random=trials, seeds=(0,))
    sweep = run_sweep(plan_runs(space), folder / "runs", workers=workers)
    ranked = [r for r in rank_configurations(sweep.rows) if r.completed]
    by_settings = {(row["lr"], row["weight_decay"]): row for row in sweep.rows}
    best = []
    for r in ranked[:BEST]:
        row = by_settings[(r.settings["lr"], r.settings["weight_decay"])]
        best.append({"lr": row["lr"], "weight_decay": row["weight_decay"], "name": row["name"],
                     "history": read_history(folder / "runs" / row["name"])})
    result = StudyResult("search", folder, quick)
    result.histories = {b["name"]: b["history"] for b in best}
    result.data = {"rows": sweep.rows, "best": best}
    result.numbers = {
        "trials": trials, "epochs": epochs, "lr_range": [LR_RANGE.low, LR_RANGE.high],
        "decay_range": [DECAY_RANGE.low, DECAY_RANGE.high], "iters_per_epoch": ITERS_PER_EPOCH,
        "ranked_on": ranked[0].metric,
        "best_val_acc": [r.mean for r in ranked[:BEST]],
        "best_test_acc": [r.test_mean for r in ranked[:BEST]],
        "best_settings": [{"lr": b["lr"], "weight_decay": b["weight_decay"]} for b in best[:5]],
    }
    result.book = {"best_val_acc": BOOK_BEST_VAL_ACC}
    result.write()
    return result
