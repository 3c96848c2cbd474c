"""Paths and the theory for quadratics: GD equals its closed form, the seed's numbers, each optimizer's
first steps, the stability limit, and a verdict that says "converged" only below the tolerance."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.landscape import FUNCTIONS, Quadratic, descend, get_function, judge, paths_csv
from mlplab.landscape.compare import PRESETS, compare_optimizers, parse_optimizer_list
from mlplab.optim import OPTIMIZERS

QUADRATICS = ["seed", "textbook", "bowl", "saddle", "(x - 1)**2 + (y + 2)**2 + x*y", "3*x**2 - 2*x*y + y**2 + x"]


@pytest.mark.parametrize("spec", QUADRATICS)
def test_gradient_descent_on_a_quadratic_equals_the_closed_form(spec):
    f = get_function(spec)
    lr = min(f.lr, 0.9 * f.quadratic.stability_limit())
    path = descend(f, "sgd", lr, 40, (-3.0, 2.5))
    closed = f.quadratic.gd_path(lr, 40, path.start)
    np.testing.assert_allclose(path.points, closed, rtol=1e-12, atol=1e-12)  # the saddle grows to 2e3


def test_the_seed_run_ends_near_minus_4_059_not_at_the_minimum():
    path = descend(FUNCTIONS["seed"])  # x**2/100 + y**2, lr 0.9, 30 steps from (-7, 2)
    # per direction: x shrinks by 1 − 0.9·(1/50) = 0.982, y by 1 − 0.9·2 = −0.8
    np.testing.assert_allclose(path.end, [-7 * 0.982**30, 2 * (-0.8) ** 30], rtol=1e-12)
    assert (round(path.end[0], 3), round(path.end[1], 4)) == (-4.059, 0.0025)
    assert path.steps == 30 and path.lrs.tolist() == [0.9] * 30


def test_theory_factors_limit_and_steps_to_reach():
    q = FUNCTIONS["seed"].quadratic
    np.testing.assert_allclose(q.factors(0.9), [0.982, -0.8], rtol=1e-14)
    assert q.stability_limit() == pytest.approx(1.0) and q.condition_number == pytest.approx(100.0)
    needed = q.steps_to_reach(0.9, np.array([-7.0, 2.0]), 1e-3)
    assert needed == 488
    # the count is exact: one step fewer is not enough, numerically
    f = FUNCTIONS["seed"]
    assert np.linalg.norm(descend(f, steps=488).end) <= 1e-3 < np.linalg.norm(descend(f, steps=487).end)
    assert q.steps_to_reach(1.0, np.array([-7.0, 2.0]), 1e-3) is None  # |1 − 1·2| = 1: y never shrinks


def test_verdict_says_converged_only_below_the_tolerance():
    f = FUNCTIONS["seed"]
    thirty = judge(descend(f))
    assert not thirty.converged and thirty.distance == pytest.approx(np.hypot(7 * 0.982**30, 2 * 0.8**30))
    assert thirty.steps_needed == 488 and "closed form" in thirty.steps_source
    assert thirty.closed_form_error < 1e-12
    assert thirty.f_gap == pytest.approx(0.01 * thirty.path.end[0] ** 2 + thirty.path.end[1] ** 2, rel=1e-12)
    text = str(thirty)
    assert "NOT converged: distance 4.059 > tolerance 0.001" in text
    assert "488 steps to come within 0.001" in text
    assert judge(descend(f, steps=488)).converged and not judge(descend(f, steps=487)).converged
    assert judge(descend(f, steps=30), tol=5.0).converged


def test_verdict_on_a_local_minimum_and_on_a_saddle():
    stuck = judge(descend(FUNCTIONS["rastrigin"]))  # an egg-box dimple next to the start
    assert not stuck.converged and stuck.gradient_norm < 1e-6 and stuck.f_gap > 1
    assert "stuck at a stationary point" in stuck.status
    saddle = judge(descend(FUNCTIONS["saddle"]))
    assert saddle.distance is None and "no minimum" in saddle.status


def test_an_unstable_learning_rate_diverges_and_is_reported():
    f = FUNCTIONS["seed"]
    growing = descend(f, lr=1.05)  # just above 2/L = 1: |1 − 1.05·2| = 1.1 > 1
    assert np.linalg.norm(growing.end) > np.linalg.norm(growing.start)
    assert "moving AWAY" in judge(growing).status
    blown = descend(f, lr=50.0)
    assert blown.diverged_at is not None and np.all(np.isfinite(blown.points))
    with pytest.raises(ConfigError, match="above the stability limit 2/L = 1"):
        blown.raise_if_diverged()


def first_two_steps(name: str, lr: float, f) -> np.ndarray:
    """The optimizers' formulas, written out for two steps from the start (w0) with g = ∇f."""
    w0 = np.array(f.start)
    g0 = f.gradient_at(w0)
    if name == "sgd":
        w1 = w0 - lr * g0
        return np.array([w1, w1 - lr * f.gradient_at(w1)])
    if name in ("momentum", "nesterov"):
        m = 0.9
        v1 = -lr * g0
        # Nesterov (Sutskever 2013) applies the old velocity: W ← W + m²·v − (1+m)·lr·g; v₀ = 0.
        w1 = w0 + v1 if name == "momentum" else w0 - (1 + m) * lr * g0
        g1 = f.gradient_at(w1)
        v2 = m * v1 - lr * g1
        w2 = w1 + v2 if name == "momentum" else w1 + m * m * v1 - (1 + m) * lr * g1
        return np.array([w1, w2])
    if name in ("adagrad", "rmsprop"):
        rho, eps = (0.99, 1e-7)
        h1 = g0**2 if name == "adagrad" else (1 - rho) * g0**2
        w1 = w0 - lr * g0 / (np.sqrt(h1) + eps)
        g1 = f.gradient_at(w1)
        h2 = h1 + g1**2 if name == "adagrad" else rho * h1 + (1 - rho) * g1**2
        return np.array([w1, w1 - lr * g1 / (np.sqrt(h2) + eps)])
    b1, b2, eps = 0.9, 0.999, 1e-7  # adam
    m1, v1 = (1 - b1) * g0, (1 - b2) * g0**2
    w1 = w0 - lr * np.sqrt(1 - b2) / (1 - b1) * m1 / (np.sqrt(v1) + eps)
    g1 = f.gradient_at(w1)
    m2, v2 = b1 * m1 + (1 - b1) * g1, b2 * v1 + (1 - b2) * g1**2
    return np.array([w1, w1 - lr * np.sqrt(1 - b2**2) / (1 - b1**2) * m2 / (np.sqrt(v2) + eps)])


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_each_optimizer_moves_the_point_by_its_formula(name):
    f = FUNCTIONS["textbook"]
    path = descend(f, name, 0.1, 2)
    np.testing.assert_allclose(path.points[1:], first_two_steps(name, 0.1, f), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(path.step_gradients, path.gradients[:-1])  # full batch: exact gradients


def test_textbook_preset_runs_the_books_four_optimizers():
    preset = PRESETS["textbook"]
    assert preset.optimizers == (("sgd", 0.95), ("momentum", 0.1), ("adagrad", 1.5), ("adam", 0.3))
    paths = compare_optimizers(get_function(preset.function), preset.optimizers, preset.steps, preset.start)
    assert [p.label for p in paths] == ["sgd lr=0.95", "momentum lr=0.1", "adagrad lr=1.5", "adam lr=0.3"]
    assert all(p.steps == 30 and tuple(p.start) == (-7.0, 2.0) for p in paths)
    assert parse_optimizer_list("SGD:0.5, adam:1e-3") == (("sgd", 0.5), ("adam", 0.001))
    with pytest.raises(ConfigError, match="needs a learning rate"):
        parse_optimizer_list("adam")


def test_noise_covariance_recursion_matches_its_closed_form():
    q = Quadratic(np.diag([0.02, 2.0]))
    lr, s, k = 0.9, 0.5 / np.sqrt(10), 100
    sigma = q.noise_covariances(np.full(k, lr), s)
    r = q.factors(lr)
    np.testing.assert_allclose(np.diag(sigma[-1]), lr**2 * s**2 * (1 - r ** (2 * k)) / (1 - r**2), rtol=1e-12)
    np.testing.assert_allclose(q.stationary_noise_std(lr, s) ** 2, lr**2 * s**2 / (1 - r**2), rtol=1e-12)


def test_paths_csv_holds_every_point_exactly():
    path = descend(FUNCTIONS["seed"], steps=3)
    rows = [line.split(",") for line in paths_csv([path]).splitlines()]
    assert rows[0] == ["path", "label", "step", "x", "y", "f", "grad_x", "grad_y", "lr"]
    assert len(rows) == 5 and float(rows[-1][3]) == path.end[0] and rows[-1][-1] == ""
