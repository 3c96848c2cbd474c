"""Central differences, the independent reference every stage of :mod:`mlplab.explain` is checked against.

    ∂f/∂v[k] ≈ (f(v + h·e_k) − f(v − h·e_k)) / 2h        (error O(h²); "Deep Learning from Scratch" §4.3.1)

One element at a time (:func:`mlplab.nn.numerical_gradient`, the book's loop), in float64: slow
but it knows nothing about backpropagation, which is the point. The textbook's ``h = 1e-4``
balances the O(h²) truncation against float64 rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlplab.nn.numerical import numerical_gradient

#: The step of the central differences (the textbook's).
H = 1e-4


def central_differences(f: Callable[[], float], v: np.ndarray, *, rows: np.ndarray | None = None,
                        h: float = H) -> np.ndarray:
    """∂f/∂v by central differences; ``f()`` reads ``v`` (which is perturbed in place and restored).

    ``rows`` (for a 2-D ``v``): only these rows are perturbed; the others are given the gradient 0.
    That is exact, not an approximation, for ``W`` of ``a = u·W + b`` when ``u[k] = 0``: the row
    ``W[k]`` is multiplied by 0, so ``f`` does not change by a single bit when it moves.
    """
    if v.dtype != np.float64:
        raise TypeError(f"central differences need float64 values to be meaningful, got {v.dtype}.")
    if rows is None:
        return numerical_gradient(lambda _: f(), v, h)
    columns = v.shape[1]
    elements = (np.asarray(rows)[:, None] * columns + np.arange(columns)).reshape(-1)
    return numerical_gradient(lambda _: f(), v, h, elements=elements)
