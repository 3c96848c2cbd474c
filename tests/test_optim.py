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


def look_ahead_nesterov(gradient, w0, lr, m, steps):
    """Nesterov as Sutskever et al. (2013) eq. 3-4 write it, independently of mlplab's code.

    The gradient is taken at the look-ahead point θ + m·v; ``v ← m·v − lr·∇f(θ + m·v)``; ``θ ← θ + v``.
    mlplab's optimizer holds ``W = θ + m·v`` instead (the change of variables), so that is what we return.
    With v₀ = 0 both start at the same point.
    """
    theta, v = np.array(w0, dtype=float), np.zeros(len(w0))
    path = [theta + m * v]
    for _ in range(steps):
        v = m * v - lr * gradient(theta + m * v)
        theta = theta + v
        path.append(theta + m * v)
    return np.array(path)


def optimizer_path(opt, gradient, w0, steps):
    params = {"w": np.array(w0, dtype=float)}
    path = [params["w"].copy()]
    for _ in range(steps):
        opt.update(params, {"w": gradient(params["w"])})
        path.append(params["w"].copy())
    return np.array(path)


def ellipse_gradient(w):  # f = x²/20 + y², the book's fig. 6-8 bowl
    return np.array([w[0] / 10, 2 * w[1]])


def rosenbrock_gradient(w):  # f = (1 − x)² + 100 (y − x²)²
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


@pytest.mark.parametrize("gradient,w0,lr,steps", [
    (ellipse_gradient, [-7.0, 2.0], 0.1, 30),
    (rosenbrock_gradient, [-1.5, 2.0], 1e-4, 500),
])
def test_nesterov_equals_the_look_ahead_form(gradient, w0, lr, steps):
    m = 0.9
    expected = look_ahead_nesterov(gradient, w0, lr, m, steps)
    got = optimizer_path(Nesterov(lr, m), gradient, w0, steps)
    assert np.abs(expected[-1] - expected[0]).max() > 0.5  # the path really goes somewhere
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


def test_nesterov_converges_where_the_old_new_velocity_form_diverged():
    """f = x²/2 at lr 1.2, m 0.9: Nesterov's 2×2 iteration matrix has spectral radius < 1.

    In the W variable, W_{t+1} = W_t + m²·v_t − (1+m)·lr·W_t and v_{t+1} = m·v_t − lr·W_t. The old code
    applied the new velocity, W_{t+1} = W_t + m³·v_t − (1+m+m²)·lr·W_t, whose radius is > 1.
    """
    lr, m = 1.2, 0.9
    right = np.array([[1 - (1 + m) * lr, m * m], [-lr, m]])
    wrong = np.array([[1 - (1 + m + m * m) * lr, m**3], [-lr, m]])
    assert max(abs(np.linalg.eigvals(right))) < 1 < max(abs(np.linalg.eigvals(wrong)))
    path = optimizer_path(Nesterov(lr, m), lambda w: 1.0 * w, [1.0], 200)  # ∇(x²/2) = x, a new array
    assert abs(path[-1, 0]) < 1e-6
    expected = np.linalg.matrix_power(right, 200) @ np.array([1.0, 0.0])
    np.testing.assert_allclose(path[-1, 0], expected[0], atol=1e-12)


def test_nesterov_matches_pytorch():
    """torch's SGD(nesterov=True, dampening=0) keeps buf = −v/lr; for a constant lr it is our formula."""
    torch = pytest.importorskip("torch")
    lr, m, w0, steps = 0.1, 0.9, [-7.0, 2.0], 30
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr, momentum=m, nesterov=True)
    reference = [w.detach().numpy().copy()]
    for _ in range(steps):
        w.grad = torch.from_numpy(ellipse_gradient(w.detach().numpy()))
        opt.step()
        reference.append(w.detach().numpy().copy())
    got = optimizer_path(Nesterov(lr, m), ellipse_gradient, w0, steps)
    np.testing.assert_allclose(got, np.array(reference), rtol=1e-12, atol=1e-12)


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


@pytest.mark.parametrize("eps", [1e-7, 1e-2])
def test_adam_equals_kingma_and_ba_up_to_where_eps_sits(eps):
    """Kingma & Ba (2015) Algorithm 1: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), W ← W − lr·m̂/(√v̂ + ε).

    mlplab (like the textbook) folds the bias corrections into lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ) and divides by
    √v + ε, which is Kingma & Ba with ε/√(1−β2ᵗ) in place of ε. For a step a/(b + e), changing e by δ
    changes the step by at most |a|·δ/b²; with a = lr·m̂ and b = √v̂ that bounds the difference per step.
    """
    lr, b1, b2 = 0.01, 0.9, 0.999
    one, two = two_steps(Adam(lr, b1, b2, eps=eps))
    m = v = np.zeros(3)
    w, bound = W0.copy(), np.zeros(3)
    for t, (g, got) in enumerate(((G1, one), (G2, two)), start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        bound += lr * np.abs(m_hat) * (eps / np.sqrt(1 - b2**t) - eps) / v_hat  # the gradients do not depend on W
        assert np.all(np.abs(got - w) <= bound + 1e-15), (t, got - w, bound)
    if eps == 1e-7:  # the first step moves every coordinate by about lr, whatever the gradient (m̂/√v̂ = ±1)
        np.testing.assert_allclose(np.abs(one - W0), lr, rtol=1e-4)
    else:  # the difference is real, not rounding: with a large ε it shows
        assert np.abs(two - w).max() > 1e-3


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
