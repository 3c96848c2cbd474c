"""Where the network is wrong: the confusion matrix and a grid of misclassified test digits.

``matrix[t, p]`` counts the test digits of true class ``t`` that the network predicted as ``p``; the
diagonal holds the correct answers. Cells are coloured by their share of the row (the recall of that
digit), so a class with few examples is judged as fairly as a common one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Normalize

from mlplab.errors import ConfigError
from mlplab.viz.panels import axes_or_new, grid_shape, image_side, tile_center, tile_images
from mlplab.viz.theme import colors, theme_context


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts ``(n_classes, n_classes)``: row = true class, column = predicted class.

    One ``bincount`` over ``t · C + p``, so ``matrix.sum() == len(labels)`` and
    ``trace / sum`` is the accuracy.
    """
    labels, predicted = np.asarray(labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ConfigError(f"labels {labels.shape} and predictions {predicted.shape} must have the same shape.")
    counts = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    return counts.reshape(n_classes, n_classes)


def row_normalised(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows with no examples stay 0)."""
    sums = matrix.sum(axis=1, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros(matrix.shape, dtype=np.float64), where=sums > 0)


def plot_confusion(
    matrix: np.ndarray,
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    title: str | None = None,
) -> dict[str, Any]:
    """Counts written in the cells, colour = share of the true class's row on a square-root scale
    (so the few mistakes show up beside the large diagonal). Returns ``image`` (its array is the row-normalised
    matrix), ``texts`` (``(C, C)`` array of the count labels) and ``colorbar``."""
    matrix = np.asarray(matrix)
    n = matrix.shape[0]
    shares = row_normalised(matrix)
    c = colors(theme)
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (6.6, 5.8))
        # a square-root colour scale, so that a 1 % confusion shows next to a 98 % diagonal
        image = ax.imshow(shares, cmap="magma" if theme == "dark" else "Blues", norm=_SqrtNorm(),
                          interpolation="nearest")
        cmap = image.get_cmap()
        texts = np.empty(matrix.shape, dtype=object)
        for t in range(n):
            for p in range(n):
                rgba = cmap(image.norm(shares[t, p]))
                light = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] > 0.5
                texts[t, p] = ax.text(p, t, f"{matrix[t, p]}", ha="center", va="center",
                                      fontsize=9 if matrix[t, p] < 1000 else 8,
                                      color="#111111" if light else "#f2f2f2",
                                      fontweight="bold" if t == p else "normal")
                texts[t, p].set_in_layout(False)  # inside its cell: nothing for the layout to make room for
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xlabel("predicted digit")
        ax.set_ylabel("true digit")
        ax.grid(False)
        ax.tick_params(length=0)
        total = int(matrix.sum())
        accuracy = float(np.trace(matrix)) / total if total else 0.0
        ax.set_title(title or f"Confusion matrix: {total:,} test digits, {accuracy:.2%} on the diagonal",
                     fontsize=12)
        colorbar = fig.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
        colorbar.set_ticks([0, 0.01, 0.05, 0.2, 0.5, 1.0], labels=["0", "1%", "5%", "20%", "50%", "100%"])
        colorbar.set_label("share of the true digit's row")
        colorbar.outline.set_edgecolor(c["reference"])
    return {"figure": fig, "image": image, "texts": texts, "colorbar": colorbar}


class _SqrtNorm(Normalize):
    """0..1 → √(0..1): small shares get visible colour."""

    def __init__(self) -> None:
        super().__init__(0.0, 1.0)

    def __call__(self, value, clip=None):  # noqa: ANN001 - matplotlib's signature
        return np.ma.sqrt(np.ma.clip(super().__call__(value, clip), 0.0, 1.0))

    def inverse(self, value):  # noqa: ANN001
        return np.square(value)


def most_confident_mistakes(labels: np.ndarray, probabilities: np.ndarray, n: int) -> np.ndarray:
    """Indices of up to ``n`` misclassified rows, the most confidently wrong first."""
    predicted = np.argmax(probabilities, axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:n]]


def plot_mistakes(
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    n: int = 40,
    ncols: int = 10,
) -> dict[str, Any]:
    """Misclassified digits, most confident mistakes first, each captioned ``true→predicted  p%``.

    ``images`` ``(N, 784)``, ``labels`` ``(N,)``, ``probabilities`` ``(N, 10)`` (softmax outputs).
    Returns ``image``, ``indices`` (the rows shown, in order) and ``captions``.
    """
    c = colors(theme)
    indices = most_confident_mistakes(labels, probabilities, n)
    side = image_side(np.asarray(images).shape[1]) or 1
    with theme_context(theme):
        rows, cols = grid_shape(max(len(indices), 1), ncols)
        fig, ax = axes_or_new(ax, (0.85 * max(cols, 8) + 0.4, 0.95 * rows + 0.8))  # room for the title
        ax.axis("off")
        drawn: dict[str, Any] = {"figure": fig, "indices": indices, "captions": []}
        total_wrong = int(np.sum(np.argmax(probabilities, axis=1) != labels))
        ax.set_title(f"Mistakes: {len(indices)} of the {total_wrong:,} misclassified test digits, "
                     "most confident first\ncaption: true digit → predicted digit, predicted probability",
                     fontsize=11)
        if len(indices) == 0:
            ax.text(0.5, 0.5, "no mistakes on this test set", ha="center", va="center", transform=ax.transAxes)
            drawn["image"] = None
            return drawn
        tiles = np.asarray(images)[indices].reshape(len(indices), side, -1)
        pad = 10  # pixels of room under each digit for its caption
        mosaic = tile_images(tiles, cols, pad=pad)
        cmap = "gray" if theme == "dark" else "gray_r"
        drawn["image"] = ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
        predicted = np.argmax(probabilities[indices], axis=1)
        for k, row in enumerate(indices):
            x, y = tile_center(k, tiles.shape[1:], cols, pad=pad)
            p = probabilities[row, predicted[k]]
            caption = f"{labels[row]}→{predicted[k]} {p:.0%}"
            drawn["captions"].append(ax.text(x, y + side / 2 + 1, caption, ha="center", va="top", fontsize=8.5,
                                             color=c["foreground"]))
    return drawn
