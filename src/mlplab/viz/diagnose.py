"""Layer-health figures, drawn from ``layer_stats.json`` (see :mod:`mlplab.train.layer_stats`).

- :func:`plot_layer_health`: ‖W‖, ‖∇W‖ and the update ratio ‖ΔW‖/‖W‖ per layer over the run (log
  scale), with the 1e-3 rule of thumb for the update ratio, and lr·λ_max (the learning rate times the
  loss surface's sharpest curvature) against the stability limit 2 (for SGD) above which steps overshoot;
- :func:`plot_gradient_flow`: ‖∇W‖ layer by layer, one line per evaluation (vanishing gradients show
  as a line falling steeply towards the first layer);
- :func:`plot_activation_histograms`: per hidden layer, the distribution of its outputs on the probe
  batch at each evaluation, as a heat map (saturation shows as mass at the edges, dead ReLUs as 0);
- :func:`plot_verification`: the curves of ``mlplab diagnose --verify``: the run's settings rerun
  beside each prescription tried (:mod:`mlplab.diagnose.verify`).

The plotted line data are the recorded numbers themselves, so a test can compare them with the file.

Example
-------
They are figures of the run like the others: :data:`mlplab.viz.training.run_figures.FIGURES` lists them and
:func:`mlplab.viz.training.run_figures.draw_run` draws them.

>>> draw_run("runs/demo", names=("layer_health",)).paths["layer_health"]  # doctest: +SKIP
[PosixPath('runs/demo/figures/layer_health.png')]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter
from matplotlib.transforms import blended_transform_factory

from mlplab.diagnose.insight import Prescription
from mlplab.diagnose.rules import UPDATE_RATIO_HEALTHY
from mlplab.diagnose.verify import LATE_RULES
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.nn.sharpness import stability_factor
from mlplab.train.layer_stats import LayerStats
from mlplab.viz.palette import cycle_colors
from mlplab.viz.panels import axes_or_new
from mlplab.viz.theme import colors, save_figure, theme_context
from mlplab.viz.training.figure_set import figures_dir

#: ``mlplab diagnose --verify`` draws ``figures/verify.png`` (not one of the run's standard figures).
VERIFY_FIGURE = "verify"
#: Histogram colours: share of the probe outputs per bin, on a log scale down to 1 in 10,000.
HIST_CMAP = {"dark": "magma", "light": "viridis"}
SHARE_FLOOR = 1e-4
#: lr·λ_max below this is drawn as "flat" on the bottom edge: every unit saturated or dead leaves
#: no curvature (the lr 300 run reaches 1e-177), which on a log axis would squash everything else.
FLAT_SHARPNESS = 1e-4


def positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: zeros, negatives and non-finite values become NaN (a gap in the line)."""
    values = np.asarray(values, dtype=float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def layer_colors(n: int, theme: str) -> list[str]:
    """One colour per layer from the theme's colour cycle (Okabe–Ito), repeating if needed."""
    return cycle_colors(n, theme)


def plot_layer_health(
    stats: LayerStats, *, axes: Sequence[Axes] | None = None, theme: str = "dark"
) -> dict[str, Any]:
    """Stacked panels over the iterations: ‖W‖, ‖∇W‖ and ‖ΔW‖/‖W‖, one line per layer, log y; and, when
    λ_max was recorded, a fourth: lr·λ_max with the optimizer's stability limit.

    Returns ``{"figure", "axes", "lines": {(quantity, layer name): Line2D}, "reference", "sharpness"}``
    (``sharpness``: ``{"line", "limit"}`` or ``None``).
    """
    c = colors(theme)
    quantities = (("weight_norm", "‖W‖  weight norm"), ("grad_norm", "‖∇W‖  gradient norm"),
                  ("update_ratio", "‖ΔW‖ / ‖W‖  update ratio"))
    has_sharpness = stats.lr is not None and any(v is not None for v in stats.sharpness)
    with theme_context(theme):
        if axes is None:
            n = 4 if has_sharpness else 3
            fig, axes = plt.subplots(n, 1, figsize=(7.6, 2.4 * n), sharex=True, layout="constrained")
        else:
            fig = axes[0].get_figure(root=True)
        its = np.asarray(stats.iterations)
        palette = layer_colors(len(stats.layers), theme)
        lines: dict[tuple[str, str], Any] = {}
        for ax, (key, label) in zip(axes[:3], quantities, strict=True):
            bottom = blended_transform_factory(ax.transData, ax.transAxes)
            zeros_drawn = False
            for j, layer in enumerate(stats.layers):
                name = f"{layer['name']} ({layer['activation'] or 'output'})"
                values = stats.series(key)[j]
                (lines[key, layer["name"]],) = ax.plot(its, positive(values), marker="o", ms=3,
                                                       color=palette[j], label=name)
                zero = values == 0  # a log axis cannot show 0: mark it on the bottom edge instead
                if np.any(zero):
                    ax.plot(its[zero], np.full(int(zero.sum()), 0.03), transform=bottom, ls="none", marker="v",
                            ms=5, color=palette[j], clip_on=False)
                    zeros_drawn = True
            if zeros_drawn:
                ax.text(0.99, 0.1, "▼ exactly 0", transform=ax.transAxes, ha="right", fontsize="small")
            ax.set_yscale("log")
            ax.set_ylabel(label)
            ax.grid(True, which="major", alpha=0.3)
        reference = axes[2].axhline(UPDATE_RATIO_HEALTHY, color=c["reference"], ls="--", lw=1,
                                    label=f"rule of thumb {UPDATE_RATIO_HEALTHY:g}")
        axes[0].legend(loc="best", fontsize="small")
        axes[2].legend(handles=[reference], loc="best", fontsize="small")
        drawn = plot_sharpness(stats, axes[3], theme) if has_sharpness and len(axes) > 3 else None
        axes[-1].set_xlabel("iteration")
        axes[0].set_title("Layer health: weights, gradients and step sizes per layer")
    return {"figure": fig, "axes": list(axes), "lines": lines, "reference": reference, "sharpness": drawn}


def plot_sharpness(stats: LayerStats, ax: Axes, theme: str = "dark") -> dict[str, Any]:
    """lr·λ_max at each evaluation (log y) and the stability limit (2 for SGD): above the line, a step
    overshoots along the sharpest direction. Returns ``{"line", "limit"}`` (``limit`` None for Adam & co.)."""
    c = colors(theme)
    its = np.asarray(stats.iterations)
    product = stats.lr * np.array([np.nan if v is None else v for v in stats.sharpness], dtype=float)
    flat = np.isfinite(product) & (product < FLAT_SHARPNESS)  # a flat surface: saturated or dead units
    (line,) = ax.plot(its, positive(np.where(flat, np.nan, product)), marker="o", ms=3, color=c["path"],
                      label=f"lr·λ_max  (lr {stats.lr:g}, λ_max on {stats.sharpness_rows} rows)")
    factor = stability_factor(stats.optimizer or "sgd", stats.momentum if stats.momentum is not None else 0.9)
    limit = None
    if factor is not None:
        limit = ax.axhline(factor, color=c["bad"], ls="--", lw=1,
                           label=f"stability limit {factor:.3g} ({stats.optimizer or 'sgd'}): above it steps overshoot")
    ax.set_yscale("log")
    if np.any(flat):  # 1e-180 would squash the plot: mark those evaluations on the bottom edge
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(its[flat], np.full(int(flat.sum()), 0.03), transform=bottom, ls="none", marker="v", ms=5,
                color=c["path"], clip_on=False)
        ax.text(0.99, 0.1, f"▼ below {FLAT_SHARPNESS:g}: flat (saturated or dead units)", transform=ax.transAxes,
                ha="right", fontsize="small")
        shown = product[np.isfinite(product) & ~flat]
        ax.set_ylim(FLAT_SHARPNESS, 3 * max([*shown, factor or 1.0]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("lr·λ_max  sharpness")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return {"line": line, "limit": limit}


def visible_cmap(theme: str) -> ListedColormap:
    """The theme's sequential colormap without its darkest (dark theme) or palest end, so that every
    line stands out from the background; used for the lines and their colour bar alike."""
    return ListedColormap(plt.get_cmap(HIST_CMAP[theme])(np.linspace(0.2, 0.95, 256)))


def plot_gradient_flow(stats: LayerStats, *, ax: Axes | None = None, theme: str = "dark") -> dict[str, Any]:
    """‖∇W‖ per layer (x: W1 … WL), one line per evaluation coloured from first to last, log y.

    Returns ``{"figure", "ax", "lines": [Line2D per evaluation], "colorbar"}``.
    """
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (6.4, 4.4))
        grads = stats.series("grad_norm")  # (n_layers, n_evaluations)
        x = np.arange(1, len(stats.layers) + 1)
        cmap = visible_cmap(theme)
        n = len(stats.iterations)
        lines = []
        for k in range(n):
            shade = cmap(k / max(n - 1, 1))
            (line,) = ax.plot(x, positive(grads[:, k]), marker="o", ms=3, color=shade, lw=1.2)
            lines.append(line)
        ax.set_yscale("log")
        ax.set_xticks(x, [layer["name"] for layer in stats.layers])
        ax.set_xlabel("layer (input → output)")
        ax.set_ylabel("‖∇W‖  gradient norm")
        ax.set_title("Gradient flow: how much gradient reaches each layer")
        ax.grid(True, which="major", alpha=0.3)
        colorbar = None
        if n > 1:
            norm = plt.Normalize(stats.iterations[0], stats.iterations[-1])
            colorbar = fig.colorbar(plt.cm.ScalarMappable(cmap=cmap, norm=norm), ax=ax, label="iteration", pad=0.02)
    return {"figure": fig, "ax": ax, "lines": lines, "colorbar": colorbar}


def _saturation_lines(activation: str | None, thresholds: dict[str, float]) -> list[float]:
    """Where the layer's outputs count as saturated, with the threshold the run recorded."""
    layer = ACTIVATION_LAYERS.get(activation or "")
    if layer is None:
        return []
    return layer.saturation_bounds(thresholds.get(f"{activation}_saturation"))


def plot_activation_histograms(
    stats: LayerStats, *, fig: Figure | None = None, theme: str = "dark"
) -> dict[str, Any]:
    """One heat map per hidden layer: x = evaluation, y = activation value, colour = share of the probe
    outputs in that bin. Each column is that evaluation's recorded histogram, with its own bin edges.

    Dashed lines mark the saturation thresholds (sigmoid, tanh). Returns ``{"figure", "axes", "meshes"}``.
    """
    c = colors(theme)
    hidden = [j for j, layer in enumerate(stats.layers) if layer["activation"]]
    with theme_context(theme):
        if fig is None:
            fig = plt.figure(figsize=(7.6, 2.8 * len(hidden) + 0.6), layout="constrained")
        axes = fig.subplots(len(hidden), 1, squeeze=False)[:, 0]
        norm = LogNorm(vmin=SHARE_FLOOR, vmax=1.0)
        cmap = visible_cmap(theme).with_extremes(under=c["background"])  # share < SHARE_FLOOR: background
        meshes: list[Any] = []
        mesh = None
        its = stats.iterations
        for ax, j in zip(axes, hidden, strict=True):
            layer = stats.layers[j]
            for k, hist in enumerate(layer["act_hist"]):
                counts = np.asarray(hist["counts"], dtype=float)
                total = counts.sum()
                if total == 0:
                    continue
                edges = np.asarray(hist["edges"])
                share = np.where(counts > 0, counts / total, np.nan)[:, None]  # (bins, 1): one column
                mesh = ax.pcolormesh([k - 0.45, k + 0.45], edges, share, cmap=cmap, norm=norm)
                meshes.append(mesh)
            for y in _saturation_lines(layer["activation"], stats.thresholds):
                ax.axhline(y, color=c["reference"], ls="--", lw=0.8)
            step = max(1, len(its) // 8)
            ax.set_xticks(range(0, len(its), step), [str(its[k]) for k in range(0, len(its), step)])
            ax.set_xlim(-0.5, len(its) - 0.5)
            ax.grid(False)  # grid lines would cut through the histogram cells
            ax.set_ylabel("output value")
            ax.set_title(f"layer {j + 1} ({layer['activation']}): {_share_text(layer)}", fontsize="medium")
        axes[-1].set_xlabel("iteration (one column per evaluation)")
        if mesh is not None:
            fig.colorbar(mesh, ax=list(axes), label="share of probe outputs", pad=0.02)
        fig.suptitle(f"Hidden activations on {len(stats.probe_rows)} fixed training rows")
    return {"figure": fig, "axes": list(axes), "meshes": meshes}


def _share_text(layer: dict[str, Any]) -> str:
    if layer["act_saturated"] and layer["act_saturated"][-1] is not None:
        return f"{layer['act_saturated'][-1]:.1%} saturated at the end"
    if layer["act_dead"] and layer["act_dead"][-1] is not None:
        return f"{layer['act_dead'][-1]:.0%} of units dead at the end"
    return ""


def plot_verification(verifications: Sequence[Any], *, theme: str = "dark") -> dict[str, Any]:
    """The reruns of ``mlplab diagnose --verify``: one row per verified finding; left the test accuracy,
    right the training-set loss (log; the test-set loss for over-fitting), at each evaluation of each
    rerun. The run's own settings are the dashed grey line; a candidate that is a fix is drawn thick, the others thin.

    ``verifications`` are :class:`mlplab.diagnose.verify.Verification`. Returns ``{"figure", "axes", "lines"}``
    with ``lines[(row, "original" or candidate options, "acc" or "loss")]``.
    """
    c = colors(theme)
    with theme_context(theme):
        n = max(len(verifications), 1)
        fig, axes = plt.subplots(n, 2, figsize=(10, 3.4 * n), squeeze=False, layout="constrained")
        cycle = [c["good"], c["train"], c["smooth"]]
        lines: dict[tuple[int, str, str], Any] = {}
        for row, v in enumerate(verifications):
            acc_ax, loss_ax = axes[row]
            tried_keys = {k for p, _, _ in v.tried for k in p.settings}
            was = Prescription({k: v.baseline.get(k) for k in sorted(tried_keys)}, "").options()
            runs = [("original", f"{was}  (the run's)", v.original, c["reference"], "--", 1.5)]
            # over-fitting shows in the test loss; an unstable or stuck optimisation in the training loss
            loss_key, loss_label = (("test_loss", "test-set loss") if v.rule in LATE_RULES
                                    else ("train_loss", "training-set loss"))
            for k, (p, trial, helped) in enumerate(v.tried):
                fix = v.is_fix(trial, helped)
                verdict = "fix" if fix else "helps, not a fix" if helped else "did not help"
                runs.append((p.options(), f"{p.options()}  ({verdict})", trial, cycle[k % len(cycle)], "-",
                             2.6 if fix else 1.2))
            for key, label, trial, color, style, width in runs:
                h = trial.history
                (lines[row, key, "acc"],) = acc_ax.plot(h.iterations, np.asarray(h.test_acc) * 100, color=color,
                                                        ls=style, lw=width, marker="o", ms=3, label=label)
                (lines[row, key, "loss"],) = loss_ax.plot(h.iterations, positive(getattr(h, loss_key)), color=color,
                                                          ls=style, lw=width, marker="o", ms=3, label=label)
            acc_ax.set_ylim(0, 100)
            acc_ax.set_ylabel("test accuracy (%)")
            loss_ax.set_yscale("log")
            loss_ax.set_ylabel(loss_label)
            acc_ax.set_title(f"{v.label}: {v.budget} iterations from seed {v.seed}", fontsize="medium", loc="left")
            acc_ax.legend(loc="best", fontsize="small")
            for ax in (acc_ax, loss_ax):
                ax.grid(True, which="major", alpha=0.3)
                ax.set_xlabel("iteration")
        fig.suptitle("Verified by rerunning: same initial weights, same mini-batches, one setting changed")
    return {"figure": fig, "axes": axes, "lines": lines}


def draw_verification(verifications: Sequence[Any], run_dir: str | os.PathLike, theme: str = "dark") -> Path:
    """Save :func:`plot_verification` as ``RUN_DIR/figures/verify.png``; returns its path."""
    folder = figures_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    return save_figure(plot_verification(verifications, theme=theme)["figure"], folder / f"{VERIFY_FIGURE}.png")
