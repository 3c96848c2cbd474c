"""Reordering a dataset: the book's ``shuffle_dataset`` (used in ch. 6 to draw a validation set)."""

from __future__ import annotations

import numpy as np

from mlplab.errors import DataError


def shuffle_dataset(
    x: np.ndarray, t: np.ndarray, *, seed: int | np.random.Generator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` and ``t`` reordered by one random permutation of their rows (new arrays).

    Row i of the result is row p[i] of the input for both, so every image keeps its label.
    ``seed=None`` draws the permutation from NumPy's global state (``np.random.permutation``), as the
    book's ``common/util.py`` does, so ``np.random.seed(0)`` repeats a book script.

    Example (the book's ch. 6 validation split, 20 % of 500 images)::

        x, t = shuffle_dataset(x_train[:500], t_train[:500])
        x_val, t_val, x_train, t_train = x[:100], t[:100], x[100:], t[100:]
    """
    x, t = np.asarray(x), np.asarray(t)
    if x.shape[0] != t.shape[0]:
        raise DataError(f"x has {x.shape[0]} rows but t has {t.shape[0]}; they must pair up row by row.")
    n = x.shape[0]
    permutation = np.random.permutation(n) if seed is None else np.random.default_rng(seed).permutation(n)
    return x[permutation], t[permutation]
