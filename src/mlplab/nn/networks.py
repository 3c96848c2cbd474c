"""Fully connected networks built from the layers in :mod:`mlplab.nn.layers`.

``TwoLayerNet`` is the textbook's network (ch. 4–5) with the same interface: a ``params`` dict with
``W1, b1, W2, b2``, and ``predict``, ``loss``, ``accuracy``, ``numerical_gradient``, ``gradient``.
``MultiLayerNet`` is the same idea for any list of hidden sizes. Both share :class:`LayerNet`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.functions import as_labels
from mlplab.nn.layers import ACTIVATION_LAYERS, Affine, SoftmaxWithLoss

Params = dict[str, np.ndarray]

#: How many rows ``accuracy`` pushes through at once: bounds memory on the 60,000-image train set.
EVAL_CHUNK = 10_000


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATION_LAYERS:
        raise ConfigError(
            f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATION_LAYERS)}."
        )
    return activation


def _init_std(weight_init_std: float | str, fan_in: int, activation: str) -> float:
    """A number is used as is; "he" is √(2/fan_in) (ReLU), "xavier" is √(1/fan_in) (sigmoid, tanh)."""
    if isinstance(weight_init_std, str):
        name = weight_init_std.lower()
        if name == "he":
            return float(np.sqrt(2.0 / fan_in))
        if name == "xavier":
            return float(np.sqrt(1.0 / fan_in))
        if name == "auto":
            return _init_std("he" if activation == "relu" else "xavier", fan_in, activation)
        raise ConfigError(
            f"weight_init_std must be a number, 'he', 'xavier' or 'auto', got {weight_init_std!r}."
        )
    if not np.isfinite(weight_init_std) or weight_init_std <= 0:
        raise ConfigError(f"weight_init_std must be > 0, got {weight_init_std!r}; the textbook uses 0.01.")
    return float(weight_init_std)


class LayerNet:
    """Affine → activation → … → Affine → SoftmaxWithLoss, with params ``W1, b1, W2, b2, …``.

    It builds ``params`` and ``layers`` (a list, applied in order) for the given ``sizes``, and holds
    everything that works the same for any depth; the subclasses only name the sizes.
    """

    params: Params
    layers: list
    sizes: tuple[int, ...]
    activation: str

    def __init__(
        self,
        sizes: Sequence[int],
        weight_init_std: float | str,
        activation: str,
        seed: int | np.random.Generator | None,
        dtype: type | np.dtype,
    ) -> None:
        self.activation = _check_activation(activation)
        self.sizes = _check_sizes(sizes)
        self.params = {}
        self.layers = _build_layers(
            self.params, self.sizes, activation, weight_init_std, np.random.default_rng(seed), np.dtype(dtype)
        )
        self.last_layer = SoftmaxWithLoss()
        self.last_loss: float | None = None

    # -- the forward direction -------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """Scores before softmax, ``(N, output_size)``; the largest one is the predicted class."""
        self._check_input(x)
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean cross-entropy of the softmax of ``predict(x)`` against labels or one-hot ``t``."""
        return self.last_layer.forward(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Share of rows whose highest score is the true class (chunked, so 60,000 rows fit)."""
        labels = as_labels(t)
        correct = 0
        for start in range(0, x.shape[0], EVAL_CHUNK):
            scores = self.predict(x[start : start + EVAL_CHUNK])
            correct += int(np.sum(np.argmax(scores, axis=1) == labels[start : start + EVAL_CHUNK]))
        return correct / x.shape[0]

    # -- gradients -------------------------------------------------------------------------
    def gradient(self, x: np.ndarray, t: np.ndarray) -> Params:
        """∂L/∂params by backpropagation. Also keeps the loss of this forward pass in ``last_loss``,
        so a training loop need not run a second forward pass just to record it."""
        self.last_loss = self.loss(x, t)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        grads: Params = {}
        for i, affine in enumerate(self.affine_layers, start=1):
            grads[f"W{i}"] = affine.dW
            grads[f"b{i}"] = affine.db
        return grads

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray, h: float = 1e-4) -> Params:
        """∂L/∂params by central differences (L(p+h) − L(p−h)) / 2h, one element at a time.

        Slow (two forward passes per parameter) but independent of backprop: the reference that
        ``gradient`` is checked against. Use float64 parameters for a meaningful comparison.
        """
        grads: Params = {}
        for key, p in self.params.items():
            grad = np.zeros_like(p)
            flat_p, flat_g = p.reshape(-1), grad.reshape(-1)  # views: writing them writes p
            for i in range(flat_p.size):
                original = flat_p[i]
                flat_p[i] = original + h
                loss_plus = self.loss(x, t)
                flat_p[i] = original - h
                loss_minus = self.loss(x, t)
                flat_p[i] = original
                flat_g[i] = (loss_plus - loss_minus) / (2 * h)
            grads[key] = grad
        return grads

    # -- helpers ---------------------------------------------------------------------------
    @property
    def affine_layers(self) -> list[Affine]:
        return [layer for layer in self.layers if isinstance(layer, Affine)]

    @property
    def dtype(self) -> np.dtype:
        return self.params["W1"].dtype

    def _check_input(self, x: np.ndarray) -> None:
        n_features = math.prod(x.shape[1:]) if x.ndim > 1 else -1
        if n_features != self.sizes[0]:
            raise ConfigError(
                f"the network expects inputs of {self.sizes[0]} features per row, got an array of "
                f"shape {x.shape}; flatten images to (N, {self.sizes[0]}) or build the network "
                f"with input_size={n_features}."
            )

    def describe(self) -> str:
        """E.g. ``784-50-10 sigmoid``."""
        return "-".join(str(s) for s in self.sizes) + f" {self.activation}"

    def set_params(self, params: Params) -> None:
        """Copy saved arrays into this network's params (shapes must match)."""
        for key, value in params.items():
            if key not in self.params or self.params[key].shape != value.shape:
                got = None if key not in self.params else self.params[key].shape
                raise ConfigError(
                    f"parameter {key} has shape {value.shape} but the network's is {got}; build the "
                    "network with the sizes the parameters were saved with."
                )
            self.params[key][...] = value


def _build_layers(
    params: Params, sizes: Sequence[int], activation: str, weight_init_std: float | str,
    rng: np.random.Generator, dtype: np.dtype,
) -> list:
    layers: list = []
    n_affine = len(sizes) - 1
    for i in range(1, n_affine + 1):
        fan_in, fan_out = sizes[i - 1], sizes[i]
        std = _init_std(weight_init_std, fan_in, activation)
        params[f"W{i}"] = (std * rng.standard_normal((fan_in, fan_out))).astype(dtype)
        params[f"b{i}"] = np.zeros(fan_out, dtype=dtype)
        layers.append(Affine(params[f"W{i}"], params[f"b{i}"], needs_input_grad=(i > 1)))
        if i < n_affine:
            layers.append(ACTIVATION_LAYERS[activation]())
    return layers


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    for s in sizes:
        if int(s) != s or s < 1:
            raise ConfigError(f"layer sizes must be whole numbers >= 1, got {list(sizes)}.")
    return tuple(int(s) for s in sizes)


class TwoLayerNet(LayerNet):
    """The textbook's 784-50-10 network: Affine → Sigmoid → Affine → SoftmaxWithLoss.

    Example::

        net = TwoLayerNet(784, 50, 10, seed=0)
        grads = net.gradient(x_batch, t_batch)   # {"W1": (784, 50), "b1": (50,), ...}
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float | str = 0.01,
        *,
        activation: str = "sigmoid",
        seed: int | np.random.Generator | None = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        # Affine(W1, b1) → Sigmoid → Affine(W2, b2) → SoftmaxWithLoss, as in §5.7.1.
        super().__init__((input_size, hidden_size, output_size), weight_init_std, activation, seed, dtype)


class MultiLayerNet(LayerNet):
    """Any number of hidden layers: ``MultiLayerNet(784, [100, 50], 10)`` is 784-100-50-10.

    Parameters are ``W1, b1, …, W{L}, b{L}`` for ``L = len(hidden_sizes) + 1`` affine layers.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        weight_init_std: float | str = 0.01,
        *,
        activation: str = "sigmoid",
        seed: int | np.random.Generator | None = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        super().__init__((input_size, *hidden_sizes, output_size), weight_init_std, activation, seed, dtype)


def build_network(
    sizes: Sequence[int],
    *,
    activation: str = "sigmoid",
    weight_init_std: float | str = 0.01,
    seed: int | np.random.Generator | None = None,
    dtype: type | np.dtype = np.float64,
) -> LayerNet:
    """``TwoLayerNet`` for three sizes, ``MultiLayerNet`` otherwise."""
    sizes = list(sizes)
    if len(sizes) < 3:
        raise ConfigError(f"a network needs input, hidden and output sizes, got {sizes}.")
    if len(sizes) == 3:
        return TwoLayerNet(*sizes, weight_init_std, activation=activation, seed=seed, dtype=dtype)
    return MultiLayerNet(
        sizes[0], sizes[1:-1], sizes[-1], weight_init_std,
        activation=activation, seed=seed, dtype=dtype,
    )
