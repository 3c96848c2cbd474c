"""Sharpness of the loss surface: the top eigenvalue λ_max of the Hessian ∂²L/∂θ².

Why a learner cares: on a quadratic bowl with curvature λ, gradient descent multiplies the distance
to the bottom by (1 − lr·λ) at every step, so it converges only if |1 − lr·λ| < 1, i.e.
**lr < 2/λ**. The sharpest direction (λ_max) sets the limit for the whole network: a learning rate
above 2/λ_max overshoots along that direction and the loss grows instead of falling.

How it is measured, without ever forming the Hessian (784-50-10 has 39,760 parameters, so H would
have 1.6 billion entries):

- a Hessian-vector product by central differences of two backprop gradients,
  ``Hv ≈ (∇L(θ + εv) − ∇L(θ − εv)) / 2ε`` (error O(ε²); float64 keeps the rounding error small);
- power iteration: ``v ← Hv / ‖Hv‖`` converges to the eigenvector of the eigenvalue of largest
  magnitude, and the Rayleigh quotient ``vᵀHv`` (with ‖v‖ = 1) to that eigenvalue. If it is negative
  (a saddle direction dominates), a second pass on ``H − λ·I`` finds the largest *positive* one, the
  one that limits the learning rate.

Example
-------
>>> s = sharpness(network, x_batch, t_batch)                 # doctest: +SKIP
>>> s.value, 2 / s.value                                     # doctest: +SKIP
(1.31, 1.53)        # λ_max and the stability limit for plain SGD
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.nn.layers import Relu
from mlplab.nn.networks import LayerNet, network_from_params

Vector = np.ndarray  # all parameters in one flat float64 array, in the order of ``network.params``

#: Step of the finite difference along a unit vector v. The truncation error is O(ε²·‖∇³L‖) and the
#: rounding error O(1e-16·‖∇L‖/ε): 1e-4 keeps both far below the 1e-3 precision that matters here.
HVP_EPS = 1e-4
#: Power iteration stops when the eigenvalue estimate changes by less than this fraction.
TOLERANCE = 1e-3
MAX_ITERATIONS = 50


#: Optimizers that rescale each coordinate's step: λ_max sets no learning-rate limit for them.
ADAPTIVE = ("adagrad", "rmsprop", "adam")


def stability_factor(optimizer: str, momentum: float = 0.9) -> float | None:
    """The largest stable lr·λ on a quadratic of curvature λ, from the characteristic polynomial of the
    update on f(x) = λx²/2: SGD 2; heavy-ball momentum m 2(1 + m); Nesterov (2 + 2m)/(1 + 2m).
    ``None`` for adaptive optimizers (:data:`ADAPTIVE`)."""
    if optimizer in ADAPTIVE:
        return None
    if optimizer == "momentum":
        return 2 * (1 + momentum)
    if optimizer == "nesterov":
        return (2 + 2 * momentum) / (1 + 2 * momentum)
    return 2.0


@dataclass(frozen=True)
class Sharpness:
    """``value`` = λ_max (largest Hessian eigenvalue), ``vector`` its unit eigenvector (flat),
    ``products`` the number of Hessian-vector products used, ``converged`` whether the estimate settled."""

    value: float
    vector: Vector
    products: int
    converged: bool

    @property
    def stability_limit(self) -> float:
        """2/λ_max: plain gradient descent with a larger learning rate diverges along the top eigenvector."""
        return 2.0 / self.value if self.value > 0 else float("inf")


class FrozenRelu(Relu):
    """A ReLU whose on/off pattern is fixed (the one at θ).

    ReLU's second derivative is 0 everywhere except at its kink, where the slope jumps from 0 to 1. A
    finite difference whose two points straddle a kink measures that jump divided by 2ε, not a
    curvature, and with 50,000 pre-activations some always straddle one. Frozen at θ's pattern the
    network is smooth around θ and its Hessian is the true one everywhere off the kinks.
    """

    def __init__(self, mask: np.ndarray) -> None:
        super().__init__()
        self.frozen = mask

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.mask = self.frozen
        return np.where(self.mask, 0, x)


def gradient_function(network: LayerNet, x: np.ndarray, t: np.ndarray) -> tuple[Callable[[Vector], Vector], Vector]:
    """``(grad, θ)``: ``grad(θ')`` is ∇L at flat parameters θ' on the batch ``(x, t)``, by backprop, in
    float64 on a private copy of the network (the caller's network and its arrays are never touched)."""
    # the loss the optimizer sees: with the network's weight decay and batch norm (on batch statistics)
    net = network_from_params(network.params, network.sizes, network.activation, np.float64,
                              weight_decay_lambda=network.weight_decay_lambda,
                              use_batchnorm=bool(network.batchnorm_layers))
    keys = list(net.params)
    x64 = np.asarray(x, dtype=np.float64).reshape(x.shape[0], -1)
    net.predict(x64)  # sets each ReLU's on/off mask at θ
    net.layers = [FrozenRelu(layer.mask) if isinstance(layer, Relu) else layer for layer in net.layers]

    def grad(theta: Vector) -> Vector:
        start = 0
        for k in keys:  # write θ' into the copy's arrays (the layers share them)
            p = net.params[k]
            p[...] = theta[start : start + p.size].reshape(p.shape)
            start += p.size
        g = net.gradient(x64, t)
        return np.concatenate([g[k].ravel() for k in keys])

    theta = np.concatenate([np.asarray(network.params[k], dtype=np.float64).ravel() for k in keys])
    return grad, theta


def finite_difference_hvp(
    grad: Callable[[Vector], Vector], theta: Vector, eps: float = HVP_EPS,
) -> Callable[[Vector], Vector]:
    """``hvp(v) ≈ H(θ)·v`` by central differences of the gradient: (∇L(θ + εv) − ∇L(θ − εv)) / 2ε."""

    def hvp(v: Vector) -> Vector:
        return (grad(theta + eps * v) - grad(theta - eps * v)) / (2 * eps)

    return hvp


def top_eigenvalue(
    hvp: Callable[[Vector], Vector], dim: int, *, start: Vector | None = None, tol: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS, seed: int = 0,
) -> Sharpness:
    """Largest eigenvalue of a symmetric matrix known only through ``hvp(v) = H·v``, by power iteration.

    ``start`` (e.g. the previous evaluation's eigenvector) speeds it up; otherwise a random unit vector.
    """
    rng = np.random.default_rng(seed)
    found, radius = _power(hvp, _unit(start if start is not None else rng.standard_normal(dim)), tol, max_iterations)
    if found.converged and found.value >= 0:
        return found  # the eigenvalue of largest magnitude is positive: it is λ_max
    # Either a negative eigenvalue dominates, or a +λ/−λ pair of nearly equal size keeps v swinging
    # between two directions. Shift by ρ ≈ the largest |eigenvalue| (‖Hv‖ ≤ ρ for unit v): the
    # eigenvalues of H + ρ·I are about ≥ 0 and the largest is λ_max + ρ, which now dominates.
    # (Also when the first pass ran out of iterations: the shifted pass continues from its vector.)
    shifted, _ = _power(lambda u: hvp(u) + radius * u, found.vector, tol, max_iterations)  # go on from there
    return Sharpness(value=shifted.value - radius, vector=shifted.vector,
                     products=found.products + shifted.products, converged=shifted.converged)


def _unit(v: Vector) -> Vector:
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else np.full_like(v, 1 / np.sqrt(v.size))


def _power(hvp: Callable[[Vector], Vector], v: Vector, tol: float, max_iterations: int) -> tuple[Sharpness, float]:
    """Power iteration from the unit vector ``v``: the Rayleigh quotient vᵀHv as the eigenvalue, and the
    largest ‖Hv‖ seen (a lower bound of the largest |eigenvalue|).

    Converged when two successive estimates agree within ``tol`` (relative) twice in a row *and* v is
    nearly an eigenvector, ‖Hv − λv‖ ≤ √tol·‖Hv‖ (the eigenvalue's error is then of order tol). The
    second test matters: a mix of the directions of +λ and −λ keeps a constant Rayleigh quotient
    (anything between −λ and λ) while v swings between two vectors.
    """
    estimate, settled, radius = float("nan"), 0, 0.0
    for k in range(1, max_iterations + 1):
        hv = hvp(v)
        new = float(v @ hv)
        if not np.isfinite(new):
            return Sharpness(value=new, vector=v, products=k, converged=False), radius
        size = float(np.linalg.norm(hv))
        radius = max(radius, size)
        settled = settled + 1 if abs(new - estimate) <= tol * abs(new) else 0
        is_eigenvector = np.linalg.norm(hv - new * v) <= np.sqrt(tol) * size
        v, estimate = _unit(hv), new
        if settled >= 2 and is_eigenvector:
            return Sharpness(value=new, vector=v, products=k, converged=True), radius
    return Sharpness(value=estimate, vector=v, products=max_iterations, converged=False), radius


def sharpness(
    network: LayerNet, x: np.ndarray, t: np.ndarray, *, start: Vector | None = None,
    tol: float = TOLERANCE, max_iterations: int = MAX_ITERATIONS, seed: int = 0,
) -> Sharpness:
    """λ_max of the mean cross-entropy's Hessian at the network's parameters, on the batch ``(x, t)``."""
    grad, theta = gradient_function(network, x, t)
    with np.errstate(over="ignore", invalid="ignore"):
        return top_eigenvalue(finite_difference_hvp(grad, theta), theta.size, start=start, tol=tol,
                              max_iterations=max_iterations, seed=seed)
