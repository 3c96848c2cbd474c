"""Every figure of a run folder, drawn from the folder's own records.

This is what ``mlplab train``, ``mlplab plot``, ``mlplab report`` and the web app call. The figure
functions themselves take arrays (a history, a parameter dict, test images), never file names; this
module reads the folder once (:func:`load_run_data`) and hands each function what it needs.

``at_eval=k`` draws the run as it was at evaluation ``k`` (0-based, negative counts from the end):
the parameters come from ``snapshots.npz`` and the curves stop at that evaluation. ``None`` draws
the final state (``model.npz`` and the whole history).

Each figure's module (and with it matplotlib) is imported where that figure is drawn, not here: the
process that trained a run hands its figures to the drawing processes and writes the report, and
importing matplotlib.pyplot there would cost it 0.3 CPU-seconds while they draw (measured).

Example
-------
>>> result = draw_run("runs/demo", theme="light", formats=("png", "svg"))  # doctest: +SKIP
>>> result.paths["accuracy"]                                                       # doctest: +SKIP
[PosixPath('runs/demo/figures/accuracy.png'), PosixPath('runs/demo/figures/accuracy.svg')]
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from mlplab.data.reference import is_book_run, load_book_curve
from mlplab.errors import ConfigError, MlplabError, RunFolderError
from mlplab.nn.functions import softmax
from mlplab.nn.gradcheck import ParamCheck, gradient_check
from mlplab.nn.networks import network_from_params
from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStats, load_layer_stats
from mlplab.train.run_folder import (
    SNAPSHOTS,
    Run,
    atomic_write_bytes,
    clean_stale_temp_files,
    load_run,
    load_snapshots,
)
from mlplab.train.run_schema import parse_config, read_file
from mlplab.train.trainer import initial_network, load_dataset, load_test_set
from mlplab.viz.theme import check_format, check_theme, current_dpi, figure_bytes, figure_dpi, save_figure
from mlplab.viz.training.drawing_processes import (
    AT_START,
    PROCESS_START,
    DrawingProcesses,
    default_workers,
    job_units,
    split_jobs,
)
from mlplab.viz.training.figure_set import FigureSet, figures_dir

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: The animated GIF of the hidden units across evaluations (``figures/hidden_units.gif``).
ANIMATION = "hidden_units_animation"
#: The test digit whose activations fill the architecture drawing (test #0 is a 7).
DIGIT_INDEX = 0
#: Test digits for the run's gradient check (more cost time, not information).
GRADCHECK_SAMPLES = 1


@dataclass
class RunData:
    """A run folder read once: the run, its snapshots (``None`` if absent) and its test set."""

    run: Run
    snapshots: dict[str, np.ndarray] | None
    x_test: np.ndarray  # (N, 784)
    t_test: np.ndarray  # (N,)
    n_train: int  # training images the run sampled from (for the epoch axis)
    _probabilities: dict = field(default_factory=dict, repr=False)
    _layer_stats: LayerStats | None = field(default=None, repr=False)

    @property
    def layer_stats(self) -> LayerStats:
        """``layer_stats.json`` (read once); a ConfigError (the figure is skipped) when there is none."""
        if self._layer_stats is None:
            try:
                stats = load_layer_stats(self.run.path)
            except RunFolderError as exc:  # an old run without statistics, or a damaged file
                raise ConfigError(str(exc)) from None
            if not stats.iterations:
                raise ConfigError(f"{self.run.path} recorded no evaluation (the run stopped before its first "
                                  "one), so there is no layer health to draw.")
            self._layer_stats = stats
        return self._layer_stats

    @property
    def n_evaluations(self) -> int:
        return self.run.history.n_evaluations

    def eval_index(self, at_eval: int | None) -> int | None:
        """``at_eval`` as a non-negative index (``-1`` → last), checked against the snapshots."""
        if at_eval is None:
            return None
        n = 0 if self.snapshots is None else len(self.snapshots["iterations"])
        if n == 0:
            raise ConfigError("this run recorded no evaluation, so it has no snapshots to replay; "
                              "draw its final state instead (leave out at_eval / --at-eval).")
        if not -n <= at_eval < n:
            raise ConfigError(
                f"at_eval must be an evaluation index between 0 and {n - 1} (or -1 for the last); "
                f"got {at_eval}. The run folder has {n} snapshots."
            )
        return at_eval % n

    def params_at(self, k: int | None) -> dict[str, np.ndarray]:
        """The final parameters (``k=None``) or those recorded at evaluation ``k``."""
        if k is None:
            return self.run.network.params
        assert self.snapshots is not None
        return {name: self.snapshots[name][k] for name in self.run.network.params}

    def history_until(self, k: int | None) -> History:
        """The history as it stood at evaluation ``k`` (the whole history for ``None``)."""
        h = self.run.history
        if k is None:
            return h
        n_iter = int(h.iterations[k]) + 1
        return dataclasses.replace(
            h, iterations=h.iterations[: k + 1], train_acc=h.train_acc[: k + 1], test_acc=h.test_acc[: k + 1],
            train_loss=h.train_loss[: k + 1], test_loss=h.test_loss[: k + 1],
            eval_seconds=h.eval_seconds[: k + 1], loss=h.loss[:n_iter], val_acc=h.val_acc[: k + 1],
            val_loss=h.val_loss[: k + 1],
            status=f"evaluation {k} of 0–{h.n_evaluations - 1}",  # counted from 0, as --at K
        )

    @property
    def iters_per_epoch(self) -> int:
        """As the trainer counts an epoch: ``n_train // batch_size`` iterations."""
        return max(self.n_train // self.run.config.batch_size, 1)

    def probabilities(self, k: int | None) -> np.ndarray:
        """Softmax outputs ``(N, 10)`` of the network at ``k`` for every test digit (cached)."""
        if k not in self._probabilities:
            network = network_from_params(self.params_at(k), self.run.sizes, self.run.config.activation)
            with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's huge weights
                self._probabilities[k] = np.nan_to_num(softmax(network.predict(self.x_test.astype(np.float64))))
        return self._probabilities[k]


def load_run_data(run_dir: str | os.PathLike) -> RunData:
    """Read the run folder, its snapshots (if any) and the test set it was evaluated on."""
    run = load_run(run_dir)
    if (Path(run_dir) / SNAPSHOTS).is_file():
        snapshots = load_snapshots(run_dir, run)  # damaged: a RunFolderError naming the file
    else:
        snapshots = None  # a run stopped before its first evaluation: the final model still draws
    x_test, t_test = load_test_set(run.config)  # only the test set: the figures never need the training set
    n_train = run.record.get("n_train")
    if n_train is None:  # a folder written before config.json recorded it: count the training images
        n_train = load_dataset(run.config)[0][0].shape[0]
    return RunData(run=run, snapshots=snapshots, x_test=x_test.reshape(x_test.shape[0], -1),
                   t_test=np.asarray(t_test), n_train=int(n_train))


def _architecture(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.architecture import plot_architecture, run_contribution_scale

    i = DIGIT_INDEX
    drawn = plot_architecture(data.params_at(k), data.run.sizes, activation=data.run.config.activation,
                              x=data.x_test[i], label=int(data.t_test[i]), theme=theme,
                              scale=run_contribution_scale(data, data.x_test[i]))  # one scale for a replay
    if k is not None:
        ax = drawn["ax"]
        ax.set_title(f"{ax.get_title()}, after iteration {data.run.history.iterations[k]}", fontsize=12)
    return drawn["figure"]


def _hidden_units(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.hidden_units import plot_hidden_units, shared_limit

    iteration = "final" if k is None else f"iteration {data.run.history.iterations[k]}"
    W1 = data.params_at(k)["W1"]
    title = f"Hidden units ({iteration}): each unit's {W1.shape[0]} input weights as an image"
    vmax = None
    if k is not None:  # a replay: the run's one colour scale, so early weights look as small as they are
        vmax = shared_limit([data.snapshots["W1"], data.params_at(None)["W1"]])
    return plot_hidden_units(W1, theme=theme, title=title, vmax=vmax)["figure"]


def _confusion(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.confusion import confusion_matrix, plot_confusion

    predicted = np.argmax(data.probabilities(k), axis=1)
    n_classes = data.run.sizes[-1]
    return plot_confusion(confusion_matrix(data.t_test, predicted, n_classes), theme=theme)["figure"]


def _mistakes(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.confusion import plot_mistakes

    return plot_mistakes(data.x_test, data.t_test, data.probabilities(k), theme=theme)["figure"]


def _predictions(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.predictions import plot_predictions

    return plot_predictions(data.x_test, data.t_test, data.probabilities(k), theme=theme)["figure"]


def _gradcheck(data: RunData, k: int | None, theme: str) -> Figure:
    if k is None:  # the run's own figure: its untrained network, as the book's gradient_check.py
        return initial_gradient_check(data.run.config, data.run.sizes, data.x_test, data.t_test, theme)
    return gradient_check_figure(data.params_at(k), data.run.sizes, data.run.config.activation, data.x_test,
                                 data.t_test, f"{data.run.network.describe()} network (weights after iteration "
                                 f"{data.run.history.iterations[k]})", theme)


def initial_gradient_check(config: TrainConfig, sizes: Sequence[int], x_test: np.ndarray, t_test: np.ndarray,
                           theme: str) -> Figure:
    """The gradient check of a run: backprop against central differences on the network the run
    started from (rebuilt from its seed), as the book's ``gradient_check.py`` checks a fresh network.

    Whether backprop is right does not depend on how far training got, so the check needs only the
    run's configuration: it is drawn while the network trains (:mod:`~mlplab.viz.training.drawing_processes`).
    The untrained network is also the fair place to check: no unit is saturated yet, so no gradient
    is so small that its relative error means nothing, and a diverged run is still checked.
    """
    network = initial_network(config, sizes[0], sizes[-1], dtype=np.float64)
    what = f"{network.describe()} network (its initial weights, seed {config.seed})"
    return gradient_check_figure(network.params, sizes, config.activation, x_test, t_test, what, theme)


def gradient_check_figure(params: dict[str, np.ndarray], sizes: Sequence[int], activation: str,
                          x_test: np.ndarray, t_test: np.ndarray, what: str, theme: str) -> Figure:
    """:func:`gradient_check_on_ink` on the first :data:`GRADCHECK_SAMPLES` test digits, drawn."""
    from mlplab.viz.training.gradcheck import plot_gradient_check

    x = np.asarray(x_test[:GRADCHECK_SAMPLES], dtype=np.float64).reshape(GRADCHECK_SAMPLES, -1)
    checks, numerical, backprop, n_ink = gradient_check_on_ink(params, sizes, activation, x,
                                                               np.asarray(t_test[:GRADCHECK_SAMPLES]))
    digits = "one test digit" if x.shape[0] == 1 else f"{x.shape[0]} test digits"
    subtitle = f"this run's {what}, float64, on {digits}; W1 checked on its {n_ink} inked pixels"
    return plot_gradient_check(checks, numerical, backprop, theme=theme, subtitle=subtitle)["figure"]


def gradient_check_on_ink(
    params: dict[str, np.ndarray], sizes: Sequence[int], activation: str, x: np.ndarray, t: np.ndarray
) -> tuple[list[ParamCheck], dict[str, np.ndarray], dict[str, np.ndarray], int]:
    """:func:`mlplab.nn.gradient_check` of the network on ``x`` ``(N, 784)``, skipping blank pixels.

    A pixel that is 0 in every digit of ``x`` contributes nothing to the loss, so both gradients of
    its row of ``W1`` are exactly 0 (∂L/∂W1[i, j] = x_i · δ_j). Checking the network restricted to the
    inked pixels computes the same loss and the same gradients for every other weight, at a fifth of
    the cost (central differences need two forward passes per weight). The blank rows are put back
    as zeros, so the results have the full network's shapes.
    """
    ink = np.flatnonzero(np.any(x != 0, axis=0))  # (n_ink,) pixel indices
    sub_params = {**params, "W1": np.asarray(params["W1"])[ink]}
    network = network_from_params(sub_params, (ink.size, *sizes[1:]), activation)
    checks, numerical, backprop = gradient_check(network, x[:, ink], t)
    shape = (int(sizes[0]), int(sizes[1]))

    def with_blank_rows(grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        W1 = np.zeros(shape)
        W1[ink] = grads["W1"]  # (n_ink, H) -> (784, H)
        return {**grads, "W1": W1}

    checks = [c if c.name != "W1" else dataclasses.replace(
        c, shape=shape, mean_abs_diff=c.mean_abs_diff * ink.size / shape[0]) for c in checks]
    return checks, with_blank_rows(numerical), with_blank_rows(backprop), int(ink.size)


def _accuracy(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.curves import plot_accuracy

    # The book's curve belongs to one experiment: drawn beside that one only, never beside any other run.
    book = load_book_curve() if is_book_run(data.run.config, data.run.sizes) else None
    return plot_accuracy(data.history_until(k), reference=book, theme=theme,
                         iters_per_epoch=data.iters_per_epoch)["figure"]


def _loss(data: RunData, k: int | None, theme: str) -> Figure:
    from mlplab.viz.training.curves import plot_loss

    return plot_loss(data.history_until(k), theme=theme, iters_per_epoch=data.iters_per_epoch)["figure"]


def _layer_health_drawer(name: str) -> Callable[[RunData, int | None, str], Figure]:
    """The layer-health figures (:mod:`mlplab.viz.diagnose`), drawn from ``layer_stats.json``."""
    def draw(data: RunData, k: int | None, theme: str) -> Figure:
        from mlplab.viz import diagnose

        if k is not None:
            raise ConfigError("layer health is a history over all evaluations, not a state to replay; "
                              "it is drawn for the final state only (leave out --at-eval).")
        plot = {"layer_health": diagnose.plot_layer_health, "gradient_flow": diagnose.plot_gradient_flow,
                "activations": diagnose.plot_activation_histograms}[name]
        return plot(data.layer_stats, theme=theme)["figure"]
    return draw


#: Figures of the whole history (layer statistics): drawn for the final state, never replayed ``at_eval``.
FINAL_ONLY = ("layer_health", "gradient_flow", "activations")
#: THE figure registry: every figure of a run, in the order the report shows them (the GIF goes after
#: ``hidden_units``). The CLI (``train``, ``plot``), the web app and the report all draw from it.
_DRAW: dict[str, Callable[[RunData, int | None, str], Figure]] = {
    "accuracy": _accuracy, "loss": _loss, "architecture": _architecture, "hidden_units": _hidden_units,
    "confusion": _confusion, "mistakes": _mistakes, "predictions": _predictions, "gradcheck": _gradcheck,
    **{name: _layer_health_drawer(name) for name in FINAL_ONLY},
}
FIGURES = tuple(_DRAW)


def make_figure(name: str, data: RunData, *, theme: str = "dark", at_eval: int | None = None) -> Figure:
    """One figure of the run as a matplotlib ``Figure`` (the caller saves or closes it)."""
    if name not in _DRAW:
        raise ConfigError(f"unknown figure {name!r}; choose one of: {', '.join(FIGURES)}.")
    return _DRAW[name](data, data.eval_index(at_eval), check_theme(theme))


def draw_run(
    run_dir: str | os.PathLike,
    theme: str = "dark",
    formats: Sequence[str] = ("png",),
    at_eval: int | None = None,
    *,
    names: Sequence[str] | None = None,
    animation: bool = True,
    data: RunData | None = None,
    workers: int | None = 1,
    processes: DrawingProcesses | None = None,
    drawn_at_start: Future | None = None,
    while_waiting: Callable[[], None] | None = None,
) -> FigureSet:
    """Draw the figures ``names`` (default: all of :data:`FIGURES`; at an earlier evaluation, all but
    :data:`FINAL_ONLY`) of a run folder into ``RUN/figures/`` in each of ``formats``.

    Also writes ``hidden_units.gif`` (the hidden units at every evaluation) when ``animation`` and
    the run has snapshots. A figure that cannot be drawn for this run (e.g. no evaluation recorded
    for the animation) is listed in ``skipped`` with the reason instead of stopping the others.

    ``workers`` processes draw: this one and ``workers - 1`` spawned ones with one BLAS thread each,
    the jobs shared by their cost (:func:`~mlplab.viz.training.drawing_processes.split_jobs`); ``None``
    chooses (:func:`~mlplab.viz.training.drawing_processes.default_workers`: two for a full set on a
    machine with two cores). ``processes`` (started before, e.g. while the run trained) draw everything
    instead, and this process only waits. Each figure is drawn by the same code either way. The
    default is 1 because a spawned process re-imports the caller's main module: from a script, use
    ``workers=None`` inside ``if __name__ == "__main__":`` (the CLI and the web app do).
    ``drawn_at_start`` holds the figures of :data:`~mlplab.viz.training.drawing_processes.AT_START`,
    drawn while the run trained (:class:`~mlplab.viz.training.drawing_processes.DrawWhileTraining`):
    they are collected, not drawn again.
    ``while_waiting`` is called once this process has drawn its share, before it waits for the others.
    """
    started = time.perf_counter()
    check_theme(theme)
    formats = [check_format(f) for f in formats]
    if names is None:
        names = FIGURES if at_eval is None else tuple(n for n in FIGURES if n not in FINAL_ONLY)
    for name in names:
        if name not in _DRAW:
            raise ConfigError(f"unknown figure {name!r}; choose one of: {', '.join(FIGURES)}.")
    data = data if data is not None else load_run_data(run_dir)
    k = data.eval_index(at_eval)
    folder = _made(figures_dir(run_dir, k))
    clean_stale_temp_files(run_dir)  # what a killed `plot` or `train` left half-written
    result = FigureSet(folder=folder)
    cpu = time.process_time()
    order = jobs = [*names, *([ANIMATION] if animation and k is None else [])]
    futures = []
    if drawn_at_start is not None and k is None:
        jobs = [j for j in jobs if j not in AT_START]
        futures.append(drawn_at_start)
    own = None
    if processes is None:
        workers = default_workers(jobs) if workers is None else workers
        if workers > 1:
            own = processes = DrawingProcesses(workers - 1)  # started now: they get ready while we draw
        loads = [0.0] + [PROCESS_START] * (workers - 1)  # this process, then the ones still starting
        mine, *theirs = split_jobs(jobs, loads)
    else:  # ready and waiting: they draw everything, each unit taken by whichever process is free first
        mine, theirs = [], job_units(jobs)  # the costliest first, so that the last ones to finish are short
    result.processes = (1 if mine else 0) + (processes.n if processes is not None else 0)
    result.started_early = own is None and processes is not None
    try:
        dpi = current_dpi()
        futures += [processes.submit(_draw_in_worker, Path(run_dir), at_eval, group, theme, formats, dpi)
                    for group in theirs if group]
        _draw_run_jobs(result, data, k, mine, theme, formats)
        if while_waiting is not None:  # other work for this process (the report's text) meanwhile
            while_waiting()
        for future in futures:  # each worker's figures: paths, what it skipped, its CPU seconds
            try:
                paths, skipped, worker_cpu = future.result()
            except MlplabError as exc:  # while training (e.g. the disk was full then): the rest still draws
                if future is not drawn_at_start:
                    raise
                paths, skipped, worker_cpu = {}, dict.fromkeys(AT_START, str(exc)), 0.0
            result.paths.update(paths)
            result.skipped.update(skipped)
            result.worker_cpu_seconds += worker_cpu
        if processes is not None:
            result.worker_cpu_seconds += processes.ready_cpu_seconds()  # what getting ready cost them
    finally:
        if own is not None:
            own.shutdown()
    result.paths = {name: result.paths[name] for name in order if name in result.paths}  # registry order
    result.cpu_seconds = time.process_time() - cpu + result.worker_cpu_seconds
    result.seconds = time.perf_counter() - started
    return result


def _draw_in_worker(run_dir: Path, at_eval: int | None, jobs: Sequence[str], theme: str,
                    formats: Sequence[str], dpi: float) -> tuple[dict[str, list[Path]], dict[str, str], float]:
    """In a worker process: draw ``jobs`` of the run folder as :func:`draw_run` would, at the caller's
    ``dpi`` (a spawned process does not inherit the caller's ``figure_dpi`` context); also returns the
    CPU time this took."""
    cpu = time.process_time()
    data = _run_data_here(Path(run_dir))
    k = data.eval_index(at_eval)
    result = FigureSet(folder=figures_dir(run_dir, k))
    with figure_dpi(dpi):
        _draw_run_jobs(result, data, k, jobs, theme, formats)
    return result.paths, result.skipped, time.process_time() - cpu


#: In a drawing process: the run folder it read last, with the files' stamps it was read at.
_LAST_READ: dict[tuple, RunData] = {}


def _run_data_here(run_dir: Path) -> RunData:
    """The run folder read once per drawing process for all the figures it is handed one by one (and
    the test set's forward pass done once for the three figures that use it); read again if any
    file in it changed (its name, size or modification time)."""
    with os.scandir(run_dir) as entries:
        stamp = (str(run_dir.resolve()), *sorted((e.name, e.stat().st_size, e.stat().st_mtime_ns)
                                                  for e in entries if e.is_file()))
    if stamp not in _LAST_READ:
        _LAST_READ.clear()
        _LAST_READ[stamp] = load_run_data(run_dir)
    return _LAST_READ[stamp]


def draw_at_start(run_dir: Path, theme: str, formats: Sequence[str], dpi: float
                  ) -> tuple[dict[str, list[Path]], dict[str, str], float]:
    """In a drawing process, as the run starts training: the figures of
    :data:`~mlplab.viz.training.drawing_processes.AT_START`, from ``config.json`` alone."""
    cpu = time.process_time()
    config, _, sizes = parse_config(read_file(Path(run_dir) / "config.json"))
    x_test, t_test = load_test_set(config)
    result = FigureSet(folder=_made(figures_dir(run_dir)))
    with figure_dpi(dpi):
        _draw_into(result, AT_START, lambda name: initial_gradient_check(config, sizes, x_test, t_test, theme),
                   formats)
    return result.paths, result.skipped, time.process_time() - cpu


def read_test_set(run_dir: Path) -> None:
    """In a drawing process, as the run starts training: read the run's test set, so that its files
    are in this process's cache (:func:`mlplab.data.mnist.load_raw`) when the figures are asked for."""
    config, _, _ = parse_config(read_file(Path(run_dir) / "config.json"))
    load_test_set(config)


def _made(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot create {folder} ({exc.strerror}); check the folder's permissions.") from None
    return folder


def _draw_run_jobs(result: FigureSet, data: RunData, k: int | None, jobs: Sequence[str], theme: str,
                   formats: Sequence[str]) -> None:
    _draw_into(result, jobs, lambda name: _DRAW[name](data, k, theme), formats,
               animation=lambda: animation_bytes(data, theme))


def _draw_into(result: FigureSet, jobs: Sequence[str], draw: Callable[[str], Figure], formats: Sequence[str],
               animation: Callable[[], bytes | None] | None = None) -> None:
    """Draw each of ``jobs`` with ``draw(name)`` (the GIF with ``animation()``) into ``result.folder``;
    a figure this run cannot have is listed in ``result.skipped`` with the reason."""
    folder = result.folder
    try:
        for name in jobs:
            if name == ANIMATION:
                try:
                    gif = animation() if animation is not None else None
                except ConfigError as exc:
                    gif, result.skipped[ANIMATION] = None, str(exc)
                if gif is None:
                    result.skipped.setdefault(ANIMATION, NO_ANIMATION)
                else:
                    atomic_write_bytes(folder / "hidden_units.gif", gif)
                    result.paths[ANIMATION] = [folder / "hidden_units.gif"]
                continue
            try:
                fig = draw(name)
            except ConfigError as exc:  # e.g. hidden-unit images of inputs that are not square images
                result.skipped[name] = str(exc)
                continue
            try:
                result.paths[name] = [save_figure(fig, folder / f"{name}.{fmt}", close=False) for fmt in formats]
            finally:
                import matplotlib.pyplot as plt  # loaded by the drawing above (see the module docstring)

                plt.close(fig)
    except OSError as exc:  # disk full, permissions changed under us, ...
        raise RunFolderError(f"cannot write figures to {folder} ({exc.strerror or type(exc).__name__}); "
                             "free some space or check the folder's permissions.") from None


NO_ANIMATION = "the run recorded no evaluation, so there are no snapshots to animate"


def animation_bytes(data: RunData, theme: str = "dark") -> bytes | None:
    """The hidden units at every evaluation as an animated GIF, or ``None`` without snapshots."""
    from mlplab.viz.training.hidden_units import hidden_units_gif

    snaps = data.snapshots
    if snaps is None or len(snaps["iterations"]) == 0:
        return None
    h = data.run.history
    final = (data.params_at(None)["W1"], len(h.loss) - 1, None)  # the last frame is the final model
    return hidden_units_gif(snaps["W1"], snaps["iterations"], theme=theme,
                            test_acc=h.test_acc[: len(snaps["iterations"])], final=final)


def render_images(
    data: RunData, theme: str = "dark", *, names: Sequence[str] = FIGURES, animation: bool = True
) -> dict[str, tuple[str, bytes]]:
    """Every figure in memory as ``name → (mime type, bytes)`` (PNG, and the GIF): for a report or a
    web page that should not touch the run folder."""
    import matplotlib.pyplot as plt

    images: dict[str, tuple[str, bytes]] = {}
    for name in names:
        try:
            fig = make_figure(name, data, theme=theme)
        except ConfigError:  # e.g. no layer statistics in an old run: the report goes without it
            continue
        try:
            images[name] = ("image/png", figure_bytes(fig, "png"))
        finally:
            plt.close(fig)
    if animation:
        gif = animation_bytes(data, theme)
        if gif is not None:
            images[ANIMATION] = ("image/gif", gif)
    return images


__all__ = [
    "ANIMATION", "FIGURES", "FINAL_ONLY", "FigureSet", "RunData", "animation_bytes", "draw_run", "figures_dir",
    "load_run_data", "make_figure", "render_images",
]
