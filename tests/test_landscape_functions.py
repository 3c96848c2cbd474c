"""Built-in functions: hand-written gradients against central differences and against the symbolic
derivative of their formula; the listed minima are minima."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.landscape import FUNCTIONS, get_function, parse_expression


def random_points(function, count=25, seed=0):
    (x0, x1), (y0, y1) = function.bounds
    rng = np.random.default_rng(seed)
    return rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_gradient_agrees_with_central_differences(name):
    f = FUNCTIONS[name]
    x, y = random_points(f)
    h = 1e-6
    gx, gy = f.gradient(x, y)
    nx = (f(x + h, y) - f(x - h, y)) / (2 * h)
    ny = (f(x, y + h) - f(x, y - h)) / (2 * h)
    for exact, numeric in ((gx, nx), (gy, ny)):
        relative = np.abs(exact - numeric) / np.maximum(np.abs(exact) + np.abs(numeric), 1e-8)
        assert relative.max() < 1e-6, (name, relative.max())


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_formula_text_is_the_same_function_with_the_same_gradient(name):
    """Two independent routes: hand-written NumPy vs the parser's symbolic derivative of ``formula``."""
    f = FUNCTIONS[name]
    tree = parse_expression(f.formula)
    x, y = random_points(f, seed=1)
    np.testing.assert_allclose(tree.evaluate(x, y), f(x, y), rtol=1e-12, atol=1e-12)
    gx, gy = f.gradient(x, y)
    np.testing.assert_allclose(tree.derivative("x").evaluate(x, y), gx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tree.derivative("y").evaluate(x, y), gy, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if FUNCTIONS[n].minima])
def test_gradient_vanishes_at_the_listed_minima_and_f_equals_f_star(name):
    f = FUNCTIONS[name]
    for m in f.minima:
        assert np.linalg.norm(f.gradient_at(np.array(m))) < 1e-8, (name, m)
        assert f.value_at(np.array(m)) == pytest.approx(f.f_min, abs=1e-12)
        # a minimum, not a saddle: f rises in every direction around it
        for angle in np.linspace(0, 2 * np.pi, 8, endpoint=False):
            step = 1e-3 * np.array([np.cos(angle), np.sin(angle)])
            assert f.value_at(np.array(m) + step) > f.f_min


def test_quadratics_carry_their_hessian():
    assert np.array_equal(FUNCTIONS["seed"].quadratic.hessian, np.diag([0.02, 2.0]))
    assert np.array_equal(FUNCTIONS["textbook"].quadratic.hessian, np.diag([0.1, 2.0]))
    saddle = FUNCTIONS["saddle"]
    assert saddle.minima == () and saddle.f_min is None and not saddle.quadratic.is_convex


def test_vectorised_over_grids():
    f = FUNCTIONS["himmelblau"]
    X, Y = np.meshgrid(np.linspace(-5, 5, 7), np.linspace(-5, 5, 3))
    assert f(X, Y).shape == (3, 7)
    assert all(g.shape == (3, 7) for g in f.gradient(X, Y))


def test_names_expressions_and_unknown_names():
    assert get_function(" Rosenbrock ") is FUNCTIONS["rosenbrock"]
    assert get_function("six-hump-camel") is FUNCTIONS["camel"]
    custom = get_function("x**2/100 + y**2")
    assert custom.quadratic is not None and custom.minima == ((0.0, 0.0),)
    with pytest.raises(ConfigError, match="unknown function 'rosenbrok'; choose one of: seed, textbook"):
        get_function("rosenbrok")
