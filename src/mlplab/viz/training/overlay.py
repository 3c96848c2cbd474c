"""Several runs on shared axes (``mlplab plot RUN1 RUN2 … --overlay``): loss and accuracy.

The book's fig 6-9 for any runs: each run's mini-batch loss (smoothed as the book does), and its
accuracies at each evaluation — test solid, train dashed, validation dotted when it was recorded.
Runs of different lengths share the iteration axis, so the one that learns faster is the one whose
curve drops first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from mlplab.errors import ConfigError
from mlplab.train.history import History
from mlplab.train.run_folder import load_run
from mlplab.viz.study import plot_loss_curves, series_colors
from mlplab.viz.theme import save_figure, theme_context


def plot_overlay(histories: Mapping[str, History], *, theme: str = "dark") -> Figure:
    """Two panels: smoothed mini-batch loss, and accuracies at the evaluations, one colour per run."""
    with theme_context(theme):
        fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(13.0, 4.6), layout="constrained")
        plot_loss_curves(histories, ax=loss_ax, theme=theme, title="Training loss")
        for (label, h), color in zip(histories.items(), series_colors(len(histories)), strict=True):
            acc_ax.plot(h.iterations, h.test_acc, "o-", color=color, lw=1.8, ms=3, label=f"{label}: test")
            acc_ax.plot(h.iterations, h.train_acc, "--", color=color, lw=1.2)
            if h.val_acc:
                acc_ax.plot(h.iterations, h.val_acc, ":", color=color, lw=1.4)
        acc_ax.set_xlabel("iteration")
        acc_ax.set_ylabel("accuracy")
        acc_ax.set_ylim(0, 1.02)
        acc_ax.set_title("Accuracy: test (solid), train (dashed), validation (dotted)")
        acc_ax.legend(loc="lower right", fontsize=9)
    return fig


def overlay_runs(run_dirs: Sequence[str | os.PathLike], *, theme: str = "dark", fmt: str = "png",
                 out: str | os.PathLike | None = None) -> Path:
    """Draw :func:`plot_overlay` for the run folders; write it to ``out`` (default: ``overlay.<fmt>`` in
    the folder that holds them all) and return its path."""
    if len(run_dirs) < 2:
        raise ConfigError(f"--overlay draws several runs on shared axes; give two or more run folders, "
                          f"got {len(run_dirs)}.")
    paths = [Path(p) for p in run_dirs]
    labels = [p.name or str(p) for p in paths]
    if len(set(labels)) < len(labels):  # same folder names in different places: use the paths
        labels = [str(p) for p in paths]
    histories = {label: load_run(p).history for label, p in zip(labels, paths, strict=True)}
    target = Path(out) if out else Path(os.path.commonpath([p.resolve() for p in paths])) / f"overlay.{fmt}"
    return save_figure(plot_overlay(histories, theme=theme), target)
