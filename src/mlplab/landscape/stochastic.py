"""SGD as a real finite-sum objective, so that "mini-batch noise" means exactly what it says.

Training minimises an average over examples, ``F(w) = (1/N) Σ_i f_i(w)``, and SGD follows the gradient
of a random mini-batch of the ``f_i``. Here the examples are made to sit on top of a 2-D function:

    f_i(w) = f(w) + σ·ξ_i·w,        ξ_i ∈ R², drawn once from the seed

with the ξ_i centred and whitened so that ``Σ_i ξ_i = 0`` and ``(1/N) Σ_i ξ_i ξ_iᵀ = I`` exactly. Then

- ``F(w) = f(w)``: the average of the examples is the function we plot, with the same minima;
- the mini-batch gradient ``∇f(w) + σ·mean_{i∈B} ξ_i`` is exactly unbiased (averaged over every
  possible batch it is ``∇f(w)``);
- its noise has covariance ``(σ²/B)·I`` when the batch is drawn with replacement — a std of
  ``σ/√B`` per coordinate — and ``(σ²/B)·(N − B)/(N − 1)·I`` when drawn without replacement (per-epoch
  shuffles), which is 0 at ``B = N``.

Seed defaults: lr 0.9, 100 steps, batch 10, σ = 0.5, N = 1000, batches drawn with replacement (the
textbook's sampling, as in ``mlplab train``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from mlplab.errors import ConfigError
from mlplab.landscape.functions import Function
from mlplab.landscape.paths import Path, follow
from mlplab.landscape.schedules import make_schedule
from mlplab.optim import make_optimizer
from mlplab.train.config import SAMPLINGS
from mlplab.train.trainer import batches_from_shuffles, batches_with_replacement


@dataclass(frozen=True)
class FiniteSum:
    """``F(w) = (1/N) Σ_i [f(w) + σ ξ_i·w]`` over ``n`` examples; ``xi`` has shape (n, 2)."""

    function: Function
    n: int = 1000
    noise: float = 0.5
    seed: int = 0
    xi: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.n, (int, np.integer)) or self.n < 3:
            raise ConfigError(f"the number of examples N must be a whole number >= 3, got {self.n!r}.")
        if not (np.isfinite(self.noise) and self.noise >= 0):
            raise ConfigError(f"the noise scale sigma must be a number >= 0, got {self.noise!r}.")
        xi = np.random.default_rng(self.seed).standard_normal((self.n, 2))
        xi -= xi.mean(axis=0)  # Σ ξ_i = 0: the mini-batch gradient is unbiased
        cholesky = np.linalg.cholesky(xi.T @ xi / self.n)
        xi = xi @ np.linalg.inv(cholesky).T  # (1/N) Σ ξ_i ξ_iᵀ = I: noise exactly σ²/B per coordinate
        object.__setattr__(self, "xi", xi)

    def value(self, w: np.ndarray, i: int | None = None) -> float:
        """``F(w)``, or one example's ``f_i(w)``."""
        base = self.function.value_at(w)
        return base if i is None else base + self.noise * float(self.xi[i] @ w)

    def batch_gradient(self, w: np.ndarray, batch: np.ndarray) -> np.ndarray:
        """``(1/B) Σ_{i∈batch} ∇f_i(w) = ∇f(w) + σ·mean(ξ[batch])``, shape (2,)."""
        return self.function.gradient_at(w) + self.noise * self.xi[batch].mean(axis=0)

    def predicted_noise(self, batch_size: int, sampling: str = "replacement") -> float:
        """Std per coordinate of the mini-batch gradient noise: ``σ/√B`` (× √((N−B)/(N−1)) without
        replacement)."""
        std = self.noise / np.sqrt(batch_size)
        if sampling == "shuffle":
            std *= np.sqrt((self.n - batch_size) / (self.n - 1))
        return float(std)


def check_sampling(objective: FiniteSum, batch_size: int, sampling: str) -> None:
    if sampling not in SAMPLINGS:
        raise ConfigError(f"unknown sampling {sampling!r}; choose one of: {', '.join(SAMPLINGS)}.")
    if not (1 <= batch_size <= objective.n):
        raise ConfigError(
            f"batch size must be between 1 and N = {objective.n}, got {batch_size}; "
            f"use --batch-size {min(10, objective.n)} or a larger --n."
        )


def batches(objective: FiniteSum, batch_size: int, sampling: str, seed: int) -> Iterator[np.ndarray]:
    """Index batches, drawn as ``mlplab train`` draws them (``replacement`` or ``shuffle``)."""
    check_sampling(objective, batch_size, sampling)
    sample = batches_from_shuffles if sampling == "shuffle" else batches_with_replacement
    return sample(np.random.default_rng(seed), objective.n, batch_size)


def stochastic_descent(
    objective: FiniteSum,
    optimizer: str = "sgd",
    lr: float = 0.9,
    steps: int = 100,
    batch_size: int = 10,
    start: tuple[float, float] | None = None,
    *,
    seed: int = 0,
    schedule: str = "constant",
    sampling: str = "replacement",
    **hyperparameters: float,
) -> Path:
    """One SGD run on the finite sum: each step uses the gradient of a fresh mini-batch.

    ``seed`` chooses the batches (the examples ξ_i are fixed by ``objective.seed``).
    """
    stream = batches(objective, batch_size, sampling, seed)

    def step_gradient(w: np.ndarray, t: int) -> np.ndarray:
        return objective.batch_gradient(w, next(stream))

    function = objective.function
    path = follow(
        function, make_optimizer(optimizer, lr, **hyperparameters), steps,
        function.start if start is None else start,
        step_gradient=step_gradient, schedule=make_schedule(schedule, lr, steps),
        label=f"{optimizer} lr={lr:g} B={batch_size} seed {seed}",
    )
    path.extra.update(batch_size=batch_size, seed=seed, schedule=schedule, sampling=sampling,
                      noise=objective.noise, n=objective.n)
    return path


def ensemble(objective: FiniteSum, runs: int = 30, *, seed: int = 0, **kwargs) -> list[Path]:
    """``runs`` SGD paths that differ only in their batches: seeds ``seed, seed + 1, …``."""
    if runs < 1:
        raise ConfigError(f"runs must be >= 1, got {runs}.")
    return [stochastic_descent(objective, seed=seed + k, **kwargs) for k in range(runs)]


def gradient_noise(
    objective: FiniteSum, batch_size: int, *, draws: int = 2000, sampling: str = "replacement",
    seed: int = 0,
) -> np.ndarray:
    """``draws`` samples of the mini-batch noise ``g_B − ∇F = σ·mean(ξ[B])``, shape (draws, 2).

    The noise does not depend on ``w`` (the ξ-term is linear in ``w``), so no point is needed.
    """
    stream = batches(objective, batch_size, sampling, seed)
    return np.array([objective.noise * objective.xi[next(stream)].mean(axis=0) for _ in range(draws)])
