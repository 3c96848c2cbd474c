"""Numerical differentiation, "Deep Learning from Scratch" §4.3–4.4: the gradient without calculus.

The reference that backpropagation is checked against: slow (two evaluations of ``f`` per element)
but independent of any derivative written by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4, *,
                       elements: Iterable[int] | None = None) -> np.ndarray:
    """∂f/∂x by central differences, element by element: (f(x + h·e_i) − f(x − h·e_i)) / 2h.

    ``x`` may have any shape. It is changed *in place* while ``f`` is evaluated and restored after
    each element, exactly as in the book — that is what makes ``f = lambda W: net.loss(x, t)`` work
    when ``x`` is the very array ``net.params["W1"]`` the network reads. The error is O(h²); h = 1e-4
    is the book's compromise between that and the rounding error of f(x ± h), ~ε/h.

    Example (the book's §4.4.1, f(x0, x1) = x0² + x1² at (3, 4))::

        >>> numerical_gradient(lambda x: np.sum(x**2), np.array([3.0, 4.0]))
        array([6., 8.])

    ``elements`` (flat indices into ``x``): only these are nudged; the others keep the gradient 0.
    """
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"x must be a float array to be nudged by h={h}, got dtype {x.dtype}; "
            "pass x.astype(np.float64)."
        )
    grad = np.zeros_like(x)
    indices = np.ndindex(x.shape) if elements is None else (np.unravel_index(k, x.shape) for k in elements)
    for idx in indices:
        original = x[idx].copy()
        x[idx] = original + h
        f_plus = f(x)
        x[idx] = original - h
        f_minus = f(x)
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad
