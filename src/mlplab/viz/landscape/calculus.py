"""Figures of :mod:`mlplab.landscape.calculus`: a function with its tangents, and the −∇f arrow field."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mlplab.landscape.calculus import gradient_field, tangent
from mlplab.viz.study import series_colors
from mlplab.viz.theme import colors, theme_context


def plot_tangents(f: Callable[[np.ndarray], np.ndarray], points: Sequence[float], *, x_range: tuple[float, float],
                  formula: str, theme: str = "dark") -> Figure:
    """``f`` over ``x_range`` and its tangent at each of ``points``, slopes in the legend (book fig 4-7)."""
    c = colors(theme)
    with theme_context(theme):
        fig, ax = plt.subplots(figsize=(7.0, 4.4), layout="constrained")
        x = np.linspace(*x_range, 400)
        ax.plot(x, f(x), color=c["foreground"], lw=2, label=f"f(x) = {formula}")
        for x0, color in zip(points, series_colors(len(points) + 1)[1:], strict=True):
            line = tangent(lambda v: float(f(np.asarray(v))), x0)
            ax.plot(x, line(x), "--", color=color, lw=1.5, label=f"tangent at x = {x0:g}: slope {line.slope:.4g}")
            ax.plot([x0], [f(np.asarray(x0))], "o", color=color)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.set_title("The numerical derivative as a slope: (f(x+h) − f(x−h)) / 2h, h = 1e-4")
        ax.legend(loc="upper left", fontsize=9)
    return fig


def plot_gradient_field(f: Callable[[np.ndarray], float], xs: np.ndarray, ys: np.ndarray, *, formula: str,
                        theme: str = "dark") -> Figure:
    """Arrows of −∇f on the grid (book fig 4-9), over faint contour lines of ``f``."""
    c = colors(theme)
    X, Y, U, V = gradient_field(f, xs, ys)
    with theme_context(theme):
        fig, ax = plt.subplots(figsize=(6.4, 5.8), layout="constrained")
        Z = np.array([[f(np.array([x, y])) for x in X[0]] for y in Y[:, 0]])
        ax.contour(X, Y, Z, levels=12, colors=c["reference"], linewidths=0.6, alpha=0.6)
        ax.quiver(X, Y, U, V, angles="xy", color=c["train"])
        ax.set_xlabel("x0")
        ax.set_ylabel("x1")
        pad = 2 * (xs[1] - xs[0])  # room for the arrows at the edge
        ax.set_xlim(xs[0] - pad, xs[-1] + pad)
        ax.set_ylim(ys[0] - pad, ys[-1] + pad)
        ax.grid(False)
        ax.set_aspect("equal")
        ax.set_title(f"−∇f for f = {formula}: each arrow points downhill")
    return fig
