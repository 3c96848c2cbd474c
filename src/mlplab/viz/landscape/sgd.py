"""The SGD figure: many seeds' paths with their mean and the predicted noise ellipse, the gradient
noise shrinking as 1/√B, a batch-size sweep and constant vs decaying learning rates.

All numbers come from one :class:`~mlplab.landscape.sgd_study.SgdStudy`.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Ellipse
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from mlplab.landscape.schedules import step_every
from mlplab.landscape.sgd_study import ELLIPSE_SHARE, ELLIPSE_SIGMAS, SgdStudy
from mlplab.viz.landscape.plots import plot_contour
from mlplab.viz.landscape.scene import plot_box
from mlplab.viz.palette import cycle_colors
from mlplab.viz.theme import PATH_OUTLINE, colors, optimizer_color, path_effects, theme_context


def plot_sgd_study(study: SgdStudy, *, theme: str = "dark") -> dict[str, Any]:
    """The 2×2 SGD figure; returns ``figure`` and the four axes ``ensemble``, ``noise``, ``batch``,
    ``schedule``."""
    with theme_context(theme):
        fig, axes = plt.subplots(2, 2, figsize=(13.0, 9.4), layout="constrained")
        drawn: dict[str, Any] = {"figure": fig}
        drawn["ensemble"] = plot_ensemble(study, ax=axes[0, 0], theme=theme)
        drawn["noise"] = plot_noise(study, ax=axes[0, 1], theme=theme)
        drawn["batch"] = plot_gap_curves(study.batch_sweep, study, ax=axes[1, 0], theme=theme,
                                         label=lambda b: f"B = {b}" + (" (= N)" if b == study.objective.n else ""),
                                         title="Batch size: bigger batches, less noise")
        drawn["schedule"] = plot_gap_curves(study.schedule_sweep, study, ax=axes[1, 1], theme=theme,
                                            label=_schedule_label(study), title="Constant vs decaying learning rate")
        run = study.run
        fig.suptitle(f"SGD on {run.function.label}: {run.optimizer} lr={run.lr:g}, batch {study.batch_size}, "
                     f"sigma {study.objective.noise:g}, N = {study.objective.n}, {len(study.runs)} seeds",
                     fontsize=12)
    return drawn


def plot_ensemble(study: SgdStudy, *, ax: Axes, theme: str = "dark") -> Axes:
    """Every run (thin), their mean (thick), full-batch GD (dashed) and the predicted 2σ ellipse."""
    c = colors(theme)
    mine = optimizer_color(study.run.optimizer)  # the optimizer's colour, outlined: it sits on the contour
    function = study.run.function
    box = plot_box(function, [*study.runs, study.full_batch])
    plot_contour(function, [], ax=ax, theme=theme, box=box, colorbar=False, legend=False,
                 title=f"{len(study.runs)} SGD runs, their mean and full-batch GD")
    for k, p in enumerate(study.runs):
        ax.plot(p.points[:, 0], p.points[:, 1], "-", color=mine, lw=0.7, alpha=0.5, zorder=3,
                label="SGD runs" if k == 0 else None)
    ends = study.ends
    ax.plot(ends[:, 0], ends[:, 1], "o", ms=4, color=mine, mec=PATH_OUTLINE, mew=0.5, zorder=4,
            label="their end points")
    ax.plot(study.mean_points[:, 0], study.mean_points[:, 1], "-", color=mine, lw=2.4, zorder=5,
            label="mean of the runs", path_effects=path_effects(2.4))
    gd = study.full_batch.points
    ax.plot(gd[:, 0], gd[:, 1], "--", color="white", lw=1.6, zorder=5, label="full-batch GD",
            path_effects=path_effects(1.6))
    ax.plot(*study.run.start, "o", ms=9, mfc=c["start"], mec=c["foreground"], zorder=6, label="start")
    if study.covariances is not None:
        inside = study.inside_ellipse()
        ax.add_patch(_ellipse(study.full_batch.end, study.covariances[-1], ELLIPSE_SIGMAS, c["minimum"]))
        ax.plot([], [], "-", color=c["minimum"], lw=2,
                label=f"predicted {ELLIPSE_SIGMAS:g}σ ellipse: {inside}/{len(study.runs)} inside "
                      f"(theory {ELLIPSE_SHARE:.0%})")
    ax.legend(loc="lower right", fontsize=8, framealpha=0.85)
    return ax


def _ellipse(centre: np.ndarray, cov: np.ndarray, k: float, color: str) -> Ellipse:
    """The ellipse ``(w − centre)ᵀ cov⁻¹ (w − centre) = k²``: axes ``2k√λ`` along the eigenvectors."""
    lam, vec = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(vec[1, -1], vec[0, -1]))
    width, height = 2 * k * np.sqrt(np.maximum(lam[::-1], 0))
    return Ellipse(tuple(centre), width, height, angle=angle, fill=False, ec=color, lw=2, zorder=6)


def plot_noise(study: SgdStudy, *, ax: Axes, theme: str = "dark") -> Axes:
    """Measured std of the mini-batch gradient noise per coordinate against the batch size, log–log,
    with the theory line σ/√B (times the without-replacement factor for shuffles)."""
    c = colors(theme)
    sizes = np.array([row.batch_size for row in study.noise])
    measured = np.array([row.measured for row in study.noise])
    b = np.geomspace(1, study.objective.n, 200)
    objective = study.objective
    if study.sampling == "shuffle":
        b = b[b < objective.n]
    theory = [objective.predicted_noise(v, study.sampling) for v in b]
    ax.plot(b, theory, "-", color=c["reference"], lw=2,
            label="σ/√B" if study.sampling == "replacement" else "σ/√B · √((N−B)/(N−1))")
    ax.plot(sizes, measured[:, 0], "o", ms=8, color=c["train"], label="measured, x")
    ax.plot(sizes, measured[:, 1], "s", ms=6, color=c["test"], label="measured, y")
    for row in study.noise:
        ax.annotate(f"{row.measured.mean():.3g}", (row.batch_size, row.measured.max()), xytext=(0, 7),
                    textcoords="offset points", ha="center", fontsize=8, color=c["foreground"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    ax.xaxis.set_major_formatter(plain)
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("batch size B")
    ax.set_ylabel("std of the gradient noise, per coordinate")
    ax.set_title(f"Gradient noise shrinks as 1/√B ({study.noise[0].draws} draws each)")
    ax.legend(fontsize=8, loc="lower left")
    return ax


def plot_gap_curves(curves: dict, study: SgdStudy, *, ax: Axes, theme: str, label, title: str) -> Axes:
    """Mean ``f − f*`` over the runs per step, one line per setting, log scale."""
    palette = cycle_colors(len(curves))
    for k, (key, curve) in enumerate(curves.items()):
        ax.plot(np.arange(len(curve)), np.where(curve > 0, curve, np.nan), "-", color=palette[k],
                lw=2, label=f"{label(key)}: {curve[-1]:.3g}")
    f_min = study.run.function.f_min
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(f"mean f − f* over {len(study.runs)} runs" if f_min is not None else "mean f")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper right", title="value at the last step", title_fontsize=8)
    return ax


def _schedule_label(study: SgdStudy):
    lr, steps = study.run.lr, study.run.requested_steps

    def label(name: str) -> str:
        if name == "constant":
            return f"constant {lr:g}"
        if name == "step":
            return f"step: halve every {step_every(steps)}"
        return f"inv-sqrt: {lr:g}/√(t+1)"

    return label
