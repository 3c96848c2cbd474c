"""Ch. 4's calculus pictures: a derivative as a tangent, a gradient as a field of arrows.

Both use only the numerical derivative (:func:`mlplab.nn.numerical.numerical_gradient`, central
differences), as the book's ``gradient_1d.py`` and ``gradient_2d.py`` do:

- ``tangent(f, x0)``: the slope ``f'(x0) ≈ (f(x0 + h) − f(x0 − h)) / 2h`` and the line through
  ``(x0, f(x0))`` with that slope (for the book's ``f(x) = 0.01x² + 0.1x`` at 5: slope 0.2, exactly
  the analytic ``0.02·5 + 0.1``);
- ``gradient_field(f, xs, ys)``: ``−∇f`` at every grid point, the direction in which ``f``
  decreases fastest (for ``x² + y²``: arrows pointing at the minimum, longer far from it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlplab.nn.numerical import numerical_gradient

#: The book's ``function_1`` (§4.3.2) and the points where it draws tangents.
BOOK_1D = "0.01*x**2 + 0.1*x"
BOOK_1D_POINTS = (5.0, 10.0)
#: The book's ``function_2`` (§4.3.3) and its grid, −2 … 2.5 step 0.25 on both axes.
BOOK_2D = "x**2 + y**2"
BOOK_GRID = np.arange(-2.0, 2.5, 0.25)


@dataclass(frozen=True)
class Tangent:
    """The line ``y = slope·x + intercept`` touching ``f`` at ``x0``."""

    x0: float
    slope: float
    intercept: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.slope * np.asarray(x) + self.intercept


def tangent(f: Callable[[float], float], x0: float, h: float = 1e-4) -> Tangent:
    """The tangent of ``f`` at ``x0`` from the numerical derivative."""
    slope = float(numerical_gradient(lambda a: float(f(a[0])), np.array([x0], dtype=np.float64), h)[0])
    return Tangent(float(x0), slope, float(f(x0)) - slope * float(x0))


def gradient_field(f: Callable[[np.ndarray], float], xs: np.ndarray, ys: np.ndarray,
                   h: float = 1e-4) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X, Y, U, V)``: the grid (``len(ys), len(xs)``) and ``(U, V) = −∇f`` there, numerically.

    ``f`` takes one point ``(2,)``. Each point costs four evaluations of ``f``.
    """
    X, Y = np.meshgrid(np.asarray(xs, np.float64), np.asarray(ys, np.float64))
    points = np.stack([X.ravel(), Y.ravel()], axis=1)  # (n, 2)
    grads = np.array([numerical_gradient(f, p.copy(), h) for p in points])  # (n, 2)
    return X, Y, -grads[:, 0].reshape(X.shape), -grads[:, 1].reshape(X.shape)
