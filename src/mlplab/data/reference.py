"""The textbook's published accuracy curve (ch. 4), shipped as package data.

``book_ch04_accuracy.csv`` holds the 17 train/test accuracies that the book's two-layer net printed
(784-50-10, sigmoid, SGD lr 0.1, batch 100, evaluated every 600 iterations). Its header comment names
where the numbers come from; :func:`load_book_curve` keeps that text so every figure or report that
draws the curve can say so.

Example
-------
>>> book = load_book_curve()
>>> book.iterations[:3], round(book.test_acc[-1], 4)
(array([   0,  600, 1200]), 0.9465)
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from mlplab.errors import DataError

BOOK_CSV = "book_ch04_accuracy.csv"


@dataclass(frozen=True)
class ReferenceCurve:
    """Accuracies measured at ``iterations`` (all arrays ``(n_evals,)``), and where they come from."""

    iterations: np.ndarray
    train_acc: np.ndarray
    test_acc: np.ndarray
    source: str
    label: str = "textbook"

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
    """The textbook's 17 evaluations (iterations 0, 600, …, 9600), read from the package data."""
    text = (resources.files("mlplab.data") / BOOK_CSV).read_text(encoding="utf-8")
    return parse_reference_csv(text)
