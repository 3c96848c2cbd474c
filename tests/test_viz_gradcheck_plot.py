"""The gradient-check figure draws the very differences and relative errors the check computed."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlplab.nn import build_network, gradient_check
from mlplab.viz.panels import tile_images
from mlplab.viz.theme import figure_bytes
from mlplab.viz.training.gradcheck import FLOOR, abs_differences, plot_gradient_check


@pytest.mark.parametrize(("sizes", "theme"), [((16, 6, 3), "dark"), ((16, 5, 4, 3), "light")])
def test_figure_shows_the_check(sizes, theme):
    rng = np.random.default_rng(0)
    net = build_network(sizes, weight_init_std=0.5, seed=0, dtype=np.float64)
    x, t = rng.random((3, sizes[0])), np.array([0, 1, 2])
    checks, numerical, backprop = gradient_check(net, x, t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = plot_gradient_check(checks, numerical, backprop, theme=theme, subtitle="tiny")
        png = figure_bytes(drawn["figure"])
    plt.close(drawn["figure"])
    assert png.startswith(b"\x89PNG")
    assert [b.get_height() for b in drawn["relative_errors"]] == pytest.approx(
        [max(c.relative_error, FLOOR) for c in checks])
    diffs = abs_differences(numerical, backprop)
    W1 = diffs["W1"]  # (16, H): 16 inputs are 4x4 tiles, one per hidden unit
    expected = tile_images(W1.T.reshape(W1.shape[1], 4, 4), W1.shape[1])
    assert np.allclose(drawn["images"]["W1"].get_array().filled(np.nan), np.maximum(expected, FLOOR),
                       equal_nan=True)
    assert set(drawn["images"]) == {k for k in net.params if k.startswith("W")}
    assert set(drawn["biases"]) == {k for k in net.params if k.startswith("b")}
    assert "OK" in drawn["figure"].get_suptitle()


def test_a_wrong_gradient_is_shown_as_failed():
    net = build_network((16, 4, 3), weight_init_std=0.5, seed=1, dtype=np.float64)
    x, t = np.random.default_rng(1).random((2, 16)), np.array([0, 2])
    checks, numerical, backprop = gradient_check(net, x, t)
    backprop = {k: v * (1.5 if k == "W2" else 1.0) for k, v in backprop.items()}  # a bug in backprop
    from mlplab.nn.gradcheck import ParamCheck, relative_error

    checks = [ParamCheck(c.name, c.shape, c.mean_abs_diff, c.max_abs_diff,
                         relative_error(numerical[c.name], backprop[c.name])) for c in checks]
    drawn = plot_gradient_check(checks, numerical, backprop)
    assert "FAILED" in drawn["figure"].get_suptitle()
    plt.close(drawn["figure"])
