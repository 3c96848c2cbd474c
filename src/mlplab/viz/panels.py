"""Small layout helpers shared by the figure functions: a new figure when no ``ax`` was given, and
image tiling (many small images drawn as one array, which is much faster than one axes per image).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mlplab.viz.theme import drop_layout_engine


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(figure, ax)``: the caller's axes and its (top-level) figure, else a new constrained-layout figure."""
    if ax is not None:
        return ax.get_figure(root=True), ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def lay_out(fig: Figure) -> None:
    """Put the axes where the figure's layout engine wants them now, so that display coordinates
    (where a label would land, what it would cover) can be measured before anything is drawn.

    Only the layout runs: ``fig.draw_without_rendering()`` would also draw every artist invisibly,
    which costs as much again and moves nothing. Without an engine the axes already are where they
    will be drawn.
    """
    engine = fig.get_layout_engine()
    if engine is not None:
        engine.execute(fig)


def keep_layout(fig: Figure) -> None:
    """Keep the layout the figure has now (after :func:`lay_out`): labels were placed
    in the free space *of this layout*, and saving would otherwise lay the figure out a second time
    (the costliest part of drawing it) and could move the axes under the placed labels."""
    drop_layout_engine(fig)


def grid_shape(n: int, ncols: int | None = None) -> tuple[int, int]:
    """Rows and columns for ``n`` tiles: ``ncols`` if given, else 10 (or fewer for small ``n``)."""
    ncols = min(ncols or 10, max(n, 1))
    return -(-max(n, 1) // ncols), ncols


def tile_images(images: np.ndarray, ncols: int | None = None, pad: int = 1) -> np.ndarray:
    """Lay ``images`` ``(n, h, w)`` out as one ``(rows·(h+pad)−pad, cols·(w+pad)−pad)`` array.

    Gaps and empty cells are NaN, which ``imshow`` leaves transparent (the figure background shows),
    so the tiles stay separate whatever the colormap. Tile ``k`` is at row ``k // cols``, column
    ``k % cols``.
    """
    images = np.asarray(images, dtype=np.float32)
    n, h, w = images.shape
    rows, cols = grid_shape(n, ncols)
    mosaic = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, cols)
        mosaic[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = images[k]
    return mosaic


def tile_center(k: int, shape: tuple[int, int], ncols: int, pad: int = 1) -> tuple[float, float]:
    """Data coordinates ``(x, y)`` of the centre of tile ``k`` in a :func:`tile_images` mosaic."""
    h, w = shape
    r, c = divmod(k, ncols)
    return c * (w + pad) + (w - 1) / 2, r * (h + pad) + (h - 1) / 2


def symmetric_limit(values: np.ndarray, percentile: float = 99.5) -> float:
    """A colour limit ``v`` for ``[-v, v]``: a high percentile of |values| (finite ones only), so one
    outlier does not wash every other value out to white. Never 0 (1e-12 for all-zero input)."""
    finite = np.abs(np.asarray(values, dtype=np.float64))
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 1.0
    return max(float(np.percentile(finite, percentile)), 1e-12)


def image_side(n_features: int) -> int | None:
    """28 for 784 inputs: the side of a square image with ``n_features`` pixels, else None."""
    side = int(round(np.sqrt(n_features)))
    return side if side * side == n_features else None
