"""What theory says about gradient descent on a quadratic, in closed form.

For ``f(w) = c + bᵀw + ½ wᵀHw`` with symmetric ``H = Q diag(λ) Qᵀ`` the gradient is ``b + Hw``, so one
step of gradient descent ``w ← w − lr·(b + Hw)`` is a *linear* map. In the eigen-coordinates
``z = Qᵀ(w − w*)`` around the stationary point ``w* = −H⁻¹b`` it is just a scaling per direction:

    z_k = (1 − lr·λ_i)^k · z_0        (per eigen-direction i)

- ``|1 − lr·λ| < 1`` for every ``λ``  ⇔  ``0 < lr < 2/L`` with ``L = max λ``: the stability limit;
- a factor below 0 means the point jumps across the valley each step: the zig-zag;
- a factor close to 1 (a small ``λ``, a flat direction) means crawling; how close is set by the
  condition number ``L/μ``.

For stochastic gradients ``g + ε`` with noise ``ε`` of covariance ``s²I`` the mean follows the same
map and the covariance obeys ``Σ_{k+1} = A_k Σ_k A_kᵀ + lr_k²·s²·I`` with ``A_k = I − lr_k·H``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Quadratic:
    """``f(w) = constant + linearᵀw + ½ wᵀ hessian w`` with a symmetric (2, 2) ``hessian``."""

    hessian: np.ndarray
    linear: np.ndarray = field(default_factory=lambda: np.zeros(2))
    constant: float = 0.0

    def __post_init__(self) -> None:
        h = np.asarray(self.hessian, dtype=np.float64)
        object.__setattr__(self, "hessian", (h + h.T) / 2)
        object.__setattr__(self, "linear", np.asarray(self.linear, dtype=np.float64).reshape(2))

    # --- the shape of the bowl --------------------------------------------------------------------

    @property
    def eigenvalues(self) -> np.ndarray:
        """``λ`` in ascending order, shape (2,)."""
        return np.linalg.eigh(self.hessian)[0]

    @property
    def eigenvectors(self) -> np.ndarray:
        """``Q``: column ``i`` is the direction of ``λ_i``, shape (2, 2)."""
        return np.linalg.eigh(self.hessian)[1]

    @property
    def is_convex(self) -> bool:
        """True when every ``λ > 0``: one minimum, and gradient descent can reach it."""
        return bool(self.eigenvalues[0] > 0)

    @property
    def stationary_point(self) -> np.ndarray | None:
        """``w* = −H⁻¹b`` (the minimum if convex, a saddle otherwise); None if ``H`` is singular."""
        if abs(np.linalg.det(self.hessian)) < 1e-14 * max(1.0, np.abs(self.hessian).max() ** 2):
            return None
        return np.linalg.solve(self.hessian, -self.linear)

    def value(self, w: np.ndarray) -> np.ndarray:
        """``f`` at points ``w`` of shape (..., 2)."""
        w = np.asarray(w, dtype=np.float64)
        return self.constant + w @ self.linear + 0.5 * np.einsum("...i,ij,...j->...", w, self.hessian, w)

    @property
    def smoothness(self) -> float:
        """``L = max λ``: how fast the gradient can change."""
        return float(self.eigenvalues[-1])

    @property
    def condition_number(self) -> float:
        """``L/μ`` for a convex quadratic (inf otherwise): how much slower the flattest direction is."""
        mu, big = self.eigenvalues
        return float(big / mu) if mu > 0 else float("inf")

    # --- gradient descent with a constant learning rate -------------------------------------------

    def factors(self, lr: float) -> np.ndarray:
        """Per-direction contraction factors ``1 − lr·λ_i``, shape (2,), in eigenvalue order."""
        return 1.0 - lr * self.eigenvalues

    def stability_limit(self) -> float:
        """Largest stable learning rate ``2/L`` (inf if no direction curves upwards)."""
        big = self.smoothness
        return 2.0 / big if big > 0 else float("inf")

    def gd_path(self, lr: float, steps: int, start: np.ndarray) -> np.ndarray:
        """The closed-form gradient-descent path, shape (steps + 1, 2).

        Per eigen-direction: ``z_k = z* + r^k (z_0 − z*)`` with ``r = 1 − lr·λ`` and ``z* = −b̃/λ``;
        a flat direction (``λ = 0``) just drifts: ``z_k = z_0 − k·lr·b̃``.
        """
        lam, q = self.eigenvalues, self.eigenvectors
        z0 = q.T @ np.asarray(start, dtype=np.float64)  # (2,) start in eigen-coordinates
        b = q.T @ self.linear  # (2,) linear term in eigen-coordinates
        k = np.arange(steps + 1, dtype=np.float64)[:, None]  # (steps + 1, 1)
        flat = np.isclose(lam, 0.0, atol=1e-15)
        safe = np.where(flat, 1.0, lam)
        z_star = np.where(flat, 0.0, -b / safe)
        curved = z_star + np.power(1.0 - lr * lam, k) * (z0 - z_star)  # (steps + 1, 2)
        drift = z0 - k * lr * b
        return np.where(flat, drift, curved) @ q.T  # back to (x, y)

    def distances(self, lr: float, steps: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Closed-form distance to the minimum after each of ``steps`` (array of whole numbers)."""
        a = self.eigenvectors.T @ (np.asarray(start, dtype=np.float64) - self.stationary_point)
        r = np.abs(self.factors(lr))
        k = np.asarray(steps, dtype=np.float64)[..., None]
        return np.sqrt(np.sum((np.power(r, k) * a) ** 2, axis=-1))

    def steps_to_reach(self, lr: float, start: np.ndarray, tol: float) -> int | None:
        """Fewest steps after which gradient descent stays within ``tol`` of the minimum.

        Each term ``|r_i|^k |a_i|`` shrinks with ``k`` when ``|r_i| < 1``, so the distance is monotone
        and a bisection over ``k`` finds the exact count. None if the quadratic has no minimum or a
        direction does not contract (``lr ≥ 2/L``).
        """
        if not self.is_convex:
            return None
        a = self.eigenvectors.T @ (np.asarray(start, dtype=np.float64) - self.stationary_point)
        r = np.abs(self.factors(lr))
        if np.any((r >= 1.0) & (np.abs(a) > 0)):
            return None
        if np.linalg.norm(a) <= tol:
            return 0
        # Upper bound: every term below tol/√2. (r = 0 reaches zero after one step.)
        with np.errstate(divide="ignore"):
            per_direction = np.where(
                (np.abs(a) > tol / np.sqrt(2)) & (r > 0),
                np.log(tol / (np.sqrt(2) * np.abs(a) + 1e-300)) / np.log(np.where(r > 0, r, 0.5)),
                1.0,
            )
        low, high = 0, int(np.ceil(per_direction.max())) + 1
        while high - low > 1:  # invariant: distance(low) > tol ≥ distance(high)
            mid = (low + high) // 2
            if self.distances(lr, np.array(mid), start) <= tol:
                high = mid
            else:
                low = mid
        return high

    # --- stochastic gradients ---------------------------------------------------------------------

    def noise_covariances(self, lrs: np.ndarray, noise_std: float) -> np.ndarray:
        """Covariance of the SGD iterate around its mean, for gradient noise of std ``noise_std``
        per coordinate (independent between steps): shape (len(lrs) + 1, 2, 2), starting at 0.
        """
        sigma = np.zeros((len(lrs) + 1, 2, 2))
        eye = np.eye(2)
        for k, lr in enumerate(lrs):
            a = eye - lr * self.hessian
            sigma[k + 1] = a @ sigma[k] @ a.T + (lr * noise_std) ** 2 * eye
        return sigma

    def stationary_noise_std(self, lr: float, noise_std: float) -> np.ndarray | None:
        """Per-direction std of SGD at equilibrium with a constant ``lr``: the noise floor.

        From ``v = r²v + lr²s²``: ``v = lr·s² / (λ(2 − lr·λ))``. None if not stable.
        """
        lam = self.eigenvalues
        if not self.is_convex or np.any(np.abs(1.0 - lr * lam) >= 1.0):
            return None
        return np.sqrt(lr * noise_std**2 / (lam * (2.0 - lr * lam)))


def direction_names(q: np.ndarray) -> list[str]:
    """``"x"`` / ``"y"`` for axis-aligned eigenvectors, else ``"(0.71, 0.71)"``-style labels."""
    names = []
    for v in q.T:
        if np.isclose(abs(v[0]), 1.0):
            names.append("x")
        elif np.isclose(abs(v[1]), 1.0):
            names.append("y")
        else:
            names.append(f"({v[0]:.2f}, {v[1]:.2f})")
    return names
