"""Each activation's facts live on its layer class, and they are true.

The facts (derivative bound, saturation threshold, recommended init) are checked against measurements
(central differences on a grid), not against the same formula written twice. Then a toy activation
(softplus) is added in ONE place — a subclass registered in ``ACTIVATION_LAYERS`` — and trained end to
end: layer statistics, the diagnosis, the figures and the gradient check work without naming it anywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.diagnose import diagnose_run
from mlplab.nn.gradcheck import gradient_check
from mlplab.nn.layers import ACTIVATION_LAYERS, Activation
from mlplab.nn.networks import build_network
from mlplab.train import TrainConfig, train
from mlplab.train.layer_stats import load_layer_stats

A = np.linspace(-12, 12, 24001)  # pre-activations, step 1e-3


def measured_slope(cls: type[Activation]) -> np.ndarray:
    """f'(a) by central differences through the layer's own forward (independent of its backward)."""
    h = 1e-6
    return (cls().forward(A + h) - cls().forward(A - h)) / (2 * h)


@pytest.mark.parametrize("name", list(ACTIVATION_LAYERS))
def test_the_derivative_bound_is_the_measured_maximum_slope(name):
    cls = ACTIVATION_LAYERS[name]
    slope = measured_slope(cls)
    assert slope.max() == pytest.approx(cls.slope_bound, rel=1e-3)


@pytest.mark.parametrize("name", list(ACTIVATION_LAYERS))
def test_backward_is_the_measured_derivative(name):
    cls = ACTIVATION_LAYERS[name]
    layer = cls()
    layer.forward(A)
    keep = np.abs(A) > 1e-3  # ReLU has no derivative at 0
    np.testing.assert_allclose(layer.backward(np.ones_like(A))[keep], measured_slope(cls)[keep], atol=1e-6)


@pytest.mark.parametrize("name", [n for n, c in ACTIVATION_LAYERS.items() if c.saturation is not None])
def test_a_saturated_output_passes_less_than_4_percent_of_the_largest_slope(name):
    cls = ACTIVATION_LAYERS[name]
    out = cls().forward(A)
    saturated = np.abs(out - cls.saturation_centre) > cls.saturation
    assert saturated.any() and measured_slope(cls)[saturated].max() < 0.04 * cls.slope_bound
    # flat_beyond: the pre-activation beyond which the output is saturated (rounded to 0.1)
    first = np.abs(A[saturated]).min()
    assert first == pytest.approx(cls.flat_beyond, abs=0.06)


def test_units_die_only_where_the_class_says_so():
    out = np.array([[0.0, 1.0], [0.0, 2.0]])
    assert ACTIVATION_LAYERS["relu"].dead_share(out) == 0.5
    assert ACTIVATION_LAYERS["sigmoid"].dead_share(out) is None
    assert ACTIVATION_LAYERS["relu"].saturated_share(out) is None


class Softplus(Activation):
    """y = ln(1 + eᵃ), a smooth ReLU; ∂y/∂a = σ(a) = 1 − e^(−y)."""

    name = "softplus"
    formula = "softplus({a}) = ln(1 + exp({a}))"
    derivative = "(1 − exp(−{z}))"
    slope_bound = 1.0
    init = "he"
    output_range = (0.0, np.inf)

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.logaddexp(0, x).astype(x.dtype, copy=False)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * -np.expm1(-self.out)


@pytest.fixture
def softplus(monkeypatch):
    monkeypatch.setitem(ACTIVATION_LAYERS, "softplus", Softplus)  # the one place it is added
    return Softplus


def test_a_toy_activation_added_in_one_place_trains_with_stats_diagnosis_and_figures(softplus, tmp_path):
    from mlplab.viz.training.run_figures import draw_run

    config = TrainConfig(activation="softplus", weight_init_std="auto", hidden=(16,), iters=60, batch_size=50,
                         train_size=500, test_size=200, eval_every=20, lr=0.1, seed=0)
    result = train(config, run_dir=tmp_path / "run")
    assert result.history.status == "completed" and result.history.test_acc[-1] > 0.3
    stats = load_layer_stats(tmp_path / "run")
    assert stats.layers[0]["activation"] == "softplus" and stats.layers[1]["activation"] is None
    assert stats.layers[0]["act_saturated"][-1] is None and stats.layers[0]["act_dead"][-1] is None
    assert isinstance(diagnose_run(tmp_path / "run"), list)
    # workers=1: a spawned worker process would not see this test's registration (a real activation is
    # registered where ACTIVATION_LAYERS is defined, so every process knows it)
    figures = draw_run(tmp_path / "run", names=("architecture", "gradcheck", "activations"), animation=False,
                       workers=1)
    assert set(figures.paths) == {"architecture", "gradcheck", "activations"}, figures.skipped
    # He init, as the class recommends: std √(2/784) for W1
    assert np.std(build_network((784, 16, 10), activation="softplus", weight_init_std="auto", seed=0)
                  .params["W1"]) == pytest.approx(np.sqrt(2 / 784), rel=0.05)


def test_a_toy_activation_passes_the_gradient_check_in_float64(softplus):
    rng = np.random.default_rng(0)
    network = build_network((6, 5, 4, 3), activation="softplus", weight_init_std=0.5, seed=1, dtype=np.float64)
    checks, _, _ = gradient_check(network, rng.standard_normal((4, 6)), rng.integers(0, 3, size=4))
    assert max(c.relative_error for c in checks) < 1e-6
