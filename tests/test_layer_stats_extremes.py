"""Layer statistics cope with the data real runs produce: zero range, denormals, inf, NaN, huge ranges.

A 25-layer sigmoid network's float32 gradients vanish to denormals and zeros (the lesson a teacher
wants to show); ``np.histogram`` refuses such a range ("Too many bins for data range").
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlplab.train import TrainConfig, train
from mlplab.train.layer_stats import BINS, histogram, load_layer_stats

BIG = np.finfo(np.float64).max
TINY32 = np.finfo(np.float32).smallest_subnormal

CASES = {
    "all zero": (np.zeros((50, 50), np.float32), 2500, 0),
    "one repeated value": (np.full(7, 3.25), 7, 0),
    "float32 denormals": (np.array([TINY32, 2 * TINY32, 0.0], np.float32), 3, 0),
    "float64 denormals": (np.array([5e-324, 1e-323]), 2, 0),
    "range wider than float64": (np.array([-1.7e308, 1.7e308]), 2, 0),
    "largest float repeated": (np.full(3, BIG), 3, 0),
    "inf and nan beside finite": (np.array([np.inf, -np.inf, np.nan, 1.0, 2.0]), 2, 3),
    "only nan": (np.array([np.nan, np.nan]), 0, 2),
    "empty": (np.zeros(0), 0, 0),
}


def check_shape(h: dict, n_finite: int, n_nonfinite: int) -> None:
    assert len(h["counts"]) == BINS and len(h["edges"]) == BINS + 1
    assert sum(h["counts"]) == n_finite  # every finite value lands in a bin
    assert h["nonfinite"] == n_nonfinite
    assert all(np.isfinite(h["edges"]))


@pytest.mark.parametrize("name", CASES)
def test_histogram_of_extreme_data(name):
    values, n_finite, n_nonfinite = CASES[name]
    h = histogram(values)
    check_shape(h, n_finite, n_nonfinite)
    if n_finite:
        assert np.all(np.diff(h["edges"]) > 0)
        finite = values[np.isfinite(values)].astype(np.float64)
        assert h["edges"][0] <= finite.min() and finite.max() <= h["edges"][-1]


def test_denormal_values_keep_their_own_range():
    # the histogram of tiny gradients spans the gradients, not [-0.5, 0.5]
    h = histogram(np.array([TINY32, 4 * TINY32], np.float32))
    assert h["edges"][0] == pytest.approx(float(TINY32)) and h["edges"][-1] == pytest.approx(4 * float(TINY32))
    assert h["counts"][0] == 1 and h["counts"][-1] == 1


@settings(max_examples=150, deadline=None)
@given(arrays(st.sampled_from([np.float32, np.float64]), st.integers(0, 40),
              elements=st.floats(allow_nan=True, allow_infinity=True, width=32)))
def test_histogram_never_fails(values):
    finite = int(np.isfinite(values).sum())
    check_shape(histogram(values), finite, values.size - finite)


def test_deep_sigmoid_network_trains_and_records(tmp_path):
    # 25 hidden layers of 50 sigmoid units in float32: the first layers' gradients underflow to 0
    config = TrainConfig(hidden=(50,) * 25, iters=30, eval_every=10, train_size=300, test_size=100, seed=0)
    result = train(config, run_dir=tmp_path / "deep")
    assert result.history.status == "completed"
    stats = load_layer_stats(tmp_path / "deep")
    grad_norms = stats.series("grad_norm")  # (26 layers, 4 evaluations: iterations 0, 10, 20 and the final 29)
    assert grad_norms.shape == (26, 4)
    assert grad_norms[0, -1] < 1e-30 < grad_norms[-1, -1]  # vanished at the bottom, alive at the top
    for layer in stats.layers:
        for h in layer["grad_hist"]:
            assert sum(h["counts"]) + h["nonfinite"] == np.prod(layer["shape"])
