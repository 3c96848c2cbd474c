"""Activation and loss functions, as plain NumPy formulas.

Shapes: ``x`` is ``(N, D)`` for a batch of N rows, or ``(D,)`` for one row. Integer labels ``t`` are
``(N,)``; one-hot labels are ``(N, C)``.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e^(−x)).

    For very negative x, e^(−x) overflows to inf and 1/inf = 0, which is the right limit, so the
    overflow warning is silenced rather than the formula changed.
    """
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    """ReLU(x) = max(0, x)."""
    return np.maximum(x, 0)


def tanh(x: np.ndarray) -> np.ndarray:
    """tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))."""
    return np.tanh(x)


def softmax(x: np.ndarray) -> np.ndarray:
    """softmax(x)_k = e^(x_k − max x) / Σ_j e^(x_j − max x), row by row.

    Subtracting the row maximum changes nothing mathematically (it cancels in the ratio) but keeps
    every exponent ≤ 0, so e^(...) never overflows.
    """
    shifted = x - np.max(x, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def as_labels(t: np.ndarray) -> np.ndarray:
    """Integer labels ``(N,)`` from labels or one-hot rows ``(N, C)``."""
    t = np.asarray(t)
    if t.ndim >= 2 and t.shape[-1] > 1:
        return np.argmax(t, axis=-1)
    return t.reshape(-1).astype(np.int64) if t.ndim >= 1 else t.reshape(1).astype(np.int64)


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy −(1/N) Σ_n log y[n, t_n], for labels or one-hot ``t``.

    ``y`` holds probabilities (softmax output). A tiny 1e-7 keeps log(0) finite, as in the textbook.
    """
    if y.ndim == 1:
        y = y.reshape(1, -1)
        t = np.asarray(t).reshape(1, -1) if np.ndim(t) == 1 and np.size(t) == y.size else t
    labels = as_labels(t)
    if labels.shape[0] != y.shape[0]:
        raise ValueError(f"y has {y.shape[0]} rows but t has {labels.shape[0]} labels")
    n = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(n), labels] + 1e-7)) / n)


def cross_entropy_from_scores(scores: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Total cross-entropy of softmax(scores) against integer labels, and the softmax itself.

    −log softmax(x)_t = log Σ_j e^(x_j − m) − (x_t − m) with m = max_j x_j: one exponential per
    score, no overflow, and unlike ``cross_entropy_error``'s log(y + 1e-7) no fudge term, so the loss
    is *exactly* the function whose gradient is (y − t)/N — the gradient check sees 1e-10, not 1e-6.
    Returns ``(Σ_n loss_n, y)`` with ``y`` of the shape of ``scores`` ``(N, C)``.
    """
    n = scores.shape[0]
    # array methods (.max, .sum) rather than np.max/np.sum: the same reductions, without a Python
    # wrapper that costs more than the arithmetic on the one-row batches of the gradient checks
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    row_sums = e.sum(axis=1, keepdims=True)  # (N, 1)
    total = float((np.log(row_sums[:, 0]) - shifted[np.arange(n), labels]).sum())
    return total, e / row_sums


ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh}
