"""What a landscape picture shows, as numbers: the grid of ``f`` and its box, the contour levels and
their colours, each path as drawn (points, lift, colour, label), the steps a replay shows.

Every landscape picture is drawn from one :class:`LandscapeScene`: the matplotlib contour and surface
(:mod:`mlplab.viz.landscape.plots`), the 3-D HTML file (:mod:`mlplab.viz.landscape.interactive`) and the
web playground, whose server sends the scene as JSON for the browser to draw
(:mod:`mlplab.app.api_landscape`). Nothing here is computed a second time anywhere, so the browser
cannot draw a different picture from the CLI's.

Contours use log-spaced levels of ``f − f*``: on the seed's valley ``f`` runs from 0 to 10, and equally
spaced levels would hide the flat valley floor where all the slow progress happens.

Example
-------
>>> from mlplab.landscape import FUNCTIONS, descend
>>> seed = FUNCTIONS["seed"]
>>> scene = landscape_scene(seed, [descend(seed)], grid=41)
>>> scene.z.shape, scene.paths[0].label, scene.paths[0].color
((41, 41), 'sgd lr=0.9', '#e8384f')
>>> float(scene.z[20, 20])  # the middle of the box (-8, 8) × (-3, 3) is the minimum, f(0, 0) = 0
0.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import LogNorm, to_hex

from mlplab.landscape import Function, Path
from mlplab.landscape.functions import Box
from mlplab.viz.theme import optimizer_color

#: The colour map of every landscape (contour bands, surfaces, the browser's too).
SURFACE_CMAP = "viridis"
#: Thin contour lines are drawn at every LINE_EVERY-th level: at every level they crowd.
LINE_EVERY = 2
#: The contour bands are drawn this opaque, so the grid lines behind them still show a little.
CONTOUR_ALPHA = 0.9
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


def surface_colorscale(n: int = 16) -> list[list]:
    """:data:`SURFACE_CMAP` as plotly's colour scale, ``[[position, "#rrggbb"], …]`` at ``n`` even
    positions: the browser's surfaces in matplotlib's own colours."""
    positions = np.linspace(0.0, 1.0, n)
    return [[float(t), to_hex(colormaps[SURFACE_CMAP](t))] for t in positions]


@dataclass(frozen=True)
class DrawnPath:
    """One path as the pictures draw it: cut where it leaves the box (:func:`points_in_frame`).

    ``points (k, 2)`` are the points drawn, ``values (k,)`` the true ``f`` there (the hover's), and
    ``lifted (k,)`` the heights a 3-D view draws them at (``values`` + the scene's lift).
    """

    path: Path
    color: str
    points: np.ndarray
    values: np.ndarray
    lifted: np.ndarray
    left_at: int | None  # the step whose move left the box; None if the path stayed inside

    @property
    def label(self) -> str:
        return self.path.label

    @property
    def end(self) -> np.ndarray | None:
        """The end point (a square in the pictures), or ``None`` for a path that left the frame."""
        return self.points[-1] if self.left_at is None else None

    def exit_note(self, box: Box) -> tuple[str, np.ndarray] | None:
        """``(text, where)`` of the note on a path that left the frame: a quarter of the way from the
        exit towards the middle of ``box``, so it stays inside the picture. ``None`` if it stayed."""
        if self.left_at is None:
            return None
        (x0, x1), (y0, y1) = box
        exit_point = self.points[-1]
        return (f"left the frame\nat step {self.left_at}",
                exit_point + 0.25 * (np.array([(x0 + x1) / 2, (y0 + y1) / 2]) - exit_point))


@dataclass(frozen=True)
class LandscapeScene:
    """Everything a landscape picture draws, computed once.

    ``x (n,)``, ``y (n,)``, ``z (n, n)``: ``z[i, j] = f(x[j], y[i])`` over ``box``. The contour shows
    ``gap = z − floor`` clipped to ``[levels[0], levels[-1]]`` (``shown``), in bands between the
    log-spaced ``levels``, with thin lines at ``line_levels``. ``lift``: how far above the surface a 3-D
    view draws the paths and minima. ``frames``: the steps a replay shows.
    """

    function: Function
    box: Box
    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    floor: float
    levels: np.ndarray
    lift: float
    paths: tuple[DrawnPath, ...]
    frames: list[int]

    @property
    def meshgrid(self) -> tuple[np.ndarray, np.ndarray]:
        """``X, Y`` of shape (n, n), as ``np.meshgrid(x, y)``."""
        return np.meshgrid(self.x, self.y)

    @cached_property
    def shown(self) -> np.ndarray:
        """``f − floor`` on the grid, clipped to the levels (below the first: the first band's colour)."""
        return np.clip(self.z - self.floor, self.levels[0], self.levels[-1])

    @property
    def line_levels(self) -> np.ndarray:
        """The levels drawn as thin lines over the bands (every :data:`LINE_EVERY`-th)."""
        return self.levels[::LINE_EVERY]

    @property
    def norm(self) -> LogNorm:
        """Gap → [0, 1] for the colour map: log, from the first level to the last."""
        return LogNorm(self.levels[0], self.levels[-1])

    @property
    def band_colors(self) -> list[str]:
        """The colour of each band between two levels, ``#rrggbbaa``, as matplotlib's ``contourf``
        paints it with :attr:`norm`: the colour map at the band's middle in log scale (the geometric mean
        of its edges). The figure leaves this to matplotlib; a test holds the two to the same colours."""
        middles = np.sqrt(self.levels[:-1]) * np.sqrt(self.levels[1:])
        rgba = colormaps[SURFACE_CMAP](self.norm(middles), alpha=CONTOUR_ALPHA)
        return [to_hex(c, keep_alpha=True) for c in rgba]

    @property
    def colorbar_ticks(self) -> tuple[np.ndarray, list[str]]:
        """The colour bar's ticks and their labels: the powers of ten inside the levels, or every
        fourth level if fewer than two powers of ten fall inside."""
        low, high = self.levels[0], self.levels[-1]
        decades = 10.0 ** np.arange(np.ceil(np.log10(low)), np.floor(np.log10(high)) + 1)
        ticks = decades if len(decades) >= 2 else self.levels[::4]
        return ticks, [f"{v:g}" for v in ticks]

    @property
    def colorbar_label(self) -> str:
        return f"{gap_label(self.function)} (log scale)"

    @property
    def minima(self) -> np.ndarray:
        """The function's minima inside the box, ``(m, 2)`` (none drawn outside it)."""
        m = np.array(self.function.minima, dtype=float).reshape(-1, 2)
        (x0, x1), (y0, y1) = self.box
        return m[(m[:, 0] >= x0) & (m[:, 0] <= x1) & (m[:, 1] >= y0) & (m[:, 1] <= y1)]

    @property
    def minima_lifted(self) -> np.ndarray:
        """The heights a 3-D view draws the minima at, ``(m,)``: lifted as the paths are."""
        m = self.minima
        return self.function(m[:, 0], m[:, 1]) + self.lift


def landscape_scene(
    function: Function,
    paths: Sequence[Path] = (),
    *,
    box: Box | None = None,
    grid: int = 240,
    path_colors: Sequence[str] | None = None,
) -> LandscapeScene:
    """The scene of ``paths`` on ``function``: the grid (``grid × grid`` points over ``box``, by default
    :func:`plot_box`), its levels and lift, each path cut at the frame in its optimizer's colour (or
    ``path_colors``), and the replay's frames (:func:`frame_steps` up to the longest path)."""
    box = box or plot_box(function, paths)
    X, Y, Z = surface_grid(function, box, n=grid)
    floor = gap_floor(function, Z)
    lift = path_lift(Z)
    drawn = []
    for path, color in zip(paths, list(path_colors or optimizer_colors(paths)), strict=False):
        points, left_at = points_in_frame(path, box)
        values = function(points[:, 0], points[:, 1])
        drawn.append(DrawnPath(path, color, points, values, values + lift, left_at))
    return LandscapeScene(function=function, box=box, x=X[0], y=Y[:, 0], z=Z, floor=floor,
                          levels=log_levels(Z - floor), lift=lift, paths=tuple(drawn),
                          frames=frame_steps(max((p.steps for p in paths), default=0)))
