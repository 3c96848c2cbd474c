"""Backprop against central differences, per layer and for whole networks (float64, rel. err < 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.nn import (
    Affine,
    MultiLayerNet,
    Relu,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
    TwoLayerNet,
    build_network,
    gradient_check,
    relative_error,
)

TOL = 1e-6


def numerical(f, x, h=1e-5):
    """Central differences of a scalar function f at x (x is changed and restored)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + h
        plus = f()
        x[idx] = original - h
        minus = f()
        x[idx] = original
        grad[idx] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize("layer_cls", [Sigmoid, Relu, Tanh])
def test_activation_layer_backward(layer_cls, rng):
    x = rng.standard_normal((4, 6))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from ReLU's kink
    w = rng.standard_normal((4, 6))  # L = Σ w ⊙ layer(x), so ∂L/∂out = w
    layer = layer_cls()
    layer.forward(x)
    dx = layer.backward(w.copy())
    num = numerical(lambda: float(np.sum(w * layer_cls().forward(x))), x)
    assert relative_error(dx, num) < TOL


def test_affine_backward(rng):
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    x, w = rng.standard_normal((4, 5)), rng.standard_normal((4, 3))
    layer = Affine(W, b)
    layer.forward(x)
    dx = layer.backward(w)

    def loss():
        return float(np.sum(w * Affine(W, b).forward(x)))

    assert relative_error(dx, numerical(loss, x)) < TOL
    assert relative_error(layer.dW, numerical(loss, W)) < TOL
    assert relative_error(layer.db, numerical(loss, b)) < TOL


def test_affine_keeps_image_shape(rng):
    layer = Affine(rng.standard_normal((784, 3)), np.zeros(3))
    x = rng.standard_normal((2, 1, 28, 28))
    layer.forward(x)
    assert layer.backward(np.ones((2, 3))).shape == (2, 1, 28, 28)


def test_softmax_with_loss_gradient_is_y_minus_t_over_n(rng):
    x, t = rng.standard_normal((5, 4)), np.array([0, 3, 1, 1, 2])
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward()
    np.testing.assert_allclose(dx, (layer.y - np.eye(4)[t]) / 5, atol=1e-15)
    assert relative_error(dx, numerical(lambda: SoftmaxWithLoss().forward(x, t), x)) < TOL


@pytest.mark.parametrize("layer_cls", [Sigmoid, Relu, Tanh])
def test_backward_does_not_mutate_dout(layer_cls, rng):
    layer = layer_cls()
    layer.forward(rng.standard_normal((3, 4)))
    dout = rng.standard_normal((3, 4))
    before = dout.copy()
    layer.backward(dout)
    np.testing.assert_array_equal(dout, before)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
@pytest.mark.parametrize("labels", ["integers", "one-hot"])
def test_two_layer_net_gradient(activation, labels, rng):
    net = TwoLayerNet(20, 7, 4, weight_init_std=0.5, activation=activation, seed=1)
    x = rng.standard_normal((6, 20))
    t = rng.integers(0, 4, 6)
    if labels == "one-hot":
        t = np.eye(4)[t]
    checks, numerical_grads, backprop = gradient_check(net, x, t)
    assert set(numerical_grads) == set(backprop) == {"W1", "b1", "W2", "b2"}
    for c in checks:
        assert c.relative_error < TOL, c


def test_multi_layer_net_gradient(rng):
    net = MultiLayerNet(12, [8, 6, 5], 3, weight_init_std=0.5, activation="tanh", seed=2)
    x, t = rng.standard_normal((4, 12)), rng.integers(0, 3, 4)
    checks, _, _ = gradient_check(net, x, t)
    assert [c.name for c in checks] == ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"]
    assert max(c.relative_error for c in checks) < TOL


@pytest.mark.slow  # ~10 s; the small networks above check the same backprop in a fraction of a second
def test_mnist_gradient_check(mnist):
    """The textbook's check, on three real images and the real 784-50-10 sizes."""
    (x_train, t_train), _ = mnist
    net = TwoLayerNet(784, 50, 10, weight_init_std=0.1, seed=0)
    checks, _, _ = gradient_check(net, x_train[:3].astype(np.float64), t_train[:3])
    assert max(c.relative_error for c in checks) < TOL


def test_params_shapes_and_shared_arrays():
    net = TwoLayerNet(784, 50, 10, seed=0)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}
    net.params["W1"] -= 1.0  # in-place updates reach the layer
    assert net.layers[0].W is net.params["W1"]


def test_same_seed_same_weights():
    a, b = TwoLayerNet(10, 5, 3, seed=7), TwoLayerNet(10, 5, 3, seed=7)
    for key in a.params:
        np.testing.assert_array_equal(a.params[key], b.params[key])
    assert np.std(TwoLayerNet(784, 50, 10, seed=0).params["W1"]) == pytest.approx(0.01, rel=0.02)


def test_wrong_input_width_is_a_clear_error():
    net = TwoLayerNet(784, 50, 10, seed=0)
    with pytest.raises(ConfigError, match=r"784 features.*shape \(2, 100\)"):
        net.predict(np.zeros((2, 100)))


def test_bad_sizes_and_names():
    with pytest.raises(ConfigError, match="unknown activation"):
        TwoLayerNet(4, 3, 2, activation="swish")
    with pytest.raises(ConfigError, match="whole numbers"):
        build_network([4, 0, 2])


def test_accuracy_closed_form():
    net = TwoLayerNet(2, 3, 2, seed=0)
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    predicted = np.argmax(net.predict(x), axis=1)
    t = predicted.copy()
    t[:2] = 1 - t[:2]  # two of four wrong
    assert net.accuracy(x, t) == 0.5
