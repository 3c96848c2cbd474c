"""Why a path diverged: the steepest curvature ``λ_max`` against the optimizer's stability limit.

On a quadratic with Hessian eigenvalue ``λ``, one step of gradient descent multiplies the distance
to the minimum along that direction by ``1 − lr·λ``. When ``lr·λ > 2`` that factor is below −1: every
step jumps across the valley and lands further away than it started, so the path grows without
bound. Momentum methods carry part of the last step along, which moves the limit:

======================  =====================================  ==================================
optimizer               update (on one direction, ``h = lr·λ``)   stable exactly when
======================  =====================================  ==================================
SGD (plain descent)     ``w ← (1 − h)·w``                      ``h < 2``
Momentum (heavy ball)   ``w ← w + m·(w − w_prev) − h·w``       ``h < 2·(1 + m)``
Nesterov                gradient at ``w + m·(w − w_prev)``      ``h < 2·(1 + m) / (1 + 2m)``
======================  =====================================  ==================================

(each limit is where a root of the recurrence's characteristic polynomial crosses −1). AdaGrad,
RMSprop and Adam divide the step by the gradient's running size, so no fixed ``lr·λ`` limit exists
for them. For a function that is not quadratic, ``λ_max`` is the largest Hessian eigenvalue at the
path's points before it left the function's box (the exact gradient differentiated once more by
central differences).
"""

from __future__ import annotations

import numpy as np

from mlplab.landscape.functions import Function
from mlplab.landscape.paths import Path


def hessian_at(function: Function, w: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """The 2×2 Hessian at ``w``: central differences of the exact gradient, symmetrised.

    ``H[:, i] ≈ (∇f(w + h·e_i) − ∇f(w − h·e_i)) / 2h``, with ``h`` scaled to the size of ``w``.
    """
    w = np.asarray(w, dtype=np.float64)
    step = h * max(1.0, float(np.max(np.abs(w))))
    columns = []
    for i in range(2):
        e = np.zeros(2)
        e[i] = step
        columns.append((function.gradient_at(w + e) - function.gradient_at(w - e)) / (2 * step))
    H = np.stack(columns, axis=1)
    return (H + H.T) / 2


def curvature(path: Path) -> tuple[float, str]:
    """``λ_max`` for the path, and where it was read: exact for a quadratic, else measured at its end."""
    q = path.function.quadratic
    if q is not None:
        return float(np.max(q.eigenvalues)), "the Hessian's largest eigenvalue"
    (x0, x1), (y0, y1) = path.function.bounds
    pts = path.points
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    # Where the instability happened: on the function's own box (far out, the curvature of a quartic
    # is huge and says nothing about the lr that would have worked).
    points = pts[: int(np.argmin(inside))] if not inside.all() and inside[0] else pts
    with np.errstate(all="ignore"):
        lam = [np.max(np.linalg.eigvalsh(hessian_at(path.function, w))) for w in points]
    lam = [v for v in lam if np.isfinite(v)]
    return (max(lam) if lam else float("nan")), "largest Hessian eigenvalue on the path before it left the frame"


def stability_limit(optimizer: str, hyperparameters: dict[str, float]) -> tuple[float, str] | None:
    """The largest stable ``lr·λ`` for ``optimizer`` on a quadratic, with its formula; ``None`` when
    the optimizer has no fixed limit (it rescales its steps)."""
    m = float(hyperparameters.get("momentum", 0.0))
    if optimizer == "sgd":
        return 2.0, "2"
    if optimizer == "momentum":
        return 2 * (1 + m), f"2(1 + m) = {2 * (1 + m):.4g}"
    if optimizer == "nesterov":
        return 2 * (1 + m) / (1 + 2 * m), f"2(1 + m)/(1 + 2m) = {2 * (1 + m) / (1 + 2 * m):.4g}"
    return None


def headline_reason(path: Path) -> str:
    """A few words for a figure title: ``"lr·λ_max = 10 > 2"``, or ``""`` when no limit applies."""
    limit = stability_limit(path.optimizer, path.hyperparameters)
    lam, _ = curvature(path)
    if path.diverged_at is None or limit is None or not np.isfinite(lam) or path.lr * lam <= limit[0]:
        return ""
    return f"lr·λ_max = {path.lr * lam:.3g} > {limit[0]:.3g}"


def divergence_note(path: Path) -> str | None:
    """``"diverged at step 1: lr·λ_max = 5 × 2 = 10 > 2 …"`` for a diverged path, else ``None``."""
    if path.diverged_at is None:
        return None
    lam, where = curvature(path)
    head = f"diverged at step {path.diverged_at}: "
    if not np.isfinite(lam):
        return head + "the curvature could not be measured where it left."
    product = path.lr * lam
    formula = f"lr·λ_max = {path.lr:.4g} × {lam:.4g} = {product:.4g}"
    limit = stability_limit(path.optimizer, path.hyperparameters)
    if limit is None:
        return (head + f"{formula} (λ_max: {where}); {path.optimizer} rescales its steps, so it has no "
                "fixed limit on lr·λ_max — a smaller lr still shortens every step.")
    value, text = limit
    if product > value:
        safe = value / lam
        return (head + f"{formula} > {text} (λ_max: {where}), so every step overshoots the steepest "
                f"direction and lands further away; stable for lr < {safe:.4g}.")
    return (head + f"{formula} <= {text} (λ_max: {where}): the local curvature allowed this lr, so it "
            "left through a region where the function itself falls away (no minimum in that direction).")
