"""Local minima of a user's function, found numerically: Newton's method from a grid of starts.

The built-in functions list their minima from the literature. A user's expression has none listed,
so this searches a box: from every point of a ``grid × grid`` lattice it runs Newton's method
``w ← w − H(w)⁻¹ ∇f(w)`` with the exact gradient and Hessian, then keeps the points where the
gradient vanishes *and* the Hessian is positive definite (a minimum, not a saddle or a maximum).
What it finds is "the local minima found in the box" — it can miss a minimum, and it says so.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Box = tuple[tuple[float, float], tuple[float, float]]


def find_minima(
    value: Callable[[np.ndarray, np.ndarray], np.ndarray],
    gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    hessian: Callable[[np.ndarray, np.ndarray], np.ndarray],
    box: Box,
    *,
    grid: int = 15,
    iterations: int = 60,
    gradient_tol: float = 1e-8,
) -> tuple[tuple[float, float], ...]:
    """Distinct local minima inside ``box``, lowest value first.

    ``hessian(x, y)`` returns shape ``(..., 2, 2)`` for ``x``, ``y`` of shape ``(...)``.
    """
    (x0, x1), (y0, y1) = box
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
    w = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (grid², 2) starts
    max_step = 0.25 * max(x1 - x0, y1 - y0)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            g = np.stack(gradient(w[:, 0], w[:, 1]), axis=1)  # (K, 2)
            h = hessian(w[:, 0], w[:, 1])  # (K, 2, 2)
            det = h[:, 0, 0] * h[:, 1, 1] - h[:, 0, 1] * h[:, 1, 0]
            ok = np.isfinite(det) & (np.abs(det) > 1e-300)
            inverse_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
            # (2×2 inverse by hand) @ g, for all K points at once
            step = np.stack([h[:, 1, 1] * g[:, 0] - h[:, 0, 1] * g[:, 1],
                             h[:, 0, 0] * g[:, 1] - h[:, 1, 0] * g[:, 0]], axis=1) * inverse_det[:, None]
            norm = np.linalg.norm(step, axis=1, keepdims=True)
            step = np.where(norm > max_step, step * max_step / np.maximum(norm, 1e-300), step)
            w = w - np.nan_to_num(step)
        g = np.stack(gradient(w[:, 0], w[:, 1]), axis=1)
        h = hessian(w[:, 0], w[:, 1])
        f = value(w[:, 0], w[:, 1])
    margin = 1e-9 * max(x1 - x0, y1 - y0)
    inside = (w[:, 0] >= x0 - margin) & (w[:, 0] <= x1 + margin)
    inside &= (w[:, 1] >= y0 - margin) & (w[:, 1] <= y1 + margin)
    stationary = np.linalg.norm(g, axis=1) < gradient_tol * (1.0 + np.abs(f))
    finite = np.isfinite(h).all(axis=(1, 2)) & np.isfinite(f)
    candidates = inside & stationary & finite
    positive = np.zeros(len(w), dtype=bool)
    positive[candidates] = np.linalg.eigvalsh(h[candidates])[:, 0] > 0
    found: list[tuple[float, float, float]] = []
    for (px, py), fv in sorted(zip(w[positive], f[positive], strict=True), key=lambda item: item[1]):
        if all(np.hypot(px - qx, py - qy) > 1e-6 * (1 + np.hypot(qx, qy)) for qx, qy, _ in found):
            found.append((float(px), float(py), float(fv)))
    return tuple((px, py) for px, py, _ in found)
