"""Fully connected networks built from the layers in :mod:`mlplab.nn.layers`.

``TwoLayerNet`` is the textbook's network (ch. 4–5) with the same interface: a ``params`` dict with
``W1, b1, W2, b2``, and ``predict``, ``loss``, ``accuracy``, ``numerical_gradient``, ``gradient``.
``MultiLayerNet`` is the same idea for any list of hidden sizes (the book's ``common/multi_layer_net.py``,
ReLU and He initialisation by default), with weight decay; ``MultiLayerNetExtend`` adds batch
normalization and dropout (ch. 6). All share :class:`LayerNet`, and accept the book's spellings of
their arguments (see :mod:`mlplab.nn.book_compat`).

Like the book's networks, ``predict(x, train_flg=False)`` and ``loss(x, t, train_flg=False)`` evaluate;
``gradient`` runs the forward pass in training mode (fresh dropout masks, batch statistics).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.book_compat import BOOK_WEIGHT_INIT, accepts_book_keywords
from mlplab.nn.functions import as_labels, cross_entropy_from_scores
from mlplab.nn.layers import ACTIVATION_LAYERS, MODE_LAYERS, Affine, BatchNormalization, Dropout, SoftmaxWithLoss
from mlplab.nn.numerical import numerical_gradient

Seed = int | np.random.Generator | None

Params = dict[str, np.ndarray]

#: How many rows ``accuracy`` pushes through at once: bounds memory on the 60,000-image train set.
EVAL_CHUNK = 10_000


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATION_LAYERS:
        raise ConfigError(
            f"unknown activation {activation!r}; choose one of: {', '.join(ACTIVATION_LAYERS)}."
        )
    return activation


def init_std(weight_init_std: float | str, fan_in: int, activation: str) -> float:
    """A number is used as is; "he" is √(2/fan_in) (ReLU), "xavier" is √(1/fan_in) (sigmoid, tanh);
    "auto" picks by ``activation``; the book's "relu" and "sigmoid" are "he" and "xavier"."""
    if isinstance(weight_init_std, str):
        name = weight_init_std.lower()
        name = BOOK_WEIGHT_INIT.get(name, name)
        if name == "he":
            return float(np.sqrt(2.0 / fan_in))
        if name == "xavier":
            return float(np.sqrt(1.0 / fan_in))
        if name == "auto":
            return init_std(ACTIVATION_LAYERS[activation].init, fan_in, activation)  # the layer's advice
        raise ConfigError(
            f"weight_init_std must be a number, 'he' (or 'relu'), 'xavier' (or 'sigmoid') or 'auto', "
            f"got {weight_init_std!r}."
        )
    if not np.isfinite(weight_init_std) or weight_init_std <= 0:
        raise ConfigError(f"weight_init_std must be > 0, got {weight_init_std!r}; the textbook uses 0.01.")
    return float(weight_init_std)


class LayerNet:
    """Affine → [BatchNorm] → activation → [Dropout] → … → Affine → SoftmaxWithLoss.

    It builds ``params`` (``W1, b1, gamma1, beta1, W2, …``; γ and β only with batch norm) and
    ``layers`` (a list, applied in order) for the given ``sizes``, and holds everything that works
    the same for any depth; the subclasses only name the sizes and options.

    The loss is the mean cross-entropy plus weight decay, ``L = CE + λ/2 · Σ_l ‖W_l‖²`` (λ =
    ``weight_decay_lambda``; biases, γ and β are not decayed), so ``∂L/∂W_l = backprop + λ·W_l``.

    ``seed=None`` draws the initial weights from NumPy's global state (``np.random.randn``, as the
    book does, so ``np.random.seed(0)`` repeats a book run); an int or a ``Generator`` makes them
    independent of it.
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
        seed: Seed,
        dtype: type | np.dtype,
        *,
        weight_decay_lambda: float = 0.0,
        use_batchnorm: bool = False,
        dropout_ratio: float | None = None,
    ) -> None:
        self.activation = _check_activation(activation)
        self.sizes = _check_sizes(sizes)
        if not (np.isfinite(weight_decay_lambda) and weight_decay_lambda >= 0):
            raise ConfigError(f"weight_decay_lambda must be >= 0, got {weight_decay_lambda!r}; the book uses 0.1.")
        self.weight_decay_lambda = float(weight_decay_lambda)
        self.params = {}
        self.layers = _build_layers(
            self.params, self.sizes, activation, weight_init_std,
            None if seed is None else np.random.default_rng(seed), np.dtype(dtype),
            use_batchnorm=use_batchnorm, dropout_ratio=dropout_ratio,
        )
        self.last_layer = SoftmaxWithLoss()
        self.last_loss: float | None = None

    # -- the forward direction -------------------------------------------------------------
    def predict(self, x: np.ndarray, train_flg: bool = False) -> np.ndarray:
        """Scores before softmax, ``(N, output_size)``; the largest one is the predicted class.

        ``train_flg=True`` runs batch norm on batch statistics and dropout with fresh masks;
        the default evaluates (running statistics, no units dropped).
        """
        self._check_input(x)
        for layer in self.layers:
            x = layer.forward(x, train_flg) if isinstance(layer, MODE_LAYERS) else layer.forward(x)
        return x

    def loss(self, x: np.ndarray, t: np.ndarray, train_flg: bool = False) -> float:
        """Mean cross-entropy of the softmax of ``predict(x)`` against labels or one-hot ``t``,
        plus the weight-decay penalty ``λ/2 · Σ‖W‖²``."""
        return self.last_layer.forward(self.predict(x, train_flg), t) + self.weight_decay_loss()

    def weight_decay_loss(self) -> float:
        """λ/2 · Σ_l ‖W_l‖² over the affine weights (0 when λ = 0)."""
        if self.weight_decay_lambda == 0:
            return 0.0
        return 0.5 * self.weight_decay_lambda * sum(float(np.sum(a.W * a.W)) for a in self.affine_layers)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        """Share of rows whose highest score is the true class (chunked, so 60,000 rows fit)."""
        return evaluate(self, x, t)[0]

    # -- gradients -------------------------------------------------------------------------
    def gradient(self, x: np.ndarray, t: np.ndarray) -> Params:
        """∂L/∂params by backpropagation, the forward pass in training mode. Also keeps the loss of
        this forward pass in ``last_loss``, so a training loop need not run a second forward pass
        just to record it."""
        self.last_loss = self.loss(x, t, train_flg=True)
        dout = self.last_layer.backward(1.0)
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        lam = self.weight_decay_lambda
        grads: Params = {}
        for i, affine in enumerate(self.affine_layers, start=1):
            grads[f"W{i}"] = affine.dW + lam * affine.W if lam else affine.dW  # ∂(λ/2‖W‖²)/∂W = λW
            grads[f"b{i}"] = affine.db
        for i, bn in enumerate(self.batchnorm_layers, start=1):
            grads[f"gamma{i}"] = bn.dgamma
            grads[f"beta{i}"] = bn.dbeta
        return {key: grads[key] for key in self.params}  # in the order of params

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray, h: float = 1e-4) -> Params:
        """∂L/∂params by central differences (L(p+h) − L(p−h)) / 2h, one element at a time, with
        the loss in training mode as ``gradient`` computes it.

        Slow (two forward passes per parameter) but independent of backprop: the reference that
        ``gradient`` is checked against. Use float64 parameters for a meaningful comparison; with
        dropout, hold the masks fixed (:meth:`fixed_dropout_masks`), or every pass drops other units.
        """
        def loss_at(_: np.ndarray) -> float:  # reads the nudged parameter through self.params
            return self.loss(x, t, train_flg=True)

        return {key: numerical_gradient(loss_at, p, h) for key, p in self.params.items()}

    @contextmanager
    def fixed_dropout_masks(self) -> Iterator[None]:
        """Within this block each dropout layer draws its mask once and then keeps it, so the
        training-mode loss is a deterministic function of the parameters."""
        dropouts = [layer for layer in self.layers if isinstance(layer, Dropout)]
        for layer in dropouts:
            layer.mask, layer.hold_mask = None, True
        try:
            yield
        finally:
            for layer in dropouts:
                layer.hold_mask = False

    # -- helpers ---------------------------------------------------------------------------
    @property
    def affine_layers(self) -> list[Affine]:
        return [layer for layer in self.layers if isinstance(layer, Affine)]

    @property
    def batchnorm_layers(self) -> list[BatchNormalization]:
        return [layer for layer in self.layers if isinstance(layer, BatchNormalization)]

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
        """E.g. ``784-50-10 sigmoid``, or ``784-100-100-10 relu, batch norm, dropout 0.15``."""
        extras = []
        if self.batchnorm_layers:
            extras.append("batch norm")
        dropouts = [layer for layer in self.layers if isinstance(layer, Dropout)]
        if dropouts:
            extras.append(f"dropout {dropouts[0].dropout_ratio:g}")
        if self.weight_decay_lambda:
            extras.append(f"weight decay {self.weight_decay_lambda:g}")
        return "-".join(str(s) for s in self.sizes) + f" {self.activation}" + "".join(f", {e}" for e in extras)

    def running_statistics(self) -> Params:
        """Batch norm's running mean and variance, ``running_mean{i}`` and ``running_var{i}`` (D_i,) for
        hidden layer i (empty without batch norm). Not parameters (no gradient, no optimizer), but a
        trained model needs them: evaluation normalises with them, so the run folder saves them too."""
        stats: Params = {}
        for i, bn in enumerate(self.batchnorm_layers, start=1):
            stats[f"running_mean{i}"] = bn.running_mean
            stats[f"running_var{i}"] = bn.running_var
        return stats

    def set_running_statistics(self, stats: Params) -> None:
        """Copy saved running means and variances (:meth:`running_statistics`) into the batch norm layers."""
        mine = self.running_statistics()
        for key, value in stats.items():
            if key not in mine or mine[key].shape != np.shape(value):
                got = None if key not in mine else mine[key].shape
                raise ConfigError(f"{key} has shape {np.shape(value)} but the network's is {got}; build the "
                                  "network with batch norm and the sizes the statistics were saved with.")
            mine[key][...] = value

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
    rng: np.random.Generator | None, dtype: np.dtype, *,
    use_batchnorm: bool = False, dropout_ratio: float | None = None,
) -> list:
    """Per hidden layer i: Affine(W_i, b_i) → [BatchNorm(γ_i, β_i)] → activation → [Dropout];
    then the output Affine. ``rng=None`` draws from NumPy's global state with ``np.random.randn``,
    one (fan_in, fan_out) array per layer in order, as the book does (nothing else draws here)."""
    layers: list = []
    n_affine = len(sizes) - 1
    for i in range(1, n_affine + 1):
        fan_in, fan_out = sizes[i - 1], sizes[i]
        std = init_std(weight_init_std, fan_in, activation)
        z = np.random.randn(fan_in, fan_out) if rng is None else rng.standard_normal((fan_in, fan_out))
        params[f"W{i}"] = (std * z).astype(dtype)
        params[f"b{i}"] = np.zeros(fan_out, dtype=dtype)
        layers.append(Affine(params[f"W{i}"], params[f"b{i}"], needs_input_grad=(i > 1)))
        if i == n_affine:  # the output layer: scores go straight to SoftmaxWithLoss
            break
        if use_batchnorm:
            params[f"gamma{i}"] = np.ones(fan_out, dtype=dtype)
            params[f"beta{i}"] = np.zeros(fan_out, dtype=dtype)
            layers.append(BatchNormalization(params[f"gamma{i}"], params[f"beta{i}"]))
        layers.append(ACTIVATION_LAYERS[activation]())
        if dropout_ratio is not None:
            layers.append(Dropout(dropout_ratio, seed=rng))
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
        seed: Seed = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        # Affine(W1, b1) → Sigmoid → Affine(W2, b2) → SoftmaxWithLoss, as in §5.7.1.
        super().__init__((input_size, hidden_size, output_size), weight_init_std, activation, seed, dtype)


class MultiLayerNet(LayerNet):
    """Any number of hidden layers: ``MultiLayerNet(784, [100, 50], 10)`` is 784-100-50-10 ReLU.

    The book's ``common/multi_layer_net.py``, with its argument order and defaults: ReLU, He's
    initialisation (``weight_init_std='he'``, the book's ``'relu'``), no weight decay — unlike
    ``TwoLayerNet``, which keeps ch. 4's sigmoid and std 0.01. Parameters are ``W1, b1, …, W{L}, b{L}``
    for ``L = len(hidden_sizes) + 1`` affine layers. The book's ``hidden_size_list=`` is accepted for
    ``hidden_sizes=`` (:mod:`mlplab.nn.book_compat`).

    Example::

        net = MultiLayerNet(784, [100] * 6, 10, weight_decay_lambda=0.1)   # the book's fig. 6-21
    """

    @accepts_book_keywords
    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "he",
        weight_decay_lambda: float = 0.0,
        *,
        seed: Seed = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        super().__init__(
            (input_size, *hidden_sizes, output_size), weight_init_std, activation, seed, dtype,
            weight_decay_lambda=weight_decay_lambda,
        )


class MultiLayerNetExtend(LayerNet):
    """``MultiLayerNet`` with batch normalization and dropout: the book's ``common/multi_layer_net_extend.py``.

    Each hidden layer is Affine → [BatchNormalization] → activation → [Dropout]; γ and β of hidden
    layer i are ``params["gamma{i}"]`` and ``params["beta{i}"]``, updated by the optimizer like the
    weights. Train with ``gradient`` (training mode); ``predict``, ``loss`` and ``accuracy`` evaluate
    by default. The book's keywords ``hidden_size_list=`` and ``dropout_ration=`` are accepted.

    Example::

        net = MultiLayerNetExtend(784, [100] * 5, 10, weight_init_std=0.01, use_batchnorm=True, seed=0)
    """

    @accepts_book_keywords
    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: float | str = "he",
        weight_decay_lambda: float = 0.0,
        use_dropout: bool = False,
        dropout_ratio: float = 0.5,
        use_batchnorm: bool = False,
        *,
        seed: Seed = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        super().__init__(
            (input_size, *hidden_sizes, output_size), weight_init_std, activation, seed, dtype,
            weight_decay_lambda=weight_decay_lambda, use_batchnorm=use_batchnorm,
            dropout_ratio=dropout_ratio if use_dropout else None,
        )


def build_network(
    sizes: Sequence[int],
    *,
    activation: str = "sigmoid",
    weight_init_std: float | str = 0.01,
    seed: Seed = None,
    dtype: type | np.dtype = np.float64,
    weight_decay_lambda: float = 0.0,
    use_batchnorm: bool = False,
    dropout_ratio: float = 0.0,
) -> LayerNet:
    """``TwoLayerNet`` for three sizes, ``MultiLayerNet`` otherwise; ``MultiLayerNetExtend`` (any depth)
    with weight decay, batch norm or dropout (``dropout_ratio=0``: no dropout layers)."""
    sizes = list(sizes)
    if len(sizes) < 3:
        raise ConfigError(f"a network needs input, hidden and output sizes, got {sizes}.")
    if weight_decay_lambda or use_batchnorm or dropout_ratio:
        return MultiLayerNetExtend(
            sizes[0], sizes[1:-1], sizes[-1], activation=activation, weight_init_std=weight_init_std,
            weight_decay_lambda=weight_decay_lambda, use_dropout=bool(dropout_ratio),
            dropout_ratio=dropout_ratio or 0.5, use_batchnorm=use_batchnorm, seed=seed, dtype=dtype,
        )
    if len(sizes) == 3:
        return TwoLayerNet(*sizes, weight_init_std, activation=activation, seed=seed, dtype=dtype)
    return MultiLayerNet(
        sizes[0], sizes[1:-1], sizes[-1],
        activation=activation, weight_init_std=weight_init_std, seed=seed, dtype=dtype,
    )


def network_from_params(params: Params, sizes: Sequence[int], activation: str,
                        dtype: type | np.dtype = np.float64, **extend: Any) -> LayerNet:
    """A network of ``sizes`` holding a copy of ``params`` (a float16 snapshot, a float32 model), in
    ``dtype`` (float64 by default: for checks and pictures). ``seed=0`` because the drawn weights
    are replaced at once, and ``seed=None`` would move NumPy's global random state.

    ``params`` may hold batch norm's ``running_mean{i}``/``running_var{i}`` too; ``extend`` passes
    ``weight_decay_lambda``, ``use_batchnorm`` and ``dropout_ratio`` on to :func:`build_network`
    (batch norm is switched on when ``params`` holds ``gamma1``)."""
    extend.setdefault("use_batchnorm", "gamma1" in params)
    network = build_network(sizes, activation=activation, seed=0, dtype=dtype, **extend)
    stats = {k: v for k, v in params.items() if k.startswith("running_")}
    network.set_params({k: np.asarray(v, dtype=dtype) for k, v in params.items() if k not in stats})
    network.set_running_statistics({k: np.asarray(v, dtype=dtype) for k, v in stats.items()})
    return network


def evaluate(network: LayerNet, x: np.ndarray, t: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of ``network`` on a whole set ``x`` ``(N, D)``, in chunks of
    :data:`EVAL_CHUNK` rows (so 60,000 rows fit); one forward pass gives both. ``t``: labels ``(N,)``
    or one-hot rows ``(N, C)``. The trainer's evaluations and :meth:`LayerNet.accuracy` both use it."""
    labels = as_labels(t)
    correct, total_loss = 0, 0.0
    for start in range(0, x.shape[0], EVAL_CHUNK):
        scores = network.predict(x[start : start + EVAL_CHUNK])  # (n, D) -> (n, C)
        chunk = labels[start : start + EVAL_CHUNK]
        correct += int(np.sum(np.argmax(scores, axis=1) == chunk))
        total_loss += cross_entropy_from_scores(scores, chunk)[0]
    return correct / x.shape[0], total_loss / x.shape[0]
