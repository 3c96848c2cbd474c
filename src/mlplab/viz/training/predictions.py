"""What the network says about single digits: each test digit beside its 10 class probabilities.

The bars are the softmax output ``y = softmax(network.predict(x))`` (they sum to 1). The predicted
class (the tallest bar) is green when right and vermilion when wrong; when wrong, the true class's
bar is outlined, so one sees how far the right answer was.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mlplab.viz.panels import grid_shape, image_side
from mlplab.viz.theme import colors, theme_context


def choose_examples(labels: np.ndarray, predicted: np.ndarray, n: int = 8, n_wrong: int = 2) -> np.ndarray:
    """The first test digits, with the first ``n_wrong`` mistakes mixed in (if there are any), in
    index order: a picture of typical answers that also shows what a wrong one looks like."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(predicted != labels)[:n_wrong]
    right = np.flatnonzero(predicted == labels)[: n - wrong.size]
    return np.sort(np.concatenate([right, wrong]))


def plot_predictions(
    images: np.ndarray,
    labels: np.ndarray,
    probabilities: np.ndarray,
    *,
    indices: np.ndarray | None = None,
    fig: Figure | None = None,
    theme: str = "dark",
    per_row: int = 4,
) -> dict[str, Any]:
    """Draw ``images[indices]`` ``(k, 784)`` each with a bar chart of ``probabilities[indices]``.

    Default ``indices``: :func:`choose_examples`. Returns ``indices``, ``bars`` (one
    ``BarContainer`` per digit; bar heights are the probabilities) and ``titles``.
    """
    c = colors(theme)
    probabilities = np.asarray(probabilities)
    predicted = np.argmax(probabilities, axis=1)
    if indices is None:
        indices = choose_examples(labels, predicted)
    indices = np.asarray(indices)
    n_classes = probabilities.shape[1]
    side = image_side(np.asarray(images).shape[1])
    rows, cols = grid_shape(max(indices.size, 1), per_row)
    with theme_context(theme):
        if fig is None:
            fig = plt.figure(figsize=(3.0 * cols + 0.3, 2.3 * rows + 0.5), layout="constrained")
        axes = fig.subplots(rows, 2 * cols, squeeze=False, width_ratios=[1.0, 1.7] * cols)
        drawn: dict[str, Any] = {"figure": fig, "indices": indices, "bars": [], "titles": []}
        for k in range(rows * cols):
            ax_img, ax_bar = axes[k // cols, 2 * (k % cols)], axes[k // cols, 2 * (k % cols) + 1]
            if k >= indices.size:
                ax_img.axis("off")
                ax_bar.axis("off")
                continue
            row = indices[k]
            truth, guess = int(labels[row]), int(predicted[row])
            right = truth == guess
            if side is not None:
                ax_img.imshow(np.asarray(images[row]).reshape(side, side), cmap="gray" if theme == "dark"
                              else "gray_r", vmin=0, vmax=1, interpolation="nearest")
            ax_img.axis("off")
            ax_img.set_title(f"test #{row}: a {truth}", fontsize=10)
            bar_colors = [c["reference"]] * n_classes
            bar_colors[guess] = c["good"] if right else c["bad"]
            bars = ax_bar.bar(np.arange(n_classes), probabilities[row], color=bar_colors, width=0.75)
            if not right:
                bars[truth].set_edgecolor(c["foreground"])
                bars[truth].set_linewidth(1.5)
                ax_bar.bar([truth], [1.0], width=0.75, fill=False, edgecolor=c["foreground"], ls=":", lw=1)
            drawn["bars"].append(bars)
            ax_bar.set_ylim(0, 1.0)
            ax_bar.set_xticks(range(n_classes))
            ax_bar.set_yticks([0, 0.5, 1.0], labels=["0", ".5", "1"])
            ax_bar.tick_params(labelsize=8, length=2)
            ax_bar.grid(False, axis="x")
            verdict = "✓" if right else "✗"
            drawn["titles"].append(ax_bar.set_title(
                f"{verdict} predicted {guess} ({probabilities[row, guess]:.1%})", fontsize=10,
                color=c["good"] if right else c["bad"]))
        fig.suptitle("Predictions: each test digit and its 10 softmax probabilities", fontsize=12)
    return drawn
