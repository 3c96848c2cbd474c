"""Write a training run as TensorBoard event files, live, as an observer of the trainer.

What a teacher sees in TensorBoard: ``loss`` every iteration; ``accuracy/train`` and ``accuracy/test``
per evaluation (one chart: TensorBoard overlays tags that share the ``accuracy/`` prefix when the
runs are written to sibling folders, so train and test go to ``DIR/train`` and ``DIR/test`` under the
same tag ``accuracy``); weight and gradient histograms per evaluation; the hidden units' input weights
as one image per evaluation.

Written with tensorboardX's public ``SummaryWriter`` (no TensorFlow, no PyTorch, none of
TensorBoard's internal modules): ``pip install "mlplab[tensorboard]"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlplab.errors import ConfigError
from mlplab.train.observers import Observer, TrainingState
from mlplab.train.run_folder import check_writable

INSTALL_HINT = 'TensorBoard export needs tensorboardX: pip install "mlplab[tensorboard]".'

#: Bucket count of the histograms (TensorBoard re-bins anyway; 30 keeps the files small).
HISTOGRAM_BINS = 30


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return SummaryWriter


def finite(values: np.ndarray) -> np.ndarray:
    """The finite values, flattened, as float64 (a diverged run's NaN would break the histogram);
    one 0 when none is finite, so the histogram still exists at that step."""
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    return values if values.size else np.zeros(1)


def hidden_units_grid(W1: np.ndarray, side: int = 28, pad: int = 1) -> np.ndarray:
    """Tile each hidden unit's input weights ``W1[:, j]`` as a ``side×side`` image: ``(rows, cols)``.

    Each tile is scaled symmetrically by its own largest |weight| to [-1, 1], so the sign is visible.
    """
    n_in, n_units = W1.shape
    if n_in != side * side:
        raise ConfigError(f"hidden-unit images need {side * side} inputs per unit, got {n_in}.")
    cols = int(np.ceil(np.sqrt(n_units)))
    rows = int(np.ceil(n_units / cols))
    grid = np.zeros((rows * (side + pad) + pad, cols * (side + pad) + pad))
    for j in range(n_units):
        tile = W1[:, j].reshape(side, side)
        scale = np.max(np.abs(tile)) or 1.0
        r, c = divmod(j, cols)
        top, left = pad + r * (side + pad), pad + c * (side + pad)
        grid[top : top + side, left : left + side] = tile / scale
    return grid


def rgb_image(grid: np.ndarray) -> np.ndarray:
    """A [-1, 1] array as an RGB image ``(4·rows, 4·cols, 3)`` uint8 in the figures' diverging colormap
    (enlarged 4× for legibility)."""
    import matplotlib

    from mlplab.viz.theme import DIVERGING_CMAP

    big = np.kron(grid, np.ones((4, 4)))
    rgba = matplotlib.colormaps[DIVERGING_CMAP]((big + 1.0) / 2.0)  # (H, W, 4) floats in [0, 1]
    return (rgba[..., :3] * 255).round().astype(np.uint8)


class TensorBoardWriter(Observer):
    """Writes events to ``logdir/train`` (loss, train accuracy, histograms, image) and ``logdir/test``."""

    def __init__(self, logdir: str | Path, loss_every: int = 10) -> None:
        self._writer_cls = _summary_writer()  # says how to install it if missing
        self.logdir = Path(logdir)
        self.loss_every = loss_every
        self.train_writer = None
        self.test_writer = None
        # checked now, when the writer is made: before the trainer creates its run folder
        for part in ("train", "test"):
            check_writable(self.logdir / part, "choose another folder with --tensorboard", "TensorBoard folder")

    def on_start(self, state: TrainingState) -> None:
        self.train_writer = self._writer_cls(str(self.logdir / "train"))
        self.test_writer = self._writer_cls(str(self.logdir / "test"))

    def on_iteration(self, state: TrainingState) -> None:
        if state.iteration % self.loss_every == 0:
            self.train_writer.add_scalar("loss", float(state.loss), state.iteration)

    def on_evaluation(self, state: TrainingState) -> None:
        h, step = state.history, state.history.iterations[-1]
        for writer, acc, loss in ((self.train_writer, h.train_acc, h.train_loss),
                                  (self.test_writer, h.test_acc, h.test_loss)):
            writer.add_scalar("accuracy", float(acc[-1]), step)
            writer.add_scalar("eval_loss", float(loss[-1]), step)
        for key, value in state.network.params.items():
            self.train_writer.add_histogram(f"weights/{key}", finite(value), step, bins=HISTOGRAM_BINS)
            if key in state.grads:
                self.train_writer.add_histogram(f"gradients/{key}", finite(state.grads[key]), step,
                                                bins=HISTOGRAM_BINS)
        W1 = state.network.params["W1"]
        if W1.shape[0] == 28 * 28:
            self.train_writer.add_image("hidden_units", rgb_image(hidden_units_grid(W1)), step, dataformats="HWC")

    def on_end(self, state: TrainingState) -> None:
        for writer in (self.train_writer, self.test_writer):
            if writer is not None:
                writer.flush()
                writer.close()
