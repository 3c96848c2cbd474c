"""MNIST cut to a size: the same numbers as the whole set, sliced."""

from __future__ import annotations

import numpy as np

from mlplab.data import load_mnist


def test_a_cut_set_is_the_first_images_of_the_whole_one_converted_alike():
    """train_size / test_size cut before converting: the same numbers as converting all and slicing."""
    (x_all, t_all), (xs_all, ts_all) = load_mnist(one_hot_label=True)
    (x, t), (xs, ts) = load_mnist(one_hot_label=True, train_size=1000, test_size=7)
    assert x.shape == (1000, 784) and xs.shape == (7, 784)
    np.testing.assert_array_equal(x, x_all[:1000])
    np.testing.assert_array_equal(xs, xs_all[:7])
    assert t.shape == (1000, 10) and ts.shape == (7, 10)  # one-hot as wide as the whole set's classes
    np.testing.assert_array_equal(ts, ts_all[:7])
