"""Shared test set-up: a non-interactive matplotlib backend and small, fast data."""

from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlplab.data import load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, float32, flattened: ((x_train, t_train), (x_test, t_test))."""
    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """2000 training and 500 test images: enough to learn something in a second."""
    (x_train, t_train), (x_test, t_test) = mnist
    return (x_train[:2000], t_train[:2000]), (x_test[:500], t_test[:500])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _saved_model_accuracy(run_dir, x_test, t_test) -> float:
    """Score ``model.npz`` with plain NumPy: the book's 784-H-10 sigmoid net, argmax of the scores."""
    with np.load(run_dir / "model.npz") as m:
        W1, b1, W2, b2 = (m[k].astype(np.float64) for k in ("W1", "b1", "W2", "b2"))
    hidden = 1 / (1 + np.exp(-(x_test.astype(np.float64) @ W1 + b1)))  # (N, 784) @ (784, H) -> (N, H)
    scores = hidden @ W2 + b2  # (N, H) @ (H, 10) -> (N, 10); softmax would not change the argmax
    return float(np.mean(np.argmax(scores, axis=1) == t_test))


@pytest.fixture(scope="session")
def saved_model_accuracy():
    """``saved_model_accuracy(run_dir, x_test, t_test)``: the accuracy of a run's ``model.npz``, computed
    independently of mlplab's network code (a sigmoid two-layer net written out in NumPy)."""
    return _saved_model_accuracy
