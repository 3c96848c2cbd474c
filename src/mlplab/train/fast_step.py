"""The training step of :meth:`LayerNet.gradient` + ``optimizer.update``, in preallocated buffers.

The readable step (``nn/layers.py``) allocates a fresh array for every intermediate result: about
twenty arrays per iteration for 784-50-10, plus a (100, 784) copy of the batch. For this small
network that bookkeeping costs more than the matrix products themselves. :class:`FastStep` runs
*the same operations in the same order*, so it computes the same bits, but writes every result into
an array it allocated once (``out=``), takes the batch with ``np.take(..., out=)`` and does plain
SGD's update in place. ``tests/test_fast_step.py`` proves the equality, bit for bit, for every
activation, depth and optimizer it accepts.

Per iteration, for affine layers ``k = 1 … L`` with ``a_k = z_{k−1} W_k + b_k`` (``z_0 = x``)::

    forward   a_k = z_{k−1} @ W_k + b_k            z_k = activation(a_k)          (k < L)
              y = softmax(a_L)                      loss = Σ_n −log y[n, t_n] / N
    backward  d_L = (y − onehot(t)) / N
              ∂W_k = z_{k−1}ᵀ @ d_k                 ∂b_k = Σ_n d_k
              d_{k−1} = (d_k @ W_kᵀ) ⊙ activation′  (k > 1)
    update    W_k ← W_k − lr·∂W_k  (SGD in place; any other optimizer: its own ``update``)

It applies to networks of Affine and activation layers only (no batch norm, dropout or weight
decay) and data in the network's dtype; for the others :func:`training_step` returns the readable
:class:`ReadableStep`. Both have the same two methods, so the trainer's loop reads the same either way.
"""

from __future__ import annotations

import numpy as np

from mlplab.nn.layers import Affine, Relu, Sigmoid, Tanh
from mlplab.nn.networks import LayerNet
from mlplab.optim import SGD, Optimizer

Params = dict[str, np.ndarray]

#: Activation layers the fast step knows how to run in place.
FAST_ACTIVATIONS: tuple[type, ...] = (Sigmoid, Relu, Tanh)


class ReadableStep:
    """The textbook's step, as written in ``nn/layers.py``: ``network.gradient`` then ``optimizer.update``."""

    def __init__(self, network: LayerNet, optimizer: Optimizer) -> None:
        self.network = network
        self.optimizer = optimizer

    def gradient(self, x_train: np.ndarray, t_train: np.ndarray, batch: np.ndarray) -> tuple[float, Params]:
        """Backprop on rows ``batch``: ``(loss of this forward pass, ∂L/∂params)``."""
        grads = self.network.gradient(x_train[batch], t_train[batch])
        return self.network.last_loss, grads

    def update(self, grads: Params) -> None:
        self.optimizer.update(self.network.params, grads)


def training_step(network: LayerNet, optimizer: Optimizer, x_train: np.ndarray, t_train: np.ndarray,
                  batch_size: int) -> FastStep | ReadableStep:
    """:class:`FastStep` when it applies to this network and data, else :class:`ReadableStep`."""
    layers = network.layers
    readable = ReadableStep(network, optimizer)
    if (network.weight_decay_lambda or len(layers) % 2 != 1 or x_train.ndim != 2 or x_train.dtype != network.dtype
            or not x_train.flags.c_contiguous or t_train.ndim != 1 or t_train.dtype.kind not in "iu"):
        return readable
    affines, activations = layers[0::2], layers[1::2]
    if not all(type(a) is Affine for a in affines) or not all(type(f) in FAST_ACTIVATIONS for f in activations):
        return readable
    return FastStep(network, optimizer, batch_size, t_train.dtype)


class FastStep:
    """One training step (forward, backward, update) for Affine → activation → … → Affine → softmax.

    ``gradient(x_train, t_train, batch)`` runs backprop on rows ``batch`` and returns ``(loss, grads)``:
    the mean cross-entropy of the forward pass (``network.last_loss`` of the readable path) and the
    gradients, as ``LayerNet.gradient`` returns them; ``update(grads)`` then moves the parameters.
    ``grads`` are this object's buffers, overwritten by the next step: read them before, or copy them.
    """

    def __init__(self, network: LayerNet, optimizer: Optimizer, batch_size: int,
                 label_dtype: np.dtype | type = np.int64) -> None:
        self.network = network
        self.optimizer = optimizer
        self.affines: list[Affine] = network.layers[0::2]
        self.activations: list = network.layers[1::2]
        dtype = network.dtype
        n = batch_size
        sizes = network.sizes
        self.x = np.empty((n, sizes[0]), dtype)  # the batch's rows, (N, D)
        self.t = np.empty(n, label_dtype)  # its labels, (N,)
        # a[k]: the pre-activation of affine layer k + 1, (N, size); after the activation it holds z
        # (the activation runs in place): z is all backward needs from sigmoid and tanh.
        self.a = [np.empty((n, s), dtype) for s in sizes[1:]]
        self.mask = [np.empty((n, s), bool) for s in sizes[1:-1]]  # ReLU's x <= 0
        self.tmp = [np.empty((n, s), dtype) for s in sizes[1:-1]]  # activation′ for the backward pass
        self.d = [np.empty((n, s), dtype) for s in sizes[1:]]  # ∂L/∂a_k, (N, size)
        self.row_max = np.empty((n, 1), dtype)
        self.row_sum = np.empty((n, 1), dtype)
        self.log_sum = np.empty(n, dtype)
        self.rows = np.arange(n)
        self.grads: dict[str, np.ndarray] = {}
        for k, layer in enumerate(self.affines, start=1):
            self.grads[f"W{k}"] = np.empty_like(layer.W)
            self.grads[f"b{k}"] = np.empty_like(layer.b)
        self.grads = {key: self.grads[key] for key in network.params}  # in the order of params
        self.sgd = type(optimizer) is SGD
        self.scaled = {key: np.empty_like(g) for key, g in self.grads.items()} if self.sgd else {}

    def gradient(self, x_train: np.ndarray, t_train: np.ndarray, batch: np.ndarray) -> tuple[float, Params]:
        """Backprop on rows ``batch``: ``(loss of this forward pass, ∂L/∂params)`` (the buffers)."""
        n = batch.shape[0]
        if n != self.x.shape[0]:  # a batch of another size (a train set smaller than a batch): new buffers
            self.__init__(self.network, self.optimizer, n, self.t.dtype)
        # x_train[batch] without a new array; "clip" because "raise" would copy through a buffer
        # (the indices come from the sampler and are always in range)
        np.take(x_train, batch, axis=0, out=self.x, mode="clip")
        np.take(t_train, batch, out=self.t, mode="clip")
        loss = self._backprop()
        self.network.last_loss = loss
        return loss, self.grads

    def _backprop(self) -> float:
        """Forward and backward on ``self.x``, ``self.t``; fills ``self.grads``, returns the loss."""
        x, a, d = self.x, self.a, self.d
        last = len(self.affines) - 1
        z = x
        for k, layer in enumerate(self.affines):  # forward
            np.matmul(z, layer.W, out=a[k])  # (N, D_k) @ (D_k, D_k+1) -> (N, D_k+1)
            a[k] += layer.b
            if k < last:
                self._activate(k)
                z = a[k]
        loss = self._softmax_with_loss(a[last], d[last])
        for k in range(last, -1, -1):  # backward
            layer = self.affines[k]
            z_in = x if k == 0 else a[k - 1]
            np.matmul(z_in.T, d[k], out=self.grads[f"W{k + 1}"])  # (D_k, N) @ (N, D_k+1)
            np.add.reduce(d[k], axis=0, out=self.grads[f"b{k + 1}"])  # np.sum without its Python wrapper
            if k > 0:
                np.matmul(d[k], layer.W.T, out=d[k - 1])  # (N, D_k+1) @ (D_k+1, D_k) -> (N, D_k)
                self._activation_backward(k - 1)
        return loss

    def _activate(self, k: int) -> None:
        """z = activation(a), written over a[k]; the same ufuncs as the layer's ``forward``."""
        a, f = self.a[k], self.activations[k]
        if type(f) is Sigmoid:  # 1 / (1 + e^(−a))
            np.negative(a, out=a)
            np.exp(a, out=a)
            a += 1.0
            np.divide(1.0, a, out=a)
        elif type(f) is Tanh:
            np.tanh(a, out=a)
        else:  # Relu: 0 where a <= 0
            np.less_equal(a, 0, out=self.mask[k])
            np.copyto(a, 0, where=self.mask[k])

    def _activation_backward(self, k: int) -> None:
        """d[k] ← d[k] ⊙ activation′, from z = a[k]; the same ufuncs as the layer's ``backward``."""
        z, d, f, tmp = self.a[k], self.d[k], self.activations[k], self.tmp[k]
        if type(f) is Sigmoid:  # dout * (1 − y) * y
            np.subtract(1.0, z, out=tmp)
            d *= tmp
            d *= z
        elif type(f) is Tanh:  # dout * (1 − y²)
            np.multiply(z, z, out=tmp)
            np.subtract(1.0, tmp, out=tmp)
            d *= tmp
        else:  # Relu: no gradient where the input was <= 0
            np.copyto(d, 0, where=self.mask[k])

    def _softmax_with_loss(self, scores: np.ndarray, dy: np.ndarray) -> float:
        """Mean cross-entropy of softmax(scores) against ``self.t``; ``dy`` ← (y − t)/N.

        As ``cross_entropy_from_scores`` and ``SoftmaxWithLoss.backward``; ``scores`` is overwritten
        by the shifted scores.
        """
        n, t, rows = scores.shape[0], self.t, self.rows
        np.maximum.reduce(scores, axis=1, keepdims=True, out=self.row_max)  # np.max, np.sum: their ufuncs
        scores -= self.row_max  # shifted: every exponent <= 0
        np.exp(scores, out=dy)
        np.add.reduce(dy, axis=1, keepdims=True, out=self.row_sum)
        np.log(self.row_sum[:, 0], out=self.log_sum)
        self.log_sum -= scores[rows, t]
        loss = float(np.add.reduce(self.log_sum)) / n
        dy /= self.row_sum  # y = softmax(scores)
        dy[rows, t] -= 1  # y − t
        dy *= 1.0 / n
        return loss

    def update(self, grads: Params) -> None:
        """SGD in place (W −= lr·∂W, as ``SGD.update``); any other optimizer runs its own ``update``."""
        params = self.network.params
        if not self.sgd:
            self.optimizer.update(params, grads)
            return
        lr = self.optimizer.lr
        for key, g in grads.items():
            np.multiply(g, lr, out=self.scaled[key])  # lr·g in the parameter's dtype, as SGD's lr * g
            params[key] -= self.scaled[key]
