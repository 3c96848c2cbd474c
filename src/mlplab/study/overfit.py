"""Over-fitting and its remedies (book §6.4, ``overfit_weight_decay.py``, ``overfit_dropout.py``).

300 training images and a network far too large for them, 784-100-100-100-100-100-100-10 ReLU (He
initialisation), SGD lr 0.01, batch 100, 200 epochs (3 iterations each): the training accuracy
reaches 100 % while the test accuracy stalls near 75 % (fig 6-20). Weight decay λ = 0.1 (fig 6-21)
and dropout 0.15 (fig 6-23) narrow the gap between them, at the cost of some training accuracy.
"""

from __future__ import annotations

from pathlib import Path

from mlplab.study.common import StudyResult, train_settings
from mlplab.train.config import TrainConfig

TRAIN_IMAGES = 300
EPOCHS = 200
ITERS_PER_EPOCH = TRAIN_IMAGES // 100

BASE = TrainConfig(iters=EPOCHS * ITERS_PER_EPOCH, batch_size=100, lr=0.01, hidden=(100,) * 6, activation="relu",
                   optimizer="sgd", weight_init_std="he", seed=0, train_size=TRAIN_IMAGES, eval_every=ITERS_PER_EPOCH)
SETTINGS = {"no regularisation": {}, "weight decay 0.1": {"weight_decay": 0.1}, "dropout 0.15": {"dropout": 0.15}}
QUICK_EPOCHS = 20

#: The book's scripts run with np.random.seed(0) (final epoch: train, test accuracy). Weight decay:
#: ``overfit_weight_decay.py`` as published (epoch 200); none: the same script with λ = 0;
#: dropout: ``overfit_dropout.py`` with dropout_ratio 0.15 (the text's fig 6-23) at epoch 200 of its 301.
BOOK_FINAL = {"no regularisation": (1.0, 0.7564), "weight decay 0.1": (0.92, 0.7331),
              "dropout 0.15": (0.7533, 0.5639)}


def run_overfit(folder: str | Path, *, quick: bool = False) -> StudyResult:
    """The three settings on identical weights and batches; ``quick``: 20 epochs, 1000 test images."""
    epochs = QUICK_EPOCHS if quick else EPOCHS
    base = BASE.replace(iters=epochs * ITERS_PER_EPOCH, test_size=1000 if quick else None)
    result = StudyResult("overfit", Path(folder), quick)
    result.histories = train_settings({label: base.replace(**s) for label, s in SETTINGS.items()}, Path(folder))
    h = result.histories
    result.numbers = {
        "epochs": epochs, "iters_per_epoch": ITERS_PER_EPOCH,
        "final_train_acc": {k: v.final_train_acc for k, v in h.items()},
        "final_test_acc": {k: v.final_test_acc for k, v in h.items()},
        "gap": {k: v.final_train_acc - v.final_test_acc for k, v in h.items()},
    }
    result.book = dict(BOOK_FINAL)
    result.write()
    return result
