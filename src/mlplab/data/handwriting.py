"""A digit drawn on a screen turned into what MNIST's digits are: 28×28 pixels in [0, 1].

MNIST's makers (LeCun, Cortes & Burges) took each scanned digit, "normalized [it] to fit in a 20×20
pixel box while preserving [its] aspect ratio", with anti-aliasing, "and centered [it] in a 28×28 image
by computing the center of mass of the pixels, and translating the image so as to position this point
at the center of the 28×28 field". :func:`mnist_like` does those three steps in one resampling:

1. the bounding box of the ink: its longer side becomes 20 output pixels (scale ``s = 20 / side``);
2. the ink's centre of mass goes to pixel (14, 14) — where it is in MNIST itself: averaged over the
   60 000 training digits, Σ i·xᵢ / Σ xᵢ is 14.0 ± 0.3 in both directions (row and column indices
   counted from 0; ``tests/test_handwriting.py`` measures it);
3. each output pixel is the *average* ink over the square of the drawing it covers (area averaging,
   so a stroke's edge gives grey pixels as in MNIST, never the jagged steps of point sampling).

Scaling and shifting are one linear map per axis, so the resampling is two small matrices:
``out = Ry @ ink @ Rx.T`` with ``Ry[i, y]`` = how much of output row ``i`` drawing row ``y`` covers.
Ink that the shift pushes past the 28×28 frame is lost, as it was for MNIST.

Example
-------
>>> ink = np.zeros((280, 280)); ink[40:240, 130:150] = 1.0   # a "1": a vertical bar
>>> x = mnist_like(ink)                                      # (28, 28), float64 in [0, 1]
>>> x.shape, float(x.max())
((28, 28), 1.0)
"""

from __future__ import annotations

import numpy as np

from mlplab.errors import ConfigError

#: The output image's side (MNIST: 28) and the box the ink's longer side is scaled to (MNIST: 20).
SIDE = 28
BOX = 20
#: Where the centre of mass lands, in pixel indices (row, column): MNIST's own average.
CENTRE = 14.0
#: Pixels fainter than this are not ink (antialiasing haze of a canvas does not widen the box).
INK_THRESHOLD = 0.05


def _cover(n_in: int, centre: float, scale: float, n_out: int = SIDE) -> np.ndarray:
    """``R`` ``(n_out, n_in)``: the length of output pixel ``i`` covered by input pixel ``j``, in output pixels.

    Input pixel ``j`` spans ``[j, j+1)``; the map is ``u = (v − centre)·scale + CENTRE + 0.5``, which sends
    the continuous centre of mass ``centre`` to the middle of output pixel ``CENTRE``.
    """
    edges = (np.arange(n_in + 1) - centre) * scale + CENTRE + 0.5  # (n_in + 1,) input pixel edges, output units
    lo, hi = edges[:-1], edges[1:]
    out_lo = np.arange(n_out)[:, None]  # (n_out, 1)
    return np.clip(np.minimum(hi, out_lo + 1) - np.maximum(lo, out_lo), 0.0, None)  # (n_out, n_in)


def mnist_like(ink: np.ndarray) -> np.ndarray:
    """A drawing ``ink`` ``(H, W)`` (0 = paper, 1 = full ink) as an MNIST digit ``(28, 28)`` in [0, 1].

    Fit the ink's bounding box into 20×20 keeping its aspect ratio, put its centre of mass at pixel
    (14, 14), and area-average (see the module's docstring). Raises :class:`ConfigError` for an empty
    drawing or values outside [0, 1].
    """
    ink = np.asarray(ink, dtype=np.float64)
    if ink.ndim != 2 or min(ink.shape) < 1:
        raise ConfigError(f"the drawing must be a 2-D image (height, width), got shape {ink.shape}.")
    if not np.all(np.isfinite(ink)) or ink.min() < 0 or ink.max() > 1:
        raise ConfigError("the drawing's pixels must be numbers between 0 (paper) and 1 (ink).")
    rows = np.flatnonzero((ink > INK_THRESHOLD).any(axis=1))
    cols = np.flatnonzero((ink > INK_THRESHOLD).any(axis=0))
    if rows.size == 0:
        raise ConfigError("the canvas is empty: draw a digit first.")
    side = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)  # the bounding box's longer side, input pixels
    scale = BOX / side
    mass = ink.sum()
    # continuous centre of mass: pixel j's centre is j + 0.5
    cy = float((ink.sum(axis=1) * (np.arange(ink.shape[0]) + 0.5)).sum() / mass)
    cx = float((ink.sum(axis=0) * (np.arange(ink.shape[1]) + 0.5)).sum() / mass)
    Ry = _cover(ink.shape[0], cy, scale)  # (28, H)
    Rx = _cover(ink.shape[1], cx, scale)  # (28, W)
    # (28, H) @ (H, W) @ (W, 28) -> (28, 28); each output pixel's area is 1, so this is the mean ink on it
    return np.clip(Ry @ ink @ Rx.T, 0.0, 1.0)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """``(row, column)`` of the centre of mass of ``image`` ``(H, W)`` in pixel indices: Σ i·xᵢ / Σ xᵢ."""
    image = np.asarray(image, dtype=np.float64)
    mass = image.sum()
    return (float((image.sum(axis=1) * np.arange(image.shape[0])).sum() / mass),
            float((image.sum(axis=0) * np.arange(image.shape[1])).sum() / mass))


__all__ = ["BOX", "CENTRE", "SIDE", "centre_of_mass", "mnist_like"]
