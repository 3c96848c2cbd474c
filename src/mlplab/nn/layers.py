"""Layers with ``forward(x)`` and ``backward(dout)``, as in "Deep Learning from Scratch" ch. 5.

Each layer caches in ``forward`` what its ``backward`` needs. ``backward`` returns new arrays and
never writes into ``dout`` (the textbook's ``Relu.backward`` does, which surprises anyone who reuses
the upstream gradient).
"""

from __future__ import annotations

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.functions import as_labels, cross_entropy_from_scores, sigmoid


class Affine:
    """y = x·W + b.

    ``W`` and ``b`` are the very arrays of the network's ``params`` dict, so an optimizer that updates
    ``params`` in place updates the layer too. ``dW`` and ``db`` hold the last gradients.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, *, needs_input_grad: bool = True) -> None:
        self.W = W
        self.b = b
        # The first layer's input is the data: nobody uses ∂L/∂x there, so we can skip that matmul.
        self.needs_input_grad = needs_input_grad
        self.x: np.ndarray | None = None
        self.original_shape: tuple[int, ...] = ()
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_shape = x.shape
        x = x.reshape(x.shape[0], -1)  # (N, 1, 28, 28) -> (N, 784)
        self.x = x
        return x @ self.W + self.b  # (N, D) @ (D, H) + (H,) -> (N, H)

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        assert self.x is not None, "call forward before backward"
        self.dW = self.x.T @ dout  # (D, N) @ (N, H) -> (D, H)
        self.db = np.sum(dout, axis=0)  # (H,)
        if not self.needs_input_grad:
            return None
        dx = dout @ self.W.T  # (N, H) @ (H, D) -> (N, D)
        return dx.reshape(self.original_shape)


class Activation:
    """What every activation layer knows about itself, beside its ``forward`` and ``backward``.

    Each fact lives here once, and the rest of mlplab reads it from the layer class (through
    :data:`ACTIVATION_LAYERS`) instead of switching on the activation's name: the weight init, the
    diagnosis (saturated or dead units), the figures and the explain page. A new activation is one
    subclass registered in :data:`ACTIVATION_LAYERS`.

    Class attributes
    ----------------
    name : the registry key and ``--activation`` value.
    formula, derivative : ``z = f(a)`` and ``f'(a)`` in the textbook's notation, ``{a}``/``{z}`` standing
        for the input and the output; the derivative written the way ``backward`` computes it.
    slope_bound : max |f'(a)| (σ' ≤ 1/4, tanh' ≤ 1, ReLU' ≤ 1): how much a layer can shrink a gradient.
    init : the recommended initial weight std, ``"xavier"`` √(1/fan_in) or ``"he"`` √(2/fan_in).
    output_range : ``(low, high)`` of the output (``inf`` when unbounded), e.g. for a colour scale.
    saturation_centre, saturation : an output with |y − centre| > saturation sits in a flat tail (its
        slope is almost 0) and counts as saturated; ``saturation=None``: it never saturates.
    flat_beyond : |a| beyond which the output is saturated (written in the weight-init prescription).
    can_die : a unit whose output is never positive on the probe batch passes no gradient (dead ReLU).
    """

    name: str = ""
    formula: str = ""
    derivative: str = ""
    slope_bound: float = 1.0
    init: str = "xavier"
    output_range: tuple[float, float] = (-np.inf, np.inf)
    saturation_centre: float = 0.0
    saturation: float | None = None
    flat_beyond: float | None = None
    can_die: bool = False

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    @classmethod
    def saturated_share(cls, out: np.ndarray) -> float | None:
        """Share of the outputs ``(N, H)`` in a flat tail, or ``None`` for an activation that has none."""
        if cls.saturation is None:
            return None
        return float(np.mean(np.abs(out - cls.saturation_centre) > cls.saturation))

    @classmethod
    def dead_share(cls, out: np.ndarray) -> float | None:
        """Share of units (columns of ``out`` ``(N, H)``) that no row excites, or ``None`` if units cannot die."""
        if not cls.can_die:
            return None
        return float(np.mean(~np.any(out > 0, axis=0)))

    @classmethod
    def saturation_bounds(cls, saturation: float | None = None) -> list[float]:
        """The outputs beyond which a unit counts as saturated (``[]`` if it cannot saturate)."""
        t = cls.saturation if saturation is None else saturation
        return [] if t is None else [cls.saturation_centre - t, cls.saturation_centre + t]


class Sigmoid(Activation):
    """y = σ(x); ∂y/∂x = y(1 − y), so backward only needs the output."""

    name = "sigmoid"
    formula = "σ({a}) = 1 / (1 + exp(−{a}))"
    derivative = "{z}(1 − {z})"
    slope_bound = 0.25  # y(1 − y) peaks at y = 1/2
    init = "xavier"
    output_range = (0.0, 1.0)
    # |y − 0.5| > 0.49 (y < 0.01 or y > 0.99): the slope y(1 − y) is then below 0.0099, under 4 % of 1/4
    saturation_centre, saturation = 0.5, 0.49
    flat_beyond = 4.6  # y < 0.01 for a < −ln 99 = −4.6

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.out is not None, "call forward before backward"
        return dout * (1.0 - self.out) * self.out


class Relu(Activation):
    """y = max(0, x); the gradient passes where x > 0 and is 0 elsewhere."""

    name = "relu"
    formula = "ReLU({a}) = max(0, {a})"
    derivative = "[{a} > 0]"
    slope_bound = 1.0
    init = "he"
    output_range = (0.0, np.inf)
    can_die = True

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return np.where(self.mask, 0, x).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.mask is not None, "call forward before backward"
        return np.where(self.mask, 0, dout).astype(dout.dtype, copy=False)


class Tanh(Activation):
    """y = tanh(x); ∂y/∂x = 1 − y²."""

    name = "tanh"
    formula = "tanh({a})"
    derivative = "(1 − {z}²)"
    slope_bound = 1.0  # 1 − y² peaks at y = 0
    init = "xavier"
    output_range = (-1.0, 1.0)
    saturation_centre, saturation = 0.0, 0.99  # |y| > 0.99: the slope 1 − y² is below 0.02
    flat_beyond = 2.6  # |y| > 0.99 for |a| > atanh(0.99) = 2.65

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.out is not None, "call forward before backward"
        return dout * (1.0 - self.out * self.out)


class SoftmaxWithLoss:
    """Softmax followed by cross-entropy, fused because together their gradient is simply
    ``(y − t) / N`` — the famous clean result of §5.6.3.
    """

    def __init__(self) -> None:
        self.loss: float | None = None
        self.y: np.ndarray | None = None
        self.labels: np.ndarray | None = None

    def forward(self, x: np.ndarray, t: np.ndarray) -> float:
        self.labels = as_labels(t)
        if self.labels.shape[0] != x.shape[0]:
            raise ValueError(f"scores have {x.shape[0]} rows but t has {self.labels.shape[0]} labels")
        total, self.y = cross_entropy_from_scores(x, self.labels)
        self.loss = total / x.shape[0]
        return self.loss

    def backward(self, dout: float = 1.0) -> np.ndarray:
        assert self.y is not None and self.labels is not None, "call forward before backward"
        n = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(n), self.labels] -= 1  # y − t, with t one-hot
        dx *= dout / n
        return dx


class BatchNormalization:
    """Batch normalization (Ioffe & Szegedy 2015; "Deep Learning from Scratch" §6.3), per feature.

    Training (``train_flg=True``), over the N rows of the batch, for each of the D features::

        μ = (1/N) Σ_n x_n            σ² = (1/N) Σ_n (x_n − μ)²
        x̂ = (x − μ) / √(σ² + ε)      y = γ ⊙ x̂ + β

    and the running statistics used in evaluation move towards the batch's:
    ``running_mean ← m·running_mean + (1 − m)·μ``, the same for ``running_var`` (m = ``momentum``).
    Evaluation (``train_flg=False``) uses them instead: ``x̂ = (x − running_mean) / √(running_var + ε)``,
    so a prediction does not depend on the other rows of its batch.

    Backward (training mode), with ``g = γ ⊙ dout`` = ∂L/∂x̂ and s = √(σ² + ε)::

        ∂L/∂β = Σ_n dout_n       ∂L/∂γ = Σ_n dout_n ⊙ x̂_n
        ∂L/∂x = (1 / (N·s)) ⊙ (N·g − Σ_n g_n − x̂ ⊙ Σ_n g_n ⊙ x̂_n)

    The last line is the chain rule through μ and σ², which both depend on every row: the two sums
    take away the parts of ``g`` that shift or stretch the whole batch, which normalization undoes.

    ``gamma`` (γ, ones at first) and ``beta`` (β, zeros) are arrays of the network's ``params``
    (``gamma1``, ``beta1``, …), updated in place by the optimizer; ``dgamma`` and ``dbeta`` hold the
    last gradients. Inputs of more than two dimensions are flattened to ``(N, D)`` as in ``Affine``.
    ``eps`` is the book's ``10e-7`` (= 1e-6).
    """

    def __init__(
        self, gamma: np.ndarray, beta: np.ndarray, momentum: float = 0.9,
        running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None, *, eps: float = 1e-6,
    ) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}; the book uses 0.9.")
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.eps = eps
        # Statistics for evaluation; they start at 0 as in the book (so the first evaluations, after
        # few training steps, still see a running variance well below the true one).
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.zeros_like(gamma) if running_var is None else running_var
        self.input_shape: tuple[int, ...] = ()
        self.xn: np.ndarray | None = None  # x̂ of the last training batch, (N, D)
        self.std: np.ndarray | None = None  # √(σ² + ε), (D,)
        self.dgamma: np.ndarray | None = None
        self.dbeta: np.ndarray | None = None

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        self.input_shape = x.shape
        x = x.reshape(x.shape[0], -1)  # (N, D)
        if train_flg:
            mu = x.mean(axis=0)  # (D,)
            xc = x - mu  # (N, D)
            var = np.mean(xc * xc, axis=0)  # (D,)
            self.std = np.sqrt(var + self.eps)
            self.xn = xc / self.std
            m = self.momentum
            self.running_mean[...] = m * self.running_mean + (1 - m) * mu
            self.running_var[...] = m * self.running_var + (1 - m) * var
            xn = self.xn
        else:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
        out = self.gamma * xn + self.beta  # (N, D) ⊙ (D,) + (D,)
        return out.reshape(self.input_shape)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.xn is not None and self.std is not None, "call forward with train_flg=True first"
        dout = dout.reshape(dout.shape[0], -1)  # (N, D)
        n = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(dout * self.xn, axis=0)
        g = self.gamma * dout  # ∂L/∂x̂
        dx = (n * g - g.sum(axis=0) - self.xn * np.sum(g * self.xn, axis=0)) / (n * self.std)
        return dx.reshape(self.input_shape)


class Dropout:
    """Dropout (Srivastava et al. 2014; "Deep Learning from Scratch" §6.4.3).

    Training (``train_flg=True``): each unit is kept with probability 1 − r (``r = dropout_ratio``)
    and set to 0 otherwise, a fresh random mask ``M`` for every forward pass: ``y = x ⊙ M``, so
    ``∂L/∂x = dout ⊙ M`` (a dropped unit passes no gradient back).
    Evaluation (``train_flg=False``): every unit is kept and scaled, ``y = (1 − r)·x``, which is the
    expected training output — the book's convention. (Many libraries instead divide by 1 − r in
    training, "inverted dropout", and leave evaluation alone; the predictions are the same.)

    ``seed`` (an int or ``np.random.Generator``) makes the masks reproducible; ``None`` draws them
    from NumPy's global state with ``np.random.rand``, as the book does, so ``np.random.seed(0)``
    repeats a book script. ``hold_mask = True`` reuses the last mask instead of drawing a new one,
    which makes the training-mode loss a fixed function of the parameters (for a gradient check).
    """

    def __init__(self, dropout_ratio: float = 0.5, *, seed: int | np.random.Generator | None = None) -> None:
        if not 0.0 <= dropout_ratio < 1.0:
            raise ConfigError(f"dropout_ratio must be in [0, 1), got {dropout_ratio!r}; the book uses 0.5 or 0.15.")
        self.dropout_ratio = dropout_ratio
        self.rng = None if seed is None else np.random.default_rng(seed)
        self.hold_mask = False
        self.mask: np.ndarray | None = None  # True where the unit is kept

    def forward(self, x: np.ndarray, train_flg: bool = True) -> np.ndarray:
        if not train_flg:
            return x * (1.0 - self.dropout_ratio)
        if not (self.hold_mask and self.mask is not None and self.mask.shape == x.shape):
            u = np.random.rand(*x.shape) if self.rng is None else self.rng.random(x.shape)  # U[0, 1)
            self.mask = u > self.dropout_ratio
        return x * self.mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.mask is not None, "call forward with train_flg=True first"
        return dout * self.mask


#: Layers whose forward pass differs between training and evaluation: they take ``train_flg``.
MODE_LAYERS: tuple[type, ...] = (BatchNormalization, Dropout)

#: Every activation by name (the ``--activation`` choices). A new activation is one :class:`Activation`
#: subclass added here; everything else reads its facts from the class.
ACTIVATION_LAYERS: dict[str, type[Activation]] = {cls.name: cls for cls in (Sigmoid, Relu, Tanh)}
