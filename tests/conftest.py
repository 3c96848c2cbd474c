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
