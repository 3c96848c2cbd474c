"""Optimizers side by side: the textbook's 2×2 grid, and all paths on one contour with their
convergence per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from mlplab.landscape import Path
from mlplab.landscape.verdict import Verdict, fmt, fmt_point
from mlplab.viz.landscape.plots import plot_contour
from mlplab.viz.landscape.scene import optimizer_colors, plot_box
from mlplab.viz.panels import grid_shape
from mlplab.viz.theme import theme_context


def plot_compare_grid(paths: Sequence[Path], verdicts: Sequence[Verdict], *, theme: str = "dark") -> dict[str, Any]:
    """One contour per optimizer (two columns), the same box for all, each titled with its verdict."""
    function = paths[0].function
    with theme_context(theme):
        rows, cols = grid_shape(len(paths), 2)
        fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 3.9 * rows), layout="constrained",
                                 squeeze=False)
        box = plot_box(function, paths)
        drawn: dict[str, Any] = {"figure": fig, "axes": []}
        for k, (path, verdict, color) in enumerate(zip(paths, verdicts, optimizer_colors(paths), strict=True)):
            ax = axes.flat[k]
            plot_contour(function, [path], ax=ax, theme=theme, box=box, arrows=False, colorbar=False,
                         legend=False, path_colors=[color], title=f"{path.label}: {verdict.headline()}")
            drawn["axes"].append(ax)
        for ax in axes.flat[len(paths):]:
            ax.set_visible(False)
        fig.suptitle(f"{len(paths)} optimizers, {paths[0].steps} steps from {fmt_point(paths[0].start)} "
                     f"on {function.label}", fontsize=12)
    return drawn


def plot_compare_overlay(paths: Sequence[Path], verdicts: Sequence[Verdict], *, theme: str = "dark") -> dict[str, Any]:
    """All paths on one contour (left) and their ``f − f*`` per step (right, log scale)."""
    function = paths[0].function
    with theme_context(theme):
        fig, (ax_map, ax_gap) = plt.subplots(1, 2, figsize=(13.5, 5.0), layout="constrained",
                                             gridspec_kw={"width_ratios": [1.5, 1]})
        palette = optimizer_colors(paths)
        plot_contour(function, paths, ax=ax_map, theme=theme, arrows=False, path_colors=palette,
                     title=f"All paths on {function.label}")
        f_min = function.f_min if function.f_min is not None else 0.0
        for path, verdict, color in zip(paths, verdicts, palette, strict=True):
            gap = path.values - f_min
            label = f"{path.label}: {fmt(gap[-1])}" + (" (converged)" if verdict.converged else "")
            ax_gap.plot(np.arange(len(gap)), np.where(gap > 0, gap, np.nan), "-o", ms=2.5, lw=1.8,
                        color=color, label=label)
        if function.f_min is not None:
            ax_gap.set_yscale("log")
        ax_gap.set_xlabel("step")
        ax_gap.set_ylabel("f − f*" if function.f_min is not None else "f")
        ax_gap.set_title("Value above the minimum, per step")
        ax_gap.legend(fontsize=8, title="after the last step", title_fontsize=8, loc="best")
    return {"figure": fig, "map": ax_map, "gap": ax_gap}
