"""Putting a value label ("train 94.74 %") where it covers nothing: no curve, no axis line, no legend.

The figure is laid out first (constrained layout moves the axes), then each candidate offset is
tried in display coordinates against the points of every line (sampled every couple of pixels along
each segment, so a steep segment between two far-apart points counts too), the axes' edges and the
boxes of the legend and insets. The first candidate that touches nothing wins; if none is free, the
one touching the fewest line points. Offsets are in points, so the result holds at any dpi.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

#: Candidate offsets (points) and alignment: ``(dx, dy, ha, va)``.
Candidate = tuple[float, float, str, str]


def line_points(ax: Axes, lines: Sequence[Line2D], step: float = 2.0) -> np.ndarray:
    """Display coordinates ``(n, 2)`` of points along every line, at most ``step`` pixels apart."""
    out = [np.empty((0, 2))]
    for line in lines:
        xy = np.column_stack([np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)])
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if not len(xy):
            continue
        with np.errstate(all="ignore"):
            pts = ax.transData.transform(xy)
        pts = pts[np.all(np.isfinite(pts), axis=1)]  # huge values (a blown-up loss) overflow the transform
        out.append(pts)
        out.append(points_between(pts, step, most=int(4 * (ax.bbox.width + ax.bbox.height) / step) + 2))
    return np.concatenate(out)


def points_between(pts: np.ndarray, step: float, most: int) -> np.ndarray:
    """The points strictly inside each segment ``pts[i] → pts[i+1]`` ``(m+1, 2)``, ``step`` apart:
    segment i of length ℓ is cut into n = ⌊ℓ/step⌋ pieces (at most ``most``: a segment much longer than
    the axes only needs as many points as the axes can hold), giving p + (k/n)·(q − p) for k = 1 … n−1.

    All segments at once: a loss curve has 10,000 of them, too many for a loop in Python.
    """
    p, q = pts[:-1], pts[1:]
    with np.errstate(invalid="ignore", over="ignore"):
        length = np.hypot(*(q - p).T)
        n = np.where(np.isfinite(length), np.minimum(length // step, most), most).astype(np.int64)
    inside = np.where(n > 1, n - 1, 0)  # points inside each segment
    segment = np.repeat(np.arange(len(p)), inside)
    k = np.arange(segment.size) - np.repeat(np.cumsum(inside) - inside, inside) + 1  # 1 … n−1 in each
    t = k * (1.0 / n[segment])  # as np.linspace(0, 1, n + 1) computes k/n
    return p[segment] + t[:, None] * (q - p)[segment]


def points_inside(box: Bbox, points: np.ndarray, pad: float = 2.0) -> int:
    """How many ``points`` (display coordinates) fall in ``box`` widened by ``pad`` pixels."""
    if not len(points):
        return 0
    x, y = points[:, 0], points[:, 1]
    return int(np.sum((x >= box.x0 - pad) & (x <= box.x1 + pad) & (y >= box.y0 - pad) & (y <= box.y1 + pad)))


def obstacles(ax: Axes) -> list[Bbox]:
    """Boxes a label must not cover: the legend and any inset axes of ``ax`` (display coordinates)."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    boxes = []
    legend = ax.get_legend()
    if legend is not None:
        boxes.append(legend.get_window_extent(renderer))
    boxes += [child.get_window_extent(renderer) for child in ax.child_axes]
    return boxes


def is_free(ax: Axes, text: Annotation, points: np.ndarray, boxes: Sequence[Bbox], margin: float = 3.0) -> int:
    """0 if ``text`` sits inside the axes (``margin`` pixels from its edges) over no line point and no
    box; else a positive count of what it covers (the edges and boxes count as many points)."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    box = text.get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    hits = points_inside(box, points)
    if box.x0 < frame.x0 + margin or box.x1 > frame.x1 - margin or box.y0 < frame.y0 + margin \
            or box.y1 > frame.y1 - margin:
        hits += 10_000  # on or over an axis line
    hits += sum(1_000 for other in boxes if box.overlaps(other))
    return hits


def place_label(ax: Axes, text: Annotation, candidates: Sequence[Candidate], lines: Sequence[Line2D],
                boxes: Sequence[Bbox] = ()) -> int:
    """Move annotation ``text`` (placed with ``textcoords="offset points"``) to the first of
    ``candidates`` that covers no point of ``lines``, no axis edge and none of ``boxes``; returns what
    the chosen spot covers (0 = free). Call after the figure's layout has run
    (:func:`mlplab.viz.panels.lay_out`)."""
    points = line_points(ax, lines)
    boxes = [*obstacles(ax), *boxes]
    best, best_hits = candidates[0], None
    for dx, dy, ha, va in candidates:
        text.set_position((dx, dy))
        text.set_ha(ha)
        text.set_va(va)
        hits = is_free(ax, text, points, boxes)
        if best_hits is None or hits < best_hits:
            best, best_hits = (dx, dy, ha, va), hits
        if hits == 0:
            return 0
    dx, dy, ha, va = best
    text.set_position((dx, dy))
    text.set_ha(ha)
    text.set_va(va)
    return int(best_hits or 0)


def ladder(side: str, steps: Sequence[float] = (9, 18, 30, 44, 60, 80), dxs: Sequence[float] = (-4, -40, -90),
           ha: str = "right") -> list[Candidate]:
    """Candidates above (``side="up"``) or below (``"down"``) a point, further and further away."""
    sign, va = (1, "bottom") if side == "up" else (-1, "top")
    return [(dx, sign * dy, ha, va) for dx in dxs for dy in steps]
