"""Ch. 6's layers and networks: batch norm, dropout, weight decay, MultiLayerNetExtend.

Every gradient is checked against central differences in float64 (relative error < 1e-6); the
forward passes against properties that hold whatever the implementation (a normalized batch has
mean β and standard deviation γ; dropout's evaluation output is its training output's expectation).
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.nn import (
    BatchNormalization,
    Dropout,
    MultiLayerNet,
    MultiLayerNetExtend,
    gradient_check,
    numerical_gradient,
    relative_error,
)
from mlplab.nn.book_compat import BOOK_KEYWORDS, BOOK_WEIGHT_INIT

TOL = 1e-6


def layer_gradients(layer, x, w, params):
    """Backprop and central differences of L = Σ w ⊙ layer(x) (training mode) w.r.t. x and params."""
    layer.forward(x, train_flg=True)
    dx = layer.backward(w.copy())

    def loss(_):
        return float(np.sum(w * layer.forward(x, train_flg=True)))

    return dx, numerical_gradient(loss, x), {k: numerical_gradient(loss, p) for k, p in params.items()}


# -- batch normalization ---------------------------------------------------------------------
def test_batchnorm_backward_matches_central_differences(rng):
    x = rng.standard_normal((5, 4)) * 3 + 1
    gamma, beta = rng.standard_normal(4), rng.standard_normal(4)
    w = rng.standard_normal((5, 4))
    layer = BatchNormalization(gamma, beta)
    dx, num_dx, num = layer_gradients(layer, x, w, {"gamma": gamma, "beta": beta})
    assert relative_error(dx, num_dx) < TOL
    assert relative_error(layer.dgamma, num["gamma"]) < TOL
    assert relative_error(layer.dbeta, num["beta"]) < TOL


def test_batchnorm_on_images_keeps_their_shape(rng):
    x = rng.standard_normal((3, 2, 2, 2))
    gamma, beta = np.ones(8), np.zeros(8)
    w = rng.standard_normal(x.shape)
    layer = BatchNormalization(gamma, beta)
    dx, num_dx, _ = layer_gradients(layer, x, w, {})
    assert dx.shape == x.shape
    assert relative_error(dx, num_dx) < TOL


def test_batchnorm_training_output_has_mean_beta_and_std_gamma(rng):
    x = rng.standard_normal((200, 3)) * np.array([0.1, 5.0, 30.0]) + np.array([-4.0, 0.0, 7.0])
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    y = BatchNormalization(gamma, beta).forward(x, train_flg=True)
    np.testing.assert_allclose(y.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(y.std(axis=0), gamma, rtol=1e-4)  # ε = 1e-6 under the root


def test_batchnorm_evaluation_uses_running_statistics(rng):
    """After k training batches from zero, running_mean = Σ_j (1−m) m^(k−j) μ_j; evaluation of a
    single row then does not depend on any other row."""
    m = 0.9
    layer = BatchNormalization(np.ones(2), np.zeros(2), momentum=m)
    batches = [rng.standard_normal((10, 2)) + 3 for _ in range(3)]
    for b in batches:
        layer.forward(b, train_flg=True)
    expected_mean = sum((1 - m) * m ** (2 - j) * b.mean(axis=0) for j, b in enumerate(batches))
    expected_var = sum((1 - m) * m ** (2 - j) * b.var(axis=0) for j, b in enumerate(batches))
    np.testing.assert_allclose(layer.running_mean, expected_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, expected_var, rtol=1e-12)
    row = np.array([[3.5, 2.0]])
    np.testing.assert_allclose(
        layer.forward(row, train_flg=False), (row - expected_mean) / np.sqrt(expected_var + 1e-6), rtol=1e-12)
    both = layer.forward(np.vstack([row, row + 100]), train_flg=False)
    np.testing.assert_array_equal(both[:1], layer.forward(row, train_flg=False))


# -- dropout --------------------------------------------------------------------------------
def test_dropout_backward_with_a_fixed_mask(rng):
    x, w = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    layer = Dropout(0.4, seed=1)
    layer.forward(x, train_flg=True)
    layer.hold_mask = True  # the loss must be one fixed function of x for central differences
    dx, num_dx, _ = layer_gradients(layer, x, w, {})
    assert relative_error(dx, num_dx) < TOL
    assert np.all(dx[~layer.mask] == 0)


def test_dropout_keeps_about_one_minus_ratio_and_evaluates_to_the_expectation(rng):
    x = rng.standard_normal((1000, 50))
    layer = Dropout(0.3, seed=0)
    kept = np.mean([layer.forward(x, train_flg=True) != 0 for _ in range(20)], axis=0)
    assert kept.mean() == pytest.approx(0.7, abs=0.005)  # 1e6 Bernoulli draws: σ ≈ 0.0005
    mean_training_output = np.mean([layer.forward(x[:5], train_flg=True) for _ in range(4000)], axis=0)
    np.testing.assert_allclose(mean_training_output, layer.forward(x[:5], train_flg=False), atol=0.05)
    np.testing.assert_allclose(layer.forward(x, train_flg=False), 0.7 * x)


def test_dropout_seed_repeats_masks_and_none_follows_numpy_global_state():
    x = np.ones((4, 8))
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    np.random.seed(0)
    first = Dropout(0.5).forward(x)
    np.random.seed(0)
    np.testing.assert_array_equal(Dropout(0.5).forward(x), first)


@pytest.mark.parametrize("bad", [-0.1, 1.0])
def test_dropout_ratio_must_be_a_probability(bad):
    with pytest.raises(ConfigError, match="dropout_ratio must be in"):
        Dropout(bad)
    with pytest.raises(ConfigError, match="dropout_ratio must be in"):
        MultiLayerNetExtend(4, [3], 2, use_dropout=True, dropout_ration=bad)


# -- networks: weight decay, batch norm, dropout, gradient-checked -------------------------------
NETWORKS = {
    "weight decay": dict(weight_decay_lambda=0.1),
    "batch norm": dict(use_batchnorm=True),
    "dropout": dict(use_dropout=True, dropout_ratio=0.3),
    "all three, sigmoid": dict(use_batchnorm=True, use_dropout=True, weight_decay_lambda=0.05, activation="sigmoid"),
}


@pytest.mark.parametrize("options", NETWORKS.values(), ids=NETWORKS.keys())
def test_extended_network_gradient(options, rng):
    net = MultiLayerNetExtend(12, [8, 7], 3, seed=1, **options)
    x, t = rng.standard_normal((6, 12)), rng.integers(0, 3, 6)
    checks, numerical, backprop = gradient_check(net, x, t)
    for c in checks:
        if options.get("use_batchnorm") and c.name in ("b1", "b2"):
            # A bias just before batch norm is subtracted again with the batch mean: its gradient
            # is exactly zero (backprop gives rounding noise, so the relative error means nothing).
            assert c.max_abs_diff < 1e-9 and np.abs(backprop[c.name]).max() < 1e-12
        else:
            assert c.relative_error < TOL, c


def test_weight_decay_adds_half_lambda_squared_norm_to_the_loss(rng):
    """Same weights, λ = 0 vs λ = 0.1: the losses differ by 0.05·Σ‖W‖², biases excluded."""
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    plain = MultiLayerNet(6, [5], 3, seed=0)
    decayed = MultiLayerNet(6, [5], 3, weight_decay_lambda=0.1, seed=0)
    for key in plain.params:
        plain.params[key] += 0.5  # nonzero biases: they must not count
        decayed.params[key] += 0.5
    squares = np.sum(plain.params["W1"] ** 2) + np.sum(plain.params["W2"] ** 2)
    assert decayed.loss(x, t) - plain.loss(x, t) == pytest.approx(0.05 * squares, rel=1e-12)


def test_batchnorm_params_are_in_params_and_updated_by_an_optimizer(rng):
    from mlplab.optim import SGD

    net = MultiLayerNetExtend(10, [6, 5], 4, use_batchnorm=True, seed=0)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"]
    assert net.layers[1].gamma is net.params["gamma1"]
    before = net.params["gamma1"].copy()
    grads = net.gradient(rng.standard_normal((8, 10)), rng.integers(0, 4, 8))
    SGD(lr=0.5).update(net.params, grads)
    np.testing.assert_allclose(net.params["gamma1"], before - 0.5 * grads["gamma1"])
    assert net.layers[1].gamma is net.params["gamma1"]


def test_predict_evaluates_by_default_and_trains_on_request(rng):
    net = MultiLayerNetExtend(10, [20], 3, use_dropout=True, dropout_ratio=0.5, seed=0)
    x = rng.standard_normal((4, 10))
    np.testing.assert_array_equal(net.predict(x), net.predict(x))  # evaluation: deterministic
    assert not np.array_equal(net.predict(x, train_flg=True), net.predict(x, train_flg=True))
    assert net.loss(x, np.zeros(4, int)) == net.loss(x, np.zeros(4, int), train_flg=False)


# -- the book's spellings -------------------------------------------------------------------
def test_book_keywords_and_defaults():
    np.random.seed(0)
    book = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10,
                               weight_init_std="relu", use_dropout=True, dropout_ration=0.15)
    np.random.seed(0)
    ours = MultiLayerNetExtend(784, [100, 100], 10, weight_init_std="he", use_dropout=True, dropout_ratio=0.15)
    for key in ours.params:
        np.testing.assert_array_equal(book.params[key], ours.params[key])
    assert book.describe() == "784-100-100-10 relu, dropout 0.15"
    # the book's MultiLayerNet defaults: ReLU and He, std √(2/784) ≈ 0.0505 for W1
    net = MultiLayerNet(input_size=784, hidden_size_list=[100], output_size=10, seed=0)
    assert net.activation == "relu"
    assert np.std(net.params["W1"]) == pytest.approx(np.sqrt(2 / 784), rel=0.02)
    xavier = MultiLayerNet(784, [100], 10, weight_init_std="sigmoid", seed=0)
    assert np.std(xavier.params["W1"]) == pytest.approx(np.sqrt(1 / 784), rel=0.02)
    assert set(BOOK_KEYWORDS) == {"hidden_size_list", "dropout_ration"}
    assert BOOK_WEIGHT_INIT == {"relu": "he", "sigmoid": "xavier"}


def test_seed_none_draws_from_numpys_global_state_like_the_book():
    """The book's __init_weight: scale · np.random.randn(fan_in, fan_out), layer by layer."""
    np.random.seed(0)
    net = MultiLayerNet(5, [4, 3], 2, weight_init_std=0.01)
    np.random.seed(0)
    for i, (a, b) in enumerate([(5, 4), (4, 3), (3, 2)], start=1):
        np.testing.assert_array_equal(net.params[f"W{i}"], 0.01 * np.random.randn(a, b))


def test_one_spelling_at_a_time():
    with pytest.raises(ConfigError, match="not both"):
        MultiLayerNet(4, hidden_size_list=[3], hidden_sizes=[3], output_size=2)
    with pytest.raises(ConfigError, match="weight_decay_lambda must be >= 0"):
        MultiLayerNet(4, [3], 2, weight_decay_lambda=-1)
    with pytest.raises(ConfigError, match="'he' \\(or 'relu'\\)"):
        MultiLayerNet(4, [3], 2, weight_init_std="lecun")


@pytest.mark.slow
def test_the_books_batch_norm_gradient_check_on_mnist(mnist):
    """ch06/batch_norm_gradient_check.py with mlplab's API: 784-100-100-10 with batch norm, real
    images. Two changes make the check meaningful: ten images instead of the book's one (with one,
    batch norm outputs β whatever the weights, and most gradients vanish; with three, a unit whose
    three inputs nearly agree has a tiny batch variance, so the loss curves too sharply for h = 1e-4
    and W1 shows 3e-6), and sigmoid instead of ReLU — central differences straddle ReLU's kink at 0,
    which is why the book's own run prints ``beta2: 0.0488`` (β = 0 puts every ReLU input of a
    one-image batch exactly on the kink); mlplab prints the same 0.0488 there."""
    (x_train, t_train), _ = mnist
    np.random.seed(0)
    net = MultiLayerNetExtend(input_size=784, hidden_size_list=[100, 100], output_size=10,
                              activation="sigmoid", weight_init_std="sigmoid", use_batchnorm=True)
    checks, _, _ = gradient_check(net, x_train[:10].astype(np.float64), t_train[:10])
    for c in checks:
        if c.name in ("b1", "b2"):
            assert c.max_abs_diff < 1e-10
        else:
            assert c.relative_error < TOL, c
