"""Optimizers: exact one-step formulas, convergence on a bowl, and the registry."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.optim import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSprop, make_optimizer

W0 = np.array([1.0, -2.0, 0.5])
G1 = np.array([0.3, -0.1, 2.0])
G2 = np.array([-0.2, 0.4, 1.0])


def two_steps(opt):
    params = {"w": W0.copy()}
    opt.update(params, {"w": G1.copy()})
    after_one = params["w"].copy()
    opt.update(params, {"w": G2.copy()})
    return after_one, params["w"]


def test_sgd_formula():
    one, two = two_steps(SGD(lr=0.1))
    np.testing.assert_allclose(one, W0 - 0.1 * G1)
    np.testing.assert_allclose(two, W0 - 0.1 * G1 - 0.1 * G2)


def test_momentum_formula():
    lr, m = 0.1, 0.9
    one, two = two_steps(Momentum(lr, m))
    v1 = -lr * G1
    v2 = m * v1 - lr * G2
    np.testing.assert_allclose(one, W0 + v1)
    np.testing.assert_allclose(two, W0 + v1 + v2)


def test_nesterov_formula():
    lr, m = 0.1, 0.9
    one, two = two_steps(Nesterov(lr, m))
    v1 = -lr * G1
    w1 = W0 + m * m * v1 - (1 + m) * lr * G1
    v2 = m * v1 - lr * G2
    w2 = w1 + m * m * v2 - (1 + m) * lr * G2
    np.testing.assert_allclose(one, w1)
    np.testing.assert_allclose(two, w2)


def test_adagrad_formula():
    lr, eps = 0.5, 1e-7
    one, two = two_steps(AdaGrad(lr, eps=eps))
    h1 = G1**2
    w1 = W0 - lr * G1 / (np.sqrt(h1) + eps)
    h2 = h1 + G2**2
    np.testing.assert_allclose(one, w1)
    np.testing.assert_allclose(two, w1 - lr * G2 / (np.sqrt(h2) + eps))


def test_rmsprop_formula():
    lr, rho, eps = 0.01, 0.99, 1e-7
    one, two = two_steps(RMSprop(lr, rho, eps=eps))
    h1 = (1 - rho) * G1**2
    w1 = W0 - lr * G1 / (np.sqrt(h1) + eps)
    h2 = rho * h1 + (1 - rho) * G2**2
    np.testing.assert_allclose(one, w1)
    np.testing.assert_allclose(two, w1 - lr * G2 / (np.sqrt(h2) + eps))


def test_adam_formula_equals_bias_corrected_form():
    """The textbook's folded step equals Kingma & Ba's m̂ / (√v̂ + ε) up to where ε sits."""
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    one, two = two_steps(Adam(lr, b1, b2, eps=eps))
    m = v = np.zeros(3)
    w = W0.copy()
    for t, g in enumerate((G1, G2), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        w = w - lr_t * m / (np.sqrt(v) + eps)
        if t == 1:
            np.testing.assert_allclose(one, w)
            # First step of Adam moves every coordinate by about lr, whatever the gradient's size.
            np.testing.assert_allclose(np.abs(one - W0), lr, rtol=1e-4)
    np.testing.assert_allclose(two, w)


# Learning rates that converge on the bowl f(w) = ½ wᵀ diag(1, 10) w within 500 steps.
BOWL_LR = {"sgd": 0.05, "momentum": 0.02, "nesterov": 0.02, "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_converges_on_a_bowl(name):
    scales = np.array([1.0, 10.0])
    params = {"w": np.array([3.0, -2.0])}
    opt = make_optimizer(name, BOWL_LR[name])
    for _ in range(2000):
        opt.update(params, {"w": scales * params["w"]})
    assert np.linalg.norm(params["w"]) < 1e-2, (name, params["w"])


def test_registry_and_errors():
    assert list(OPTIMIZERS) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]
    assert isinstance(make_optimizer("Adam", 0.001), Adam)
    with pytest.raises(ConfigError, match="unknown optimizer 'lbfgs'; choose one of: sgd"):
        make_optimizer("lbfgs", 0.1)
    with pytest.raises(ConfigError, match="lr must be a positive number"):
        SGD(lr=-1)
    with pytest.raises(ConfigError, match="momentum must be in"):
        Momentum(0.1, momentum=1.5)
    with pytest.raises(TypeError):
        AdaGrad(0.1, 1e-7)  # eps is keyword-only everywhere
