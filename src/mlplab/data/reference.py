"""The textbook's published accuracy curve (ch. 4), shipped as package data.

``book_ch04_accuracy.csv`` holds the 17 train/test accuracies that the book's two-layer net printed
(784-50-10, sigmoid, SGD lr 0.1, batch 100, evaluated every 600 iterations). Its header comment names
where the numbers come from; :func:`load_book_curve` keeps that text so every figure or report that
draws the curve can say so.

The curve belongs to one experiment, :data:`BOOK_SETTINGS`. :func:`book_differences` lists where a
run's settings differ from it; only a run with none is compared with the book (figures, report, CLI).
The book's last evaluation is after iteration 9600, so that is the point compared, not the end of
the run (the 399 updates after it are never measured in the book).

Example
-------
>>> book = load_book_curve()
>>> book.iterations[:3].tolist(), book.last_iteration, book.final_test_acc
([0, 600, 1200], 9600, 0.9465)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

from mlplab.errors import DataError

BOOK_CSV = "book_ch04_accuracy.csv"

#: The textbook's ch. 4 run (``two_layer_net.py`` + ``train_neuralnet.py``): what its curve belongs to.
#: Full MNIST (60000 training and 10000 test images, the bundled files), batches drawn with
#: replacement, weights ``0.01·randn``. Settings that do not change what is learned (seed, dtype,
#: evaluation interval) are left out.
BOOK_SETTINGS: dict[str, Any] = {
    "hidden": (50,), "activation": "sigmoid", "optimizer": "sgd", "lr": 0.1, "batch_size": 100,
    "iters": 10_000, "weight_init_std": 0.01, "sampling": "replacement",
    "train_size": 60_000, "test_size": 10_000, "data_dir": None,
}
BOOK_SIZES = (784, 50, 10)


@dataclass(frozen=True)
class ReferenceCurve:
    """Accuracies measured at ``iterations`` (all arrays ``(n_evals,)``), and where they come from."""

    iterations: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    source: str
    label: str = "textbook"

    @property
    def last_iteration(self) -> int:
        """The iteration of the last evaluation (9600 for the book: its run ends 399 updates later)."""
        return int(self.iterations[-1])

    @property
    def final_train_acc(self) -> float:
        return float(self.train_acc[-1])

    @property
    def final_test_acc(self) -> float:
        return float(self.test_acc[-1])


def parse_reference_csv(text: str, name: str = BOOK_CSV) -> ReferenceCurve:
    """Read ``# comment`` lines (the source) then ``eval,iteration,train_acc,test_acc`` rows."""
    lines = text.splitlines()
    comments = [line.lstrip("#").strip() for line in lines if line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(line for line in lines if not line.startswith("#")))))
    try:
        iterations = np.array([int(r["iteration"]) for r in rows])
        train_acc = np.array([float(r["train_acc"]) for r in rows])
        test_acc = np.array([float(r["test_acc"]) for r in rows])
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"reference curve {name} is damaged ({exc}); reinstall mlplab.") from None
    if iterations.size == 0:
        raise DataError(f"reference curve {name} has no rows; reinstall mlplab.")
    for array in (iterations, train_acc, test_acc):
        array.flags.writeable = False  # cached and shared: nobody may change it
    return ReferenceCurve(iterations, train_acc, test_acc, source=" ".join(comments))


@lru_cache(maxsize=1)
def load_book_curve() -> ReferenceCurve:
    """The textbook's 17 evaluations (after iterations 0, 600, …, 9600), read from the package data."""
    text = (resources.files("mlplab.data") / BOOK_CSV).read_text(encoding="utf-8")
    return parse_reference_csv(text)


def book_differences(config: Any, sizes: tuple[int, ...] | None = None) -> list[str]:
    """Where a run's settings differ from :data:`BOOK_SETTINGS`, as ``name=value`` strings.

    ``config`` is the run's ``TrainConfig`` (read by attribute); ``sizes`` its layer sizes, if known.

    >>> from mlplab.train import TrainConfig
    >>> book_differences(TrainConfig()), book_differences(TrainConfig(lr=0.5, train_size=300))
    ([], ['lr=0.5', 'train_size=300'])
    """
    out = []
    for name, book in BOOK_SETTINGS.items():
        value = getattr(config, name)
        if value is None and name in ("train_size", "test_size"):
            value = book  # None: all of the bundled MNIST (data_dir is checked too), the book's 60000 / 10000
        if value != book:
            shown = ",".join(map(str, value)) if isinstance(value, (tuple, list)) else value
            out.append(f"{name}={shown}")
    if sizes is not None and tuple(sizes) != BOOK_SIZES:
        out.append("sizes=" + "-".join(map(str, sizes)))
    return out


def is_book_run(config: Any, sizes: tuple[int, ...] | None = None) -> bool:
    """True when the run is the textbook's ch. 4 experiment, so its curve may be drawn beside it."""
    return not book_differences(config, sizes)
