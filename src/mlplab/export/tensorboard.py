"""Write a training run as TensorBoard event files, live, as an observer of the trainer.

What a teacher sees in TensorBoard: ``loss`` every iteration; ``accuracy/train`` and ``accuracy/test``
per evaluation (one chart: TensorBoard overlays tags that share the ``accuracy/`` prefix when the
runs are written to sibling folders, so train and test go to ``DIR/train`` and ``DIR/test`` under the
same tag ``accuracy``); weight and gradient histograms per evaluation; the hidden units' input weights
as one image per evaluation.

Only the ``tensorboard`` package is needed (its protobufs and event-file writer), not TensorFlow or
PyTorch: ``pip install "mlplab[tensorboard]"``.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from mlplab.errors import ConfigError
from mlplab.train.observers import Observer, TrainingState
from mlplab.train.run_folder import check_writable

INSTALL_HINT = 'TensorBoard export needs the tensorboard package: pip install "mlplab[tensorboard]".'

#: Bucket count of the histograms (TensorBoard re-bins anyway; 30 keeps the files small).
HISTOGRAM_BINS = 30


def _tensorboard():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None
    return event_pb2, summary_pb2, EventFileWriter


def check_available() -> None:
    """Raise a one-line ConfigError with the install command when tensorboard is missing."""
    _tensorboard()


def histogram_proto(values: np.ndarray, bins: int = HISTOGRAM_BINS):
    """A TensorBoard HistogramProto from raw values: counts in ``bins`` equal-width buckets."""
    _, summary_pb2, _ = _tensorboard()
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        values = np.zeros(1)
    counts, edges = np.histogram(values, bins=bins)
    return summary_pb2.HistogramProto(
        min=float(values.min()), max=float(values.max()), num=float(values.size),
        sum=float(values.sum()), sum_squares=float(np.sum(values * values)),
        bucket_limit=[float(e) for e in edges[1:]], bucket=[float(c) for c in counts],
    )


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


def png_bytes(grid: np.ndarray, cmap: str = "RdBu_r") -> bytes:
    """Encode a [-1, 1] array as a PNG with a diverging colormap (enlarged 4× for legibility)."""
    import matplotlib.image

    big = np.kron(grid, np.ones((4, 4)))
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, big, cmap=cmap, vmin=-1, vmax=1, format="png")
    return buffer.getvalue()


class TensorBoardWriter(Observer):
    """Writes events to ``logdir/train`` (loss, train accuracy, histograms, image) and ``logdir/test``."""

    def __init__(self, logdir: str | Path, loss_every: int = 10) -> None:
        event_pb2, self._summary_pb2, writer_cls = _tensorboard()
        self._event_pb2 = event_pb2
        self.logdir = Path(logdir)
        self.loss_every = loss_every
        self._writer_cls = writer_cls
        self.train_writer = None
        self.test_writer = None
        # checked now, when the writer is made: before the trainer creates its run folder
        for part in ("train", "test"):
            check_writable(self.logdir / part, "choose another folder with --tensorboard", "TensorBoard folder")

    def on_start(self, state: TrainingState) -> None:
        self.train_writer = self._writer_cls(str(self.logdir / "train"))
        self.test_writer = self._writer_cls(str(self.logdir / "test"))

    def _write(self, writer, step: int, values: list) -> None:
        summary = self._summary_pb2.Summary(value=values)
        writer.add_event(self._event_pb2.Event(wall_time=time.time(), step=step, summary=summary))

    def _scalar(self, tag: str, value: float):
        return self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value))

    def on_iteration(self, state: TrainingState) -> None:
        if state.iteration % self.loss_every == 0:
            self._write(self.train_writer, state.iteration, [self._scalar("loss", state.loss)])

    def on_evaluation(self, state: TrainingState) -> None:
        h, step = state.history, state.history.iterations[-1]
        Value = self._summary_pb2.Summary.Value
        train_values = [self._scalar("accuracy", h.train_acc[-1]), self._scalar("eval_loss", h.train_loss[-1])]
        for key, value in state.network.params.items():
            train_values.append(Value(tag=f"weights/{key}", histo=histogram_proto(value)))
            if key in state.grads:
                train_values.append(Value(tag=f"gradients/{key}", histo=histogram_proto(state.grads[key])))
        W1 = state.network.params["W1"]
        if W1.shape[0] == 28 * 28:
            grid = hidden_units_grid(W1)
            image = self._summary_pb2.Summary.Image(
                height=grid.shape[0] * 4, width=grid.shape[1] * 4, colorspace=4, encoded_image_string=png_bytes(grid))
            train_values.append(Value(tag="hidden_units", image=image))
        self._write(self.train_writer, step, train_values)
        self._write(self.test_writer, step, [self._scalar("accuracy", h.test_acc[-1]),
                                             self._scalar("eval_loss", h.test_loss[-1])])

    def on_end(self, state: TrainingState) -> None:
        for writer in (self.train_writer, self.test_writer):
            if writer is not None:
                writer.flush()
                writer.close()
