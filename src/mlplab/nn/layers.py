"""Layers with ``forward(x)`` and ``backward(dout)``, as in "Deep Learning from Scratch" ch. 5.

Each layer caches in ``forward`` what its ``backward`` needs. ``backward`` returns new arrays and
never writes into ``dout`` (the textbook's ``Relu.backward`` does, which surprises anyone who reuses
the upstream gradient).
"""

from __future__ import annotations

import numpy as np

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


class Sigmoid:
    """y = σ(x); ∂y/∂x = y(1 − y), so backward only needs the output."""

    def __init__(self) -> None:
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.out is not None, "call forward before backward"
        return dout * (1.0 - self.out) * self.out


class Relu:
    """y = max(0, x); the gradient passes where x > 0 and is 0 elsewhere."""

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = x <= 0
        return np.where(self.mask, 0, x).astype(x.dtype, copy=False)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.mask is not None, "call forward before backward"
        return np.where(self.mask, 0, dout).astype(dout.dtype, copy=False)


class Tanh:
    """y = tanh(x); ∂y/∂x = 1 − y²."""

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


ACTIVATION_LAYERS: dict[str, type] = {"sigmoid": Sigmoid, "relu": Relu, "tanh": Tanh}
