"""Softmax and cross-entropy: properties that must hold for any input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlplab.nn import cross_entropy_error, relu, sigmoid, softmax, tanh

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
rows = arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(2, 12)), elements=finite)


@settings(max_examples=100, deadline=None)
@given(rows)
def test_softmax_rows_are_distributions(x):
    y = softmax(x)
    assert np.all(np.isfinite(y)) and np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)


@settings(max_examples=100, deadline=None)
@given(rows, st.floats(-500, 500))
def test_softmax_ignores_a_constant_shift(x, c):
    np.testing.assert_allclose(softmax(x + c), softmax(x), atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(rows)
def test_softmax_keeps_the_order(x):
    # Monotone: a larger score never gets a smaller probability.
    y = softmax(x)
    order = np.argsort(x, axis=1, kind="stable")
    assert np.all(np.diff(np.take_along_axis(y, order, axis=1), axis=1) >= 0)


def test_softmax_of_huge_scores_does_not_overflow():
    y = softmax(np.array([[1000.0, 0.0, -1000.0]]))
    np.testing.assert_allclose(y, [[1.0, 0.0, 0.0]])


@settings(max_examples=100, deadline=None)
@given(rows, st.data())
def test_cross_entropy_labels_equal_one_hot(x, data):
    n, c = x.shape
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    one_hot = np.eye(c)[labels]
    y = softmax(x)
    assert cross_entropy_error(y, labels) == pytest.approx(cross_entropy_error(y, one_hot))
    assert cross_entropy_error(y, labels) >= -1e-6  # ≥ 0 but for the textbook's 1e-7 in log(y + 1e-7)


def test_cross_entropy_closed_forms():
    # Uniform prediction over 10 classes: −log(1/10) = log 10.
    y = np.full((4, 10), 0.1)
    assert cross_entropy_error(y, np.array([0, 3, 5, 9])) == pytest.approx(np.log(10), rel=1e-6)
    # The textbook's example (§4.2.2): t = 2, y[2] = 0.6 → −log 0.6 = 0.5108...
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert cross_entropy_error(y, np.eye(10)[2]) == pytest.approx(0.510825457099338, rel=1e-6)


def test_activations_closed_forms():
    x = np.array([-np.inf, -1000.0, 0.0, 2.0])
    with np.errstate(all="raise"):  # the overflow must be handled inside sigmoid
        s = sigmoid(x)
    np.testing.assert_allclose(s, [0.0, 0.0, 0.5, 1 / (1 + np.exp(-2.0))])
    np.testing.assert_array_equal(relu(np.array([-1.0, 0.0, 3.0])), [0.0, 0.0, 3.0])
    # tanh(ln a) = (a − 1/a) / (a + 1/a): exactly 3/5 for a = 2 and 4/5 for a = 3.
    np.testing.assert_allclose(tanh(np.log([1.0, 2.0, 3.0])), [0.0, 0.6, 0.8], rtol=1e-15, atol=1e-15)
    z = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(tanh(z), 2 / (1 + np.exp(-2 * z)) - 1, rtol=1e-12, atol=1e-15)  # 2σ(2z) − 1
    with np.errstate(all="raise"):  # saturates to ±1 without overflowing
        np.testing.assert_array_equal(tanh(np.array([-1000.0, 1000.0])), [-1.0, 1.0])
