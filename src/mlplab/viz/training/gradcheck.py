"""The gradient check as a picture: where backprop and central differences disagree, and by how much.

For every parameter element, ``|numerical − backprop|`` is drawn on one log colour scale: ``W1`` as one
28×28 tile per hidden unit (the same layout as the hidden-unit figure), the other weight matrices
as images, the biases as points. A bar chart gives each parameter's relative error
``‖num − bp‖ / (‖num‖ + ‖bp‖)`` against the tolerance: bars far below the line mean backprop is right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from mlplab.nn.gradcheck import ParamCheck
from mlplab.viz.palette import cycle_colors
from mlplab.viz.panels import image_side, tile_images
from mlplab.viz.theme import colors, theme_context

#: Differences below this are drawn as this (a log scale has no 0): far below float64 rounding of a loss.
FLOOR = 1e-18


def abs_differences(numerical: dict[str, np.ndarray], backprop: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``|numerical − backprop|`` per parameter, same shapes as the parameters."""
    return {k: np.abs(np.asarray(numerical[k], dtype=np.float64) - np.asarray(backprop[k], dtype=np.float64))
            for k in numerical}


def plot_gradient_check(
    checks: Sequence[ParamCheck],
    numerical: dict[str, np.ndarray],
    backprop: dict[str, np.ndarray],
    *,
    fig: Figure | None = None,
    theme: str = "dark",
    tolerance: float = 1e-6,
    subtitle: str = "",
) -> dict[str, Any]:
    """Draw the outcome of :func:`mlplab.nn.gradient_check`.

    Returns ``relative_errors`` (the ``BarContainer``; heights are the checks' relative errors),
    ``images`` (``name → AxesImage`` of |difference|, W1 tiled) and ``biases`` (``name → Line2D``).
    """
    c = colors(theme)
    diffs = abs_differences(numerical, backprop)
    weights = [k for k in diffs if k.startswith("W")]
    biases = [k for k in diffs if not k.startswith("W")]
    positive = np.concatenate([d[d > 0].ravel() for d in diffs.values()] + [np.array([FLOOR * 10])])
    norm = LogNorm(vmin=max(float(np.min(positive)), FLOOR), vmax=max(float(np.max(positive)), FLOOR * 10))
    worst = max(ch.relative_error for ch in checks)
    verdict = "OK" if worst < tolerance else "FAILED"

    with theme_context(theme):
        if fig is None:
            fig = plt.figure(figsize=(12, 7.2), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1.0])
        bottom_axes = bottom.subplots(1, 2 + len(weights) - 1, squeeze=False)[0]
        drawn: dict[str, Any] = {"figure": fig, "images": {}, "biases": {}}

        # W1: one tile per hidden unit, like the hidden-unit figure
        ax = top.subplots()
        W1 = diffs[weights[0]]
        side = image_side(W1.shape[0])
        ncols = min(W1.shape[1], max(10, round(np.sqrt(2.2 * W1.shape[1]))))  # a wide mosaic fills the row
        shown = tile_images(W1.T.reshape(W1.shape[1], side, side), ncols) if side else W1.T
        drawn["images"][weights[0]] = ax.imshow(np.maximum(shown, FLOOR), norm=norm, cmap="viridis",
                                                interpolation="nearest", aspect="equal" if side else "auto")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"{weights[0]} {tuple(W1.shape)}: |numerical − backprop|"
                     + (f"\none {side}×{side} tile per hidden unit (dark: both 0)" if side else ""), fontsize=11)
        # the colour bar rides on the image's own axes, so the (aspect-shrunk) image stays centred
        colorbar = top.colorbar(drawn["images"][weights[0]], cax=ax.inset_axes((1.02, 0.0, 0.025, 1.0)))
        colorbar.set_label("|numerical − backprop| (log)")

        # relative error per parameter, against the tolerance
        ax = bottom_axes[0]
        names = [ch.name for ch in checks]
        rel = [max(ch.relative_error, FLOOR) for ch in checks]
        drawn["relative_errors"] = ax.bar(names, rel, color=[c["good"] if r < tolerance else c["bad"] for r in rel])
        ax.axhline(tolerance, color=c["bad"], ls="--", lw=1.2)
        ax.text(0.98, tolerance, f"tolerance {tolerance:g}", transform=ax.get_yaxis_transform(), ha="right",
                va="bottom", fontsize=8, color=c["bad"])
        ax.set_yscale("log")
        ax.set_ylim(min(min(rel), tolerance) / 30, max(max(rel), tolerance) * 30)
        ax.set_title("relative error per parameter", fontsize=11)
        ax.tick_params(labelsize=9)

        for ax, name in zip(bottom_axes[1:-1], weights[1:], strict=True):
            d = diffs[name]
            drawn["images"][name] = ax.imshow(np.maximum(d.T, FLOOR), norm=norm, cmap="viridis",
                                              interpolation="nearest", aspect="auto")
            ax.set_title(f"{name} {tuple(d.shape)}, transposed", fontsize=11)
            ax.set_xlabel("input unit")
            ax.set_ylabel("output unit")
            ax.grid(False)
            ax.tick_params(labelsize=8)

        ax = bottom_axes[-1]
        for k, name in enumerate(biases):
            d = np.maximum(diffs[name], FLOOR)
            (drawn["biases"][name],) = ax.plot(np.arange(d.size), d, "o", ms=3.5, label=name,
                                               color=cycle_colors(k + 1)[k])
        ax.set_yscale("log")
        ax.set_xlabel("unit")
        exact = any(np.any(diffs[name] == 0) for name in biases)
        ax.set_title("biases: |numerical − backprop|" + ("\n(bottom row: exactly equal)" if exact else ""),
                     fontsize=11)
        ax.legend(fontsize=8, loc="upper right")
        ax.tick_params(labelsize=8)

        head = f"Gradient check: largest relative error {worst:.1e} — {verdict} (tolerance {tolerance:g})"
        fig.suptitle(head + (f"\n{subtitle}" if subtitle else ""), fontsize=12,
                     color=c["good"] if verdict == "OK" else c["bad"])
    return drawn
