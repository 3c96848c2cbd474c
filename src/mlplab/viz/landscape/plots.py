"""Pictures of optimisation landscapes: contour with the path, 3-D surface, convergence per step.

Every function takes the :class:`~mlplab.landscape.Function` and the
:class:`~mlplab.landscape.Path` (s) the library computed, draws on the given ``ax`` (or a new figure)
and returns the artists in a dict. Nothing is computed here: what the contour and the surface show —
the grid, the levels and their colours, each path as drawn — is the
:class:`~mlplab.viz.landscape.scene.LandscapeScene` the web playground draws too.

Example
-------
>>> from mlplab.landscape import FUNCTIONS, descend
>>> path = descend(FUNCTIONS["seed"])
>>> drawn = plot_contour(path.function, [path])                    # doctest: +SKIP
>>> save_figure(drawn["figure"], "contour.png")                    # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm

from mlplab.landscape import Function, Path
from mlplab.landscape.functions import Box
from mlplab.landscape.verdict import Verdict, fmt_point
from mlplab.viz.landscape.scene import CONTOUR_ALPHA, SURFACE_CMAP, DrawnPath, landscape_scene
from mlplab.viz.panels import axes_or_new
from mlplab.viz.placement import ladder, place_label
from mlplab.viz.theme import PATH_OUTLINE, colors, optimizer_color, path_effects, theme_context


def plot_contour(
    function: Function,
    paths: Sequence[Path] = (),
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    box: Box | None = None,
    arrows: bool = True,
    colorbar: bool = True,
    legend: bool = True,
    path_colors: Sequence[str] | None = None,
    title: str | None = None,
    raster: bool = False,
) -> dict[str, Any]:
    """Filled contours of ``f − f*`` (log-spaced levels), each path as arrows, and markers for the
    start (circle), the end (square) and the minima (stars). ``raster`` draws the bands as one image
    (for animations, where every frame redraws the background).

    Returns ``figure``, ``contour``, ``colorbar`` (if drawn), ``paths`` (a list of line or quiver
    artists), ``minima``.
    """
    c = colors(theme)
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.4, 4.8))
        scene = landscape_scene(function, paths, box=box, path_colors=path_colors)
        box, levels = scene.box, scene.levels
        X, Y = scene.meshgrid
        drawn: dict[str, Any] = {"figure": fig, "scene": scene}
        if raster:  # one image with the same bands: far quicker to redraw, for animations
            (x0, x1), (y0, y1) = box
            drawn["contour"] = ax.imshow(scene.shown, extent=(x0, x1, y0, y1), origin="lower", aspect="auto",
                                         cmap=SURFACE_CMAP, alpha=CONTOUR_ALPHA, interpolation="nearest",
                                         norm=BoundaryNorm(levels, plt.get_cmap(SURFACE_CMAP).N))
        else:
            drawn["contour"] = ax.contourf(X, Y, scene.shown, levels=levels, norm=scene.norm,
                                           cmap=SURFACE_CMAP, alpha=CONTOUR_ALPHA, extend="neither")
            ax.contour(X, Y, scene.shown, levels=scene.line_levels, colors=c["foreground"], linewidths=0.3,
                       alpha=0.35)
        if colorbar:
            bar = fig.colorbar(drawn["contour"], ax=ax, shrink=0.9, pad=0.02)
            bar.set_label(scene.colorbar_label)
            ticks, labels = scene.colorbar_ticks
            bar.set_ticks(ticks, labels=labels)
            bar.ax.minorticks_off()
            drawn["colorbar"] = bar
        drawn["paths"] = [draw_path_2d(ax, p, box, arrows=arrows, c=c) for p in scene.paths]
        if paths:
            starts = np.array([p.start for p in paths])
            stayed = [p for p in scene.paths if p.end is not None]
            ax.plot(starts[:, 0], starts[:, 1], "o", ms=9, mfc=c["start"], mec=c["foreground"], mew=1,
                    zorder=6, label="start")
            if stayed:
                # each end in its path's colour (an "end" colour would read as one more optimizer)
                ends = np.array([p.end for p in stayed])
                ax.scatter(ends[:, 0], ends[:, 1], s=49, marker="s", c=[p.color for p in stayed],
                           edgecolors=PATH_OUTLINE, linewidths=1.2, zorder=6)
                ax.plot([], [], "s", ms=7, mfc="none", mec=c["foreground"], label="end")  # the legend's key
            if len(paths) == 1 and stayed:
                drawn["end_label"] = ax.annotate(
                    f"end {fmt_point(ends[0])}\nafter {paths[0].steps} steps", ends[0], xytext=(8, -10),
                    textcoords="offset points", ha="left", va="top", fontsize=9, color=c["foreground"],
                    bbox=dict(boxstyle="round,pad=0.25", fc=c["background"], ec="none", alpha=0.75),
                    zorder=8,
                )
        drawn["minima"] = draw_minima(ax, scene.minima, c)
        (x0, x1), (y0, y1) = box
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.grid(False)
        ax.set_title(title if title is not None else function.label, fontsize=11)
        if legend and (paths or function.minima):
            ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
    return drawn


def draw_path_2d(ax: Axes, drawn: DrawnPath, box: Box, *, arrows: bool = True, c: dict[str, str]) -> Any:
    """One path as the scene has it: an arrow from each point to the next (or a line with dots if
    ``arrows`` is off); a path that left ``box`` ends on its edge, marked "left the frame at step k"."""
    pts, path, color = drawn.points, drawn.path, drawn.color
    note = drawn.exit_note(box)
    if note is not None:
        text, label_at = note
        ax.annotate(text, pts[-1], xytext=label_at,
                    textcoords="data", ha="center", va="center", fontsize=9, color=c["foreground"],
                    arrowprops=dict(arrowstyle="->", color=c["foreground"], lw=0.8),
                    bbox=dict(boxstyle="round,pad=0.25", fc=c["background"], ec="none", alpha=0.75), zorder=8)
    if arrows and len(pts) > 1:
        d = np.diff(pts, axis=0)
        return ax.quiver(pts[:-1, 0], pts[:-1, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy",
                         scale=1, color=color, width=0.004, headwidth=4, headlength=5, zorder=5,
                         label=path.label, edgecolor=PATH_OUTLINE, linewidth=0.6)
    (line,) = ax.plot(pts[:, 0], pts[:, 1], "-o", color=color, lw=1.8, ms=3, mec=PATH_OUTLINE, mew=0.5, zorder=5,
                      label=path.label, path_effects=path_effects(1.8))
    return line


def draw_minima(ax: Axes, minima: np.ndarray, c: dict[str, str]) -> Any:
    """Stars at ``minima`` (m, 2): the scene's, those inside the box."""
    if not len(minima):
        return None
    (stars,) = ax.plot(minima[:, 0], minima[:, 1], "*", ms=14, mfc=c["minimum"], mec=c["background"],
                       mew=0.8, zorder=7, label="minimum" if len(minima) == 1 else "minima")
    return stars


def plot_surface(
    function: Function,
    paths: Sequence[Path] = (),
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    box: Box | None = None,
    elev: float = 38.0,
    azim: float = -62.0,
    path_colors: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The surface ``z = f(x, y)`` in 3-D with each path drawn on it; start, end and minima marked.

    The default view looks down the long axis at an angle, so the zig-zag across the valley shows.
    ``ax`` must be a 3-D axes (``projection="3d"``) if given.
    """
    c = colors(theme)
    with theme_context(theme):
        if ax is None:
            fig = plt.figure(figsize=(7.6, 5.6), layout="constrained")
            ax = fig.add_subplot(projection="3d", computed_zorder=False)
        fig = ax.get_figure(root=True)
        scene = landscape_scene(function, paths, box=box, grid=120, path_colors=path_colors)
        X, Y = scene.meshgrid
        drawn: dict[str, Any] = {"figure": fig, "scene": scene}
        drawn["surface"] = ax.plot_surface(X, Y, scene.z, cmap=SURFACE_CMAP, rstride=2, cstride=2, alpha=0.72,
                                           linewidth=0, antialiased=True, zorder=1)
        drawn["paths"] = []
        for p in scene.paths:  # a 3-D axes does not clip: each stops at the frame
            x, y, z = p.points[:, 0], p.points[:, 1], p.lifted
            (line,) = ax.plot(x, y, z, "-o", color=p.color, lw=2.2, ms=3.5, mec=PATH_OUTLINE, mew=0.5, zorder=5,
                              label=p.label, path_effects=path_effects(2.2))
            drawn["paths"].append(line)
            ax.scatter([x[0]], [y[0]], [z[0]], s=70, color=c["start"], edgecolor=c["foreground"],
                       zorder=6, depthshade=False)
            if p.end is not None:
                ax.scatter([x[-1]], [y[-1]], [z[-1]], s=55, marker="s", color=p.color,
                           edgecolor=c["foreground"], zorder=6, depthshade=False)
        m = scene.minima
        if len(m):
            drawn["minima"] = ax.scatter(m[:, 0], m[:, 1], scene.minima_lifted, s=160, marker="*",
                                         color=c["minimum"], edgecolor=c["background"], zorder=7,
                                         depthshade=False)
        ax.view_init(elev=elev, azim=azim)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_zlabel("f(x, y)")
        for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
            axis.set_pane_color((0, 0, 0, 0))
        ax.set_title(function.label, fontsize=11)
    return drawn


def plot_convergence(
    verdict: Verdict,
    *,
    axes: Sequence[Axes] | None = None,
    theme: str = "dark",
) -> dict[str, Any]:
    """Three panels per step, log scale: ``f − f*``, the distance to the nearest minimum, ``|∇f|``.

    For plain gradient descent on a quadratic the closed-form prediction is drawn as a dashed line
    and continued until the path would come within the tolerance — the steps it would take.
    """
    path, function = verdict.path, verdict.path.function
    c = colors(theme)
    mine = optimizer_color(path.optimizer)
    with theme_context(theme):
        if axes is None:
            fig, axes = plt.subplots(1, 3, figsize=(12.5, 4.0), layout="constrained")
        fig = axes[0].get_figure(root=True)
        steps = np.arange(path.steps + 1)
        q = function.quadratic
        closed = q is not None and q.is_convex and path.optimizer == "sgd" and np.all(path.lrs == path.lr)
        horizon = path.steps
        if closed and verdict.steps_needed is not None:
            horizon = max(path.steps, int(verdict.steps_needed * 1.1))
        k = np.arange(horizon + 1)
        drawn: dict[str, Any] = {"figure": fig}
        ax_f, ax_d, ax_g = axes

        gap = path.values - (function.f_min if function.f_min is not None else 0.0)
        _log_line(ax_f, steps, gap, mine, "this path", log=function.f_min is not None)
        if closed:
            predicted = q.value(q.gd_path(path.lr, horizon, path.start)) - function.f_min
            drawn["f_theory"] = _log_line(ax_f, k, predicted, c["reference"], "closed form", dashed=True)
        ax_f.set_ylabel("f − f*" if function.f_min is not None else "f")
        ax_f.set_title("Value above the minimum")

        if function.minima:
            minima = np.array(function.minima)
            dist = np.min(np.linalg.norm(path.points[:, None, :] - minima[None], axis=2), axis=1)
            drawn["distance"] = _log_line(ax_d, steps, dist, mine, "this path")
            if dist[-1] > 0:  # placed in free space once the layout is done (below)
                drawn["distance_label"] = ax_d.annotate(
                    f"after {path.steps} steps: {dist[-1]:.4g}", (path.steps, dist[-1]), xytext=(0, 0),
                    textcoords="offset points", color=mine, fontweight="bold", fontsize=9)
            if closed:
                drawn["d_theory"] = _log_line(ax_d, k, q.distances(path.lr, k, path.start), c["reference"],
                                              "closed form", dashed=True)
            ax_d.axhline(verdict.tol, color=c["good"], lw=1, ls=":", label=f"tolerance {verdict.tol:g}")
            if verdict.steps_needed is not None and verdict.steps_needed > horizon:
                drawn["needs"] = f"needs {verdict.steps_needed} steps to reach {verdict.tol:g}"
            elif verdict.steps_needed is not None:
                ax_d.axvline(verdict.steps_needed, color=c["good"], lw=1, ls=":")
                early = verdict.steps_needed < 0.5 * horizon
                ax_d.annotate(f"{verdict.steps_needed} steps to {verdict.tol:g}", (verdict.steps_needed, 0.97),
                              xycoords=ax_d.get_xaxis_transform(), xytext=(4 if early else -4, 0),
                              textcoords="offset points", ha="left" if early else "right", va="top",
                              color=c["good"], fontweight="bold")
            ax_d.set_title("Distance to the nearest minimum")
        else:
            ax_d.text(0.5, 0.5, f"no minimum\n({function.minima_note})", transform=ax_d.transAxes,
                      ha="center", va="center")
            ax_d.set_title("Distance to a minimum")
        ax_d.set_ylabel("distance")

        _log_line(ax_g, steps, np.linalg.norm(path.gradients, axis=1), mine, "this path")
        if closed:
            grads = q.gd_path(path.lr, horizon, path.start) @ q.hessian + q.linear  # ∇f = Hw + b
            drawn["g_theory"] = _log_line(ax_g, k, np.linalg.norm(grads, axis=1), c["reference"],
                                          "closed form", dashed=True)
        ax_g.set_ylabel("|∇f|")
        ax_g.set_title("Gradient norm")
        for ax in axes:
            _log_only_if_wide(ax)
            ax.set_xlabel("step" if ax is not ax_d or "needs" not in drawn else f"step   ({drawn['needs']})")
            ax.set_xlim(-0.02 * horizon, 1.02 * horizon)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8, loc="best")
        fig.suptitle(f"{path.label} on {function.label}: {verdict.headline()}", fontsize=11)
        if "distance_label" in drawn:  # off the closed-form line, the tolerance and the legend
            fig.draw_without_rendering()
            steps_out = (8, 18, 30, 44, 60)
            candidates = [*ladder("down", steps_out, dxs=(10, 40), ha="left"),
                          *ladder("up", steps_out, dxs=(10, 40), ha="left"),
                          *ladder("down", steps_out, dxs=(-6, -40), ha="right"),
                          *ladder("up", steps_out, dxs=(-6, -40), ha="right")]
            label = drawn["distance_label"]
            place_label(ax_d, label, candidates, ax_d.get_lines(), boxes=_text_boxes(ax_d, label))
    return drawn


def _text_boxes(ax: Axes, skip: Any) -> list:
    """The display boxes of the other texts on ``ax`` (a label must not cover another)."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.texts if t.get_text() and t is not skip]


def _log_only_if_wide(ax: Axes, decades: float = 1.5) -> None:
    """Keep a log y axis only if the data span ``decades`` or more (else the ticks read badly)."""
    if ax.get_yscale() != "log":
        return
    ys = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    ys = np.concatenate([y[np.isfinite(y) & (y > 0)] for y in ys]) if ys else np.array([])
    if ys.size and np.log10(ys.max() / ys.min()) < decades:
        ax.set_yscale("linear")


def _log_line(ax: Axes, x: np.ndarray, y: np.ndarray, color: str, label: str, *, dashed: bool = False,
              log: bool = True) -> Any:
    """``y`` against ``x``, on a log axis unless ``log`` is off; on a log axis values <= 0 (an exact
    hit) are left out, not faked."""
    y = np.asarray(y, dtype=np.float64)
    if log:
        ax.set_yscale("log")
        y = np.where(y > 0, y, np.nan)
    marker = "o" if len(x) <= 61 else None  # dots only while they can be told apart
    style = dict(ls="--", lw=1.6, zorder=4) if dashed else dict(ls="-", marker=marker, ms=3, lw=2, zorder=3)
    (line,) = ax.plot(x, y, color=color, label=label, **style)
    return line
