"""Batch normalization (book §6.3, ``batch_norm_test.py``, figs 6-18 and 6-19).

1000 training images, 784-100-100-100-100-100-10 ReLU, SGD lr 0.01, batch 100, 20 epochs (10
iterations each), for 16 initial weight scales from 1 down to 10⁻⁴ (``np.logspace(0, -4, 16)``),
each with and without batch norm. Without it, learning happens only in a narrow band of scales;
with it, the network learns fast across most of them (fig 6-19). The pair with and without batch
norm at each scale starts from the same weights and sees the same batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlplab.study.common import StudyResult, train_settings
from mlplab.train.config import TrainConfig
from mlplab.train.trainer import load_dataset

TRAIN_IMAGES = 1000
ITERS_PER_EPOCH = TRAIN_IMAGES // 100
EPOCHS = 20
BASE = TrainConfig(iters=EPOCHS * ITERS_PER_EPOCH, batch_size=100, lr=0.01, hidden=(100,) * 5, activation="relu",
                   optimizer="sgd", seed=0, train_size=TRAIN_IMAGES, test_size=1000, eval_every=ITERS_PER_EPOCH)

#: The book's run (np.random.seed(0)): training accuracy at its last printed epoch (19), per scale,
#: as (with batch norm, without).
BOOK_FINAL = [(0.447, 0.097), (0.519, 0.097), (0.665, 0.954), (0.811, 0.852), (0.871, 0.169), (0.944, 0.117),
              (0.99, 0.117), (0.998, 0.116), (1.0, 0.117), (0.905, 0.117), (0.873, 0.116), (0.911, 0.117),
              (0.532, 0.117), (0.635, 0.116), (0.528, 0.116), (0.525, 0.117)]
#: The last epoch the book prints (it evaluates at the start of each of its 20 epochs).
BOOK_EPOCH = 19


def run_batchnorm(folder: str | Path, *, quick: bool = False) -> StudyResult:
    """16 scales × {batch norm, none}; ``quick``: 4 scales, 5 epochs, 500 images."""
    folder = Path(folder)
    scales = np.logspace(0, -4, num=4 if quick else 16)
    base = BASE.replace(iters=5 * 5, train_size=500, test_size=200, eval_every=5) if quick else BASE
    per_epoch = base.eval_every
    data = load_dataset(base)
    with_bn, without = [], []
    for scale in scales:
        scaled = base.replace(weight_init_std=float(scale))
        runs = train_settings({f"std {scale:.3g} batch norm": scaled.replace(batchnorm=True),
                               f"std {scale:.3g} without": scaled}, folder, data=data)
        bn, plain = runs.values()
        with_bn.append(bn)
        without.append(plain)
    at = min(BOOK_EPOCH * per_epoch, base.iters - 1)
    pair = int(np.argmin(np.abs(np.log10(scales) + 2)))  # the scale nearest 0.01 for the pair of curves
    result = StudyResult("batchnorm", folder, quick)
    result.histories = {f"std {s:.3g} {kind}": h for s, b, w in zip(scales, with_bn, without, strict=True)
                        for kind, h in (("batch norm", b), ("without", w))}
    result.data = {"scales": [float(s) for s in scales], "with_bn": with_bn, "without": without,
                   "pair": {"batch norm": with_bn[pair], "without": without[pair]}}
    result.numbers = {
        "iters_per_epoch": per_epoch, "compared_at_iteration": at, "pair_scale": float(scales[pair]),
        "final_with_bn": [_train_acc_at(h, at) for h in with_bn],
        "final_without": [_train_acc_at(h, at) for h in without],
    }
    result.book = {"final": BOOK_FINAL, "epoch": BOOK_EPOCH}
    result.write()
    return result


def _train_acc_at(history, iteration: int) -> float | None:
    found = history.accuracies_at(iteration)
    return None if found is None else found[0]
