"""Pictures of optimisation landscapes: contour with the path, 3-D surface, convergence per step.

Every function takes the :class:`~mlplab.landscape.Function` and the
:class:`~mlplab.landscape.Path` (s) the library computed, draws on the given ``ax`` (or a new figure)
and returns the artists in a dict. Nothing is computed twice: the lines drawn are the path's points.

Contours use log-spaced levels of ``f − f*``: on the seed's valley ``f`` runs from 0 to 10, and equally
spaced levels would hide the flat valley floor where all the slow progress happens.

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
from matplotlib.colors import BoundaryNorm, LogNorm
from matplotlib.ticker import FuncFormatter

from mlplab.landscape import Function, Path
from mlplab.landscape.verdict import Verdict, fmt_point
from mlplab.viz.panels import axes_or_new
from mlplab.viz.placement import ladder, place_label
from mlplab.viz.theme import PATH_OUTLINE, colors, optimizer_color, path_effects, theme_context

Box = tuple[tuple[float, float], tuple[float, float]]
SURFACE_CMAP = "viridis"


#: A path that would widen the picture beyond this many times the function's own box (a diverging
#: or runaway path) is drawn leaving the frame instead, so the picture stays on the function.
MAX_ZOOM_OUT = 3.0


def plot_box(function: Function, paths: Sequence[Path] = (), margin: float = 0.08) -> Box:
    """The function's plotting box, widened to hold every path point (plus a small margin).

    A path that diverged, or would widen the box more than :data:`MAX_ZOOM_OUT` times, is followed
    only while it stays in the function's own box: it is drawn leaving it (:func:`points_in_frame`).
    """
    kept = []
    for path in paths:
        (px0, px1), (py0, py1) = _widened(function.bounds, [path.points], margin)
        (x0, x1), (y0, y1) = function.bounds
        runaway = px1 - px0 > MAX_ZOOM_OUT * (x1 - x0) or py1 - py0 > MAX_ZOOM_OUT * (y1 - y0)
        if path.diverged_at is not None or runaway:
            points, left_at = points_in_frame(path, function.bounds)
            kept.append(points if left_at is None else points[:-1])
        else:
            kept.append(path.points)
    return _widened(function.bounds, kept, margin)


def _widened(box: Box, point_sets: Sequence[np.ndarray], margin: float) -> Box:
    (x0, x1), (y0, y1) = box
    points = [p for p in point_sets if len(p)]
    if points:
        allp = np.concatenate(points)
        px0, py0 = allp.min(axis=0)
        px1, py1 = allp.max(axis=0)
        wx, wy = max(px1 - px0, 1e-9), max(py1 - py0, 1e-9)
        x0, x1 = min(x0, px0 - margin * wx), max(x1, px1 + margin * wx)
        y0, y1 = min(y0, py0 - margin * wy), max(y1, py1 + margin * wy)
    return (float(x0), float(x1)), (float(y0), float(y1))


def points_in_frame(path: Path, box: Box) -> tuple[np.ndarray, int | None]:
    """The path's points up to where it leaves ``box``, and the step whose move left it (or ``None``).

    A path that stays inside is returned whole. Otherwise: the points before it left, then the
    point where that step crosses the frame's edge — so the last segment ends on the edge, pointing
    the way the path went (a diverging path's next points can be 10¹⁰ away and draw nothing useful).
    """
    (x0, x1), (y0, y1) = box
    pts = path.points
    inside = (pts[:, 0] >= x0) & (pts[:, 0] <= x1) & (pts[:, 1] >= y0) & (pts[:, 1] <= y1)
    if inside.all() or not inside[0]:
        return pts, None
    k = int(np.argmin(inside))  # the first point outside
    p, q = pts[k - 1], pts[k]
    d = q - p
    t = 1.0
    for i, (low, high) in enumerate(box):  # the largest t in (0, 1] with p + t·d inside the box
        if q[i] > high:
            t = min(t, (high - p[i]) / d[i])
        elif q[i] < low:
            t = min(t, (low - p[i]) / d[i])
    return np.vstack([pts[:k], p + t * d]), k


def frame_steps(last: int, max_frames: int = 100) -> list[int]:
    """The steps an animation shows: every step up to ``max_frames``, else evenly spread ones (always
    the first and the last), so a 10 000-step path does not make a 10 000-frame file."""
    count = min(last + 1, max_frames)
    return sorted({int(k) for k in np.round(np.linspace(0, last, count))})


def surface_grid(function: Function, box: Box, n: int = 240) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``X, Y, Z`` of shape (n, n) over ``box``: ``Z = f(X, Y)``."""
    (x0, x1), (y0, y1) = box
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, function(X, Y)


def path_lift(Z: np.ndarray) -> float:
    """How far above the surface a path is drawn: 3 % of the height drawn, so the semi-transparent
    surface does not swallow it (the hover still reports the true ``f``)."""
    finite = Z[np.isfinite(Z)]
    return 0.03 * float(finite.max() - finite.min()) if finite.size else 0.0


def gap_floor(function: Function, Z: np.ndarray) -> float:
    """What ``f`` is measured from in the pictures: ``f*`` if known, else the lowest value drawn."""
    finite = Z[np.isfinite(Z)]
    low = float(finite.min()) if finite.size else 0.0
    return function.f_min if function.f_min is not None else low


def log_levels(gap: np.ndarray, count: int = 18) -> np.ndarray:
    """``count`` log-spaced levels from near the bottom of ``gap`` (> 0) to its top."""
    finite = gap[np.isfinite(gap) & (gap > 0)]
    if finite.size == 0:
        return np.array([1e-3, 1.0])
    top = float(finite.max())
    bottom = max(float(np.percentile(finite, 0.5)), top * 1e-6)
    if bottom >= top:
        bottom = top / 10
    return np.geomspace(bottom, top, count)


def gap_label(function: Function) -> str:
    return "f − f*" if function.f_min is not None else "f − (lowest f drawn)"


def optimizer_colors(paths: Sequence[Path]) -> list[str]:
    """Each path in its optimizer's colour (:data:`~mlplab.viz.theme.OPTIMIZER_COLORS`), whatever its
    position, so Adam is the same colour in every figure."""
    return [optimizer_color(p.optimizer) for p in paths]


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
        box = box or plot_box(function, paths)
        X, Y, Z = surface_grid(function, box)
        floor = gap_floor(function, Z)
        gap = Z - floor
        levels = log_levels(gap)
        shown = np.clip(gap, levels[0], levels[-1])
        drawn: dict[str, Any] = {"figure": fig}
        if raster:  # one image with the same bands: far quicker to redraw, for animations
            (x0, x1), (y0, y1) = box
            drawn["contour"] = ax.imshow(shown, extent=(x0, x1, y0, y1), origin="lower", aspect="auto",
                                         cmap=SURFACE_CMAP, alpha=0.9, interpolation="nearest",
                                         norm=BoundaryNorm(levels, plt.get_cmap(SURFACE_CMAP).N))
        else:
            drawn["contour"] = ax.contourf(X, Y, shown, levels=levels, norm=LogNorm(levels[0], levels[-1]),
                                           cmap=SURFACE_CMAP, alpha=0.9, extend="neither")
            ax.contour(X, Y, shown, levels=levels[::2], colors=c["foreground"], linewidths=0.3, alpha=0.35)
        if colorbar:
            bar = fig.colorbar(drawn["contour"], ax=ax, shrink=0.9, pad=0.02)
            bar.set_label(f"{gap_label(function)} (log scale)")
            decades = 10.0 ** np.arange(np.ceil(np.log10(levels[0])), np.floor(np.log10(levels[-1])) + 1)
            bar.set_ticks(decades if len(decades) >= 2 else levels[::4])
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            bar.ax.minorticks_off()
            drawn["colorbar"] = bar
        path_colors = list(path_colors or optimizer_colors(paths))
        drawn["paths"] = []
        for path, color in zip(paths, path_colors, strict=False):
            drawn["paths"].append(draw_path_2d(ax, path, color, arrows=arrows, c=c, box=box))
        if paths:
            starts = np.array([p.start for p in paths])
            stayed = [points_in_frame(p, box)[1] is None for p in paths]
            ends = np.array([p.end for p, s in zip(paths, stayed, strict=True) if s] or np.empty((0, 2)))
            end_colors = [col for col, s in zip(path_colors, stayed, strict=False) if s]
            ax.plot(starts[:, 0], starts[:, 1], "o", ms=9, mfc=c["start"], mec=c["foreground"], mew=1,
                    zorder=6, label="start")
            if len(ends):
                # each end in its path's colour (an "end" colour would read as one more optimizer)
                ax.scatter(ends[:, 0], ends[:, 1], s=49, marker="s", c=end_colors[: len(ends)],
                           edgecolors=PATH_OUTLINE, linewidths=1.2, zorder=6)
                ax.plot([], [], "s", ms=7, mfc="none", mec=c["foreground"], label="end")  # the legend's key
            if len(paths) == 1 and len(ends):
                drawn["end_label"] = ax.annotate(
                    f"end {fmt_point(ends[0])}\nafter {paths[0].steps} steps", ends[0], xytext=(8, -10),
                    textcoords="offset points", ha="left", va="top", fontsize=9, color=c["foreground"],
                    bbox=dict(boxstyle="round,pad=0.25", fc=c["background"], ec="none", alpha=0.75),
                    zorder=8,
                )
        drawn["minima"] = draw_minima(ax, function, box, c)
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


def draw_path_2d(ax: Axes, path: Path, color: str, *, arrows: bool = True, c: dict[str, str],
                 box: Box | None = None) -> Any:
    """One path: an arrow from each point to the next (or a line with dots if ``arrows`` is off).

    With ``box``, a path that leaves it is drawn up to the frame's edge, marked "left the frame at
    step k" (a diverging path)."""
    pts, left_at = (path.points, None) if box is None else points_in_frame(path, box)
    if left_at is not None:  # the label sits a quarter of the way from the exit towards the middle
        (x0, x1), (y0, y1) = box
        label_at = pts[-1] + 0.25 * (np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - pts[-1])
        ax.annotate(f"left the frame\nat step {left_at}", pts[-1], xytext=label_at,
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


def draw_minima(ax: Axes, function: Function, box: Box, c: dict[str, str]) -> Any:
    """Stars at the function's minima that fall inside ``box``."""
    if not function.minima:
        return None
    m = np.array(function.minima)
    (x0, x1), (y0, y1) = box
    inside = (m[:, 0] >= x0) & (m[:, 0] <= x1) & (m[:, 1] >= y0) & (m[:, 1] <= y1)
    if not inside.any():
        return None
    (stars,) = ax.plot(m[inside, 0], m[inside, 1], "*", ms=14, mfc=c["minimum"], mec=c["background"],
                       mew=0.8, zorder=7, label="minimum" if inside.sum() == 1 else "minima")
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
        box = box or plot_box(function, paths)
        X, Y, Z = surface_grid(function, box, n=120)
        drawn: dict[str, Any] = {"figure": fig}
        drawn["surface"] = ax.plot_surface(X, Y, Z, cmap=SURFACE_CMAP, rstride=2, cstride=2, alpha=0.72,
                                           linewidth=0, antialiased=True, zorder=1)
        path_colors = list(path_colors or optimizer_colors(paths))
        drawn["paths"] = []
        lift = path_lift(Z)
        for path, color in zip(paths, path_colors, strict=False):
            pts, left_at = points_in_frame(path, box)  # a 3-D axes does not clip: stop at the frame
            x, y = pts[:, 0], pts[:, 1]
            z = function(x, y) + lift
            (line,) = ax.plot(x, y, z, "-o", color=color, lw=2.2, ms=3.5, mec=PATH_OUTLINE, mew=0.5, zorder=5,
                              label=path.label, path_effects=path_effects(2.2))
            drawn["paths"].append(line)
            ax.scatter([x[0]], [y[0]], [z[0]], s=70, color=c["start"], edgecolor=c["foreground"],
                       zorder=6, depthshade=False)
            if left_at is None:
                ax.scatter([x[-1]], [y[-1]], [z[-1]], s=55, marker="s", color=color,
                           edgecolor=c["foreground"], zorder=6, depthshade=False)
        if function.minima:
            m = np.array(function.minima)
            (x0, x1), (y0, y1) = box
            inside = (m[:, 0] >= x0) & (m[:, 0] <= x1) & (m[:, 1] >= y0) & (m[:, 1] <= y1)
            mz = function(m[inside, 0], m[inside, 1]) + lift
            drawn["minima"] = ax.scatter(m[inside, 0], m[inside, 1], mz, s=160, marker="*",
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
