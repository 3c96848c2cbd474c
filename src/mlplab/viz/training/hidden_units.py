"""What each hidden unit looks for: its 784 input weights drawn as a 28×28 image.

Unit ``j`` computes ``σ(Σ_i x_i · W1[i, j] + b1[j])``, so column ``W1[:, j]`` reshaped to 28×28 is the
pattern of ink that excites it (red, positive weights) or inhibits it (blue, negative weights). All
units share one symmetric colour scale, so their strengths can be compared.

:func:`hidden_units_gif` animates the grid across the evaluations recorded in ``snapshots.npz``,
ending on the final model, all frames on one colour scale: the units start as faint noise (the
random initialisation) and grow into strokes and blobs.

Evaluations are counted from 0, as ``mlplab plot --at K`` and the run folder's ``eval_KK`` count them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from mlplab.errors import ConfigError
from mlplab.viz.panels import axes_or_new, grid_shape, image_side, symmetric_limit, tile_images
from mlplab.viz.theme import DIVERGING_CMAP, theme_context


def unit_images(W1: np.ndarray) -> np.ndarray:
    """``W1`` ``(784, H)`` → ``(H, 28, 28)``: one image per hidden unit (its column of ``W1``)."""
    W1 = np.asarray(W1)
    side = image_side(W1.shape[0]) if W1.ndim == 2 else None
    if side is None:
        raise ConfigError(
            f"hidden-unit images need W1 of shape (side², H), e.g. (784, 50); got {W1.shape}."
        )
    return W1.T.reshape(W1.shape[1], side, side)


def hidden_units_figsize(n_units: int, ncols: int | None = None) -> tuple[float, float]:
    rows, cols = grid_shape(n_units, ncols)
    return 0.72 * cols + 1.3, 0.72 * rows + 0.7


def plot_hidden_units(
    W1: np.ndarray,
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    ncols: int | None = None,
    vmax: float | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """Draw every hidden unit's input weights as a tile of one mosaic (one ``imshow``: fast).

    ``vmax`` fixes the colour scale ``[-vmax, vmax]`` (default: 99.5th percentile of |W1|).
    Returns ``image`` (the ``AxesImage``; its array is the mosaic of :func:`unit_images`),
    ``colorbar``, ``vmax`` and ``ncols``.
    """
    tiles = unit_images(W1)
    n = tiles.shape[0]
    rows, cols = grid_shape(n, ncols)
    vmax = float(vmax) if vmax is not None else symmetric_limit(W1)
    with theme_context(theme):
        fig, ax = axes_or_new(ax, hidden_units_figsize(n, ncols))
        image = ax.imshow(tile_images(tiles, cols), cmap=DIVERGING_CMAP, vmin=-vmax, vmax=vmax,
                          interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(title or f"Hidden units: each unit's {tiles.shape[1] * tiles.shape[2]} input weights "
                     f"({n} units)", fontsize=12)
        colorbar = fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02, aspect=30)
        colorbar.set_label("weight (blue −, red +)")
    return {"figure": fig, "image": image, "colorbar": colorbar, "vmax": vmax, "ncols": cols}


def frame_title(iteration: int, k: int | None, n: int, test_acc: float | None) -> str:
    """``k`` counted from 0 (``None``: the final model, drawn after the ``n`` evaluations)."""
    acc = f" · test accuracy {test_acc:.1%}" if test_acc is not None else ""
    when = "final model" if k is None else f"evaluation {k} of 0–{n - 1}"
    return f"Hidden units after iteration {iteration} ({when}){acc}"


def shared_limit(states: Sequence[np.ndarray]) -> float:
    """One colour limit for several ``W1`` states (a run's snapshots and its final model): the
    :func:`~mlplab.viz.panels.symmetric_limit` of all of them together, so growth shows."""
    return symmetric_limit(np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in states]))


def save_hidden_units_gif(
    frames: np.ndarray,
    iterations: Sequence[int],
    path: str | os.PathLike,
    *,
    theme: str = "dark",
    test_acc: Sequence[float] | None = None,
    final: tuple[np.ndarray, int, float | None] | None = None,
) -> Path:
    """Write :func:`hidden_units_gif` to ``path`` atomically (never half a file)."""
    from mlplab.train.run_folder import atomic_write_bytes

    path = Path(path)
    atomic_write_bytes(path, hidden_units_gif(frames, iterations, theme=theme, test_acc=test_acc, final=final))
    return path


def hidden_units_gif(
    frames: np.ndarray,
    iterations: Sequence[int],
    *,
    theme: str = "dark",
    test_acc: Sequence[float] | None = None,
    seconds_per_frame: float = 0.5,
    dpi: int = 72,
    final: tuple[np.ndarray, int, float | None] | None = None,
) -> bytes:
    """An animated GIF of the hidden-unit grid across evaluations: ``frames`` is ``(n_evals, 784, H)``.

    ``final`` = ``(W1, iteration, test accuracy)`` of the final model: it is the last frame unless the
    last snapshot already is that model (snapshots are float16). All frames share one colour scale
    (:func:`shared_limit`), so the weights are seen growing from their small initialisation. The
    last frame is held three times as long.

    Only the mosaic and the title change from frame to frame, so the figure is drawn once without
    them (axes, colour bar) and each frame paints just those two onto a copy of it (matplotlib's
    *blitting*). All frames share one 96-colour palette, taken from the first and the last frame
    (they hold the faintest and the strongest colours of the one scale): 18 frames take a fraction
    of a second instead of a full drawing and a colour search each.
    """
    from PIL import Image

    frames = np.asarray(frames)
    if frames.ndim != 3 or frames.shape[0] == 0:
        raise ConfigError(f"frames must be (n_evals, 784, H) with n_evals >= 1, got shape {frames.shape}.")
    n = frames.shape[0]
    accs = list(test_acc) if test_acc is not None else [None] * n
    states = [(frames[k], frame_title(int(iterations[k]), k, n, accs[k])) for k in range(n)]
    if final is not None and not _same_state(final[0], frames[-1]):
        states.append((np.asarray(final[0]), frame_title(int(final[1]), None, n, final[2])))
    vmax = shared_limit([w for w, _ in states])
    drawn = plot_hidden_units(states[0][0], theme=theme, title=states[0][1], vmax=vmax)
    image, fig = drawn["image"], drawn["figure"]
    ax, canvas = image.axes, fig.canvas
    fig.set_dpi(dpi)
    canvas.draw()
    fig.set_layout_engine("none")  # freeze the layout: the frames must not jiggle
    rgbs = []
    try:
        with theme_context(theme):  # set_title re-reads the theme's title colour
            image.set_visible(False)
            ax.title.set_visible(False)
            canvas.draw()
            background = canvas.copy_from_bbox(fig.bbox)  # everything that stays: axes, colour bar
            image.set_visible(True)
            ax.title.set_visible(True)
            for weights, title in states:
                canvas.restore_region(background)
                image.set_data(tile_images(unit_images(weights), drawn["ncols"]))
                ax.set_title(title, fontsize=12)
                ax.draw_artist(image)
                ax.draw_artist(ax.title)
                rgbs.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())  # (height, width, 3)
    finally:
        plt.close(fig)
    palette = Image.fromarray(np.concatenate([rgbs[0], rgbs[-1]])).quantize(
        colors=96, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pictures = [Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE) for rgb in rgbs]
    durations = [int(seconds_per_frame * 1000)] * len(pictures)
    durations[-1] *= 3
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=durations,
                     loop=0, optimize=False)
    return buffer.getvalue()


def _same_state(final: np.ndarray, snapshot: np.ndarray) -> bool:
    """Is the float16 ``snapshot`` the final ``W1`` rounded (the run ended on an evaluation)?"""
    final = np.asarray(final)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's weights overflow float16 as the snapshot did
        return final.shape == snapshot.shape and np.array_equal(final.astype(np.float16),
                                                                np.asarray(snapshot, np.float16), equal_nan=True)
