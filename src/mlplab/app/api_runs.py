"""``/api/runs``: the runs folder, one run's records, its pictures at any evaluation, and its live stream.

Everything is computed by the library — :mod:`mlplab.viz.training.run_figures` reads the run folder
(``RunData``: parameters at evaluation ``k`` from ``snapshots.npz``, softmax outputs on the test set),
:mod:`mlplab.viz.training.confusion` counts the confusion matrix and draws mistakes,
:mod:`mlplab.viz.training.architecture` draws the network, :mod:`mlplab.diagnose` finds the insights.
This module only picks what to send.

``at`` is an evaluation index (0 = first, −1 = last; leave it out for the final state), as in
``mlplab plot --at-eval``. While a run this server started is training, the pictures without ``at``
show it at its latest evaluation (:func:`run_data`), so the Run page refreshes them at each one.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response, StreamingResponse

from mlplab.app.responses import BusyError, NotFoundError, answer
from mlplab.app.runs_folder import RunDataCache, RunsFolder
from mlplab.app.schemas import MAX_TEST_SIZE, Theme
from mlplab.app.streaming import follow, stream_is_live
from mlplab.errors import ConfigError, RunFolderError
from mlplab.train.run_folder import HISTORY, MODEL, SNAPSHOTS

router = APIRouter(prefix="/api/runs", tags=["runs"])

#: At most this many points of the per-iteration loss are sent (a 200 000-iteration run is 4 MB of JSON
#: otherwise); the moving average carries the trend, every k-th raw value the noise.
MAX_LOSS_POINTS = 4000

At = Query(None, ge=-1_000_000, le=1_000_000, description="evaluation index (0 first, -1 last); none: final")
ThemeQuery = Query("dark")


def _runs(request: Request) -> RunsFolder:
    return request.app.state.runs


def _cache(request: Request) -> RunDataCache:
    return request.app.state.run_data


def _render_lock(request: Request) -> threading.Lock:
    return request.app.state.render_lock


def run_data(request: Request, name: str) -> Any:
    """The :class:`~mlplab.viz.training.run_figures.RunData` the pictures of run ``name`` are drawn from: the
    finished run folder, or — while this server trains it — the network at its latest evaluation."""
    job = request.app.state.trainings.jobs.get(name)
    path = _runs(request).path(name, must_exist=job is None)
    if job is not None and job.active and job.training:
        data = job.live_data()
        if data is not None:
            return data
        if job.training:  # (else it has just finished: its folder is written)
            raise NotFoundError(f"run {name!r} has not reached its first evaluation yet; its pictures appear "
                                "then.")
    return _cache(request).get(path)


def _png(request: Request, draw: Callable[[], Any]) -> Response:
    """Draw a matplotlib figure (under the app's lock: pyplot is not thread-safe) and send it as PNG."""
    import matplotlib.pyplot as plt

    from mlplab.viz.theme import figure_bytes

    with _render_lock(request):
        fig = draw()
        try:
            data = figure_bytes(fig, "png")
        finally:
            plt.close(fig)
    return Response(data, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("")
def list_runs(request: Request) -> Response:
    """Every run in the runs folder (newest first) with its settings, status and final accuracies."""
    runs = _runs(request)
    return answer({"root": str(runs.root), "runs": runs.summaries()})


@router.get("/{name:path}/stream")
async def stream(name: str, request: Request) -> StreamingResponse:
    """Server-Sent Events: the run's ``stream.jsonl`` so far, then each new line (see :mod:`streaming`)."""
    job = request.app.state.trainings.jobs.get(name)
    # a run this server just started may not have written config.json yet (it loads the data first)
    path = _runs(request).path(name, must_exist=job is None)
    closing = request.app.state.closing
    events = follow(
        path,
        job_error=lambda: job.error if job is not None else None,
        job_active=lambda: job is not None and job.active,
        closing=closing.is_set,
        disconnected=request.is_disconnected,
    )
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/{name:path}/figure/{figure}.png")
def figure(request: Request, name: str, figure: str, at: int | None = At, theme: Theme = ThemeQuery) -> Response:
    """One figure of :data:`mlplab.viz.training.run_figures.FIGURES` as PNG (the layer-health figures, a history
    of the whole run, ignore ``at``)."""
    from mlplab.viz.training.run_figures import FIGURES, FINAL_ONLY, make_figure

    if figure not in FIGURES:
        raise NotFoundError(f"there is no figure {figure!r}; choose one of: {', '.join(FIGURES)}.")
    if figure in FINAL_ONLY:
        at = None
    data = run_data(request, name)
    data.eval_index(at)  # a bad index is a 400 before any drawing
    if _is_live(data) and figure == "hidden_units":  # titled with the iteration, not "final"
        from mlplab.viz.training.hidden_units import plot_hidden_units

        W1 = data.params_at(None)["W1"]
        title = f"Hidden units ({_state(data, None)}): each unit's {W1.shape[0]} input weights as an image"
        return _png(request, lambda: plot_hidden_units(W1, theme=theme, title=title)["figure"])
    return _png(request, lambda: make_figure(figure, data, theme=theme, at_eval=at))


def _is_live(data: Any) -> bool:
    """Whether ``data`` is a training run at its latest evaluation (:meth:`Job.live_data`)."""
    return data.run.history.status.startswith("running")


def _state(data: Any, k: int | None) -> str:
    """Which weights a picture shows, in words: "final", "iteration 600" or "iteration 600, training"."""
    if k is not None:
        return f"iteration {data.run.history.iterations[k]}"
    return f"iteration {data.run.history.iterations[-1]}, training" if _is_live(data) else "final"


@router.get("/{name:path}/confusion")
def confusion(request: Request, name: str, at: int | None = At) -> Response:
    """The confusion matrix on the test set at evaluation ``at``: ``matrix[t][p]`` counts digits of
    true class ``t`` predicted as ``p``; ``shares`` divides each row by its sum."""
    from mlplab.viz.training.confusion import confusion_matrix, row_normalised

    data = run_data(request, name)
    k = data.eval_index(at)
    predicted = np.argmax(data.probabilities(k), axis=1)
    matrix = confusion_matrix(data.t_test, predicted, data.run.sizes[-1])
    return answer({"matrix": matrix, "shares": row_normalised(matrix), "n": int(matrix.sum()),
                 "accuracy": float(np.trace(matrix)) / max(int(matrix.sum()), 1), **_when(data, k)})


def _when(data: Any, k: int | None) -> dict[str, Any]:
    """Which state a picture shows: ``eval`` index and ``iteration`` (``None``: the final model, or a
    training run's latest evaluation: ``live``)."""
    iteration = data.run.history.iterations[k] if k is not None else max(len(data.run.history.loss) - 1, 0)
    return {"eval": k, "iteration": int(iteration), "n_evaluations": data.n_evaluations, "live": _is_live(data)}


def _cell_rows(data: Any, k: int | None, true: int, pred: int, limit: int) -> tuple[np.ndarray, int]:
    """Test rows in cell ``(true, pred)``, the most confident first (at most ``limit``), and the cell's count."""
    from mlplab.viz.training.confusion import most_confident_mistakes

    n_classes = data.run.sizes[-1]
    for label, value in (("true", true), ("pred", pred)):
        if value >= n_classes:
            raise ConfigError(f"{label} must be a class between 0 and {n_classes - 1}, got {value}.")
    if true == pred:
        raise ConfigError(f"cell ({true}, {pred}) is on the diagonal: those digits were classified right; "
                          "pick a cell off the diagonal to see mistakes.")
    probabilities = data.probabilities(k)
    rows = np.flatnonzero((data.t_test == true) & (np.argmax(probabilities, axis=1) == pred))
    order = most_confident_mistakes(data.t_test[rows], probabilities[rows], limit)
    return rows[order], int(rows.size)


CellTrue = Query(ge=0, le=99, description="true class (row)")
CellPred = Query(ge=0, le=99, description="predicted class (column)")
Limit = Query(40, ge=1, le=200)


@router.get("/{name:path}/cell")
def cell(request: Request, name: str, true: int = CellTrue, pred: int = CellPred, at: int | None = At,
         limit: int = Limit) -> Response:
    """The test digits behind one confusion-matrix cell: indices and the probability given to ``pred``."""
    data = run_data(request, name)
    k = data.eval_index(at)
    rows, count = _cell_rows(data, k, true, pred, limit)
    return answer({"true": true, "pred": pred, "count": count, "indices": rows,
                 "probability": data.probabilities(k)[rows, pred], **_when(data, k)})


@router.get("/{name:path}/cell.png")
def cell_png(request: Request, name: str, true: int = CellTrue, pred: int = CellPred, at: int | None = At,
             limit: int = Limit, theme: Theme = ThemeQuery) -> Response:
    """Those digits drawn by :func:`mlplab.viz.training.confusion.plot_mistakes`, captioned ``true→pred p%``."""
    from mlplab.viz.training.confusion import plot_mistakes

    data = run_data(request, name)
    k = data.eval_index(at)
    rows, count = _cell_rows(data, k, true, pred, limit)
    if count == 0:
        raise NotFoundError(f"no test digit {true} was predicted as {pred}; pick a cell with a count above 0.")
    cols = min(10, len(rows))

    def draw():
        # plot_mistakes sorts by confidence itself; it is given exactly this cell's digits, on axes wide
        # enough for its two-line title even when the cell holds a single digit
        ax = _axes((max(6.8, 0.85 * cols + 0.4), 0.95 * -(-len(rows) // cols) + 0.9), theme)
        return plot_mistakes(data.x_test[rows], data.t_test[rows], data.probabilities(k)[rows], ax=ax,
                             theme=theme, n=limit, ncols=cols)["figure"]
    return _png(request, draw)


def _axes(size: tuple[float, float], theme: str):
    """A themed figure of ``size`` inches for a library function that draws on a given ``ax``."""
    import matplotlib.pyplot as plt

    from mlplab.viz.theme import theme_context

    with theme_context(theme):
        return plt.subplots(figsize=size, layout="constrained")[1]


@router.get("/{name:path}/network")
def network(request: Request, name: str, digit: int = Query(0, ge=0, le=MAX_TEST_SIZE - 1), at: int | None = At,
            theme: Theme = ThemeQuery) -> Response:
    """The architecture drawing for test digit ``digit`` (PNG as a data URL) and where each drawn
    hidden unit of the first layer is on it (figure fractions, origin top left), so a click can ask
    for that unit's weights."""
    import matplotlib.pyplot as plt

    from mlplab.viz.theme import figure_bytes
    from mlplab.viz.training.architecture import plot_architecture, run_contribution_scale

    data = run_data(request, name)
    k = data.eval_index(at)
    if digit >= len(data.t_test):
        raise ConfigError(f"digit must be a test-set index between 0 and {len(data.t_test) - 1}, got {digit}.")
    with _render_lock(request):
        drawn = plot_architecture(data.params_at(k), data.run.sizes, activation=data.run.config.activation,
                                  x=data.x_test[digit], label=int(data.t_test[digit]), theme=theme,
                                  scale=run_contribution_scale(data, data.x_test[digit]))  # one scale per run
        fig = drawn["figure"]
        try:
            png = figure_bytes(fig, "png")
            hidden = drawn["columns"][1]
            to_figure = fig.transFigure.inverted()
            ax = fig.axes[0]
            centres = to_figure.transform(ax.transData.transform(np.column_stack([hidden.x, hidden.y])))
            edge = to_figure.transform(ax.transData.transform(np.column_stack([hidden.x + hidden.radius, hidden.y])))
        finally:
            plt.close(fig)
    units = [{"unit": int(u), "x": float(cx), "y": float(1 - cy), "r": float(ex - cx)}
             for u, (cx, cy), (ex, _) in zip(hidden.shown, centres, edge, strict=True)]
    probabilities = drawn["probabilities"]
    return answer({"png": "data:image/png;base64," + base64.b64encode(png).decode(), "units": units,
                 "digit": digit, "label": int(data.t_test[digit]), "predicted": int(np.argmax(probabilities)),
                 "probabilities": probabilities, "n_test": len(data.t_test), "hidden_size": int(data.run.sizes[1]),
                 **_when(data, k)})


@router.get("/{name:path}/unit/{unit}.png")
def unit_png(request: Request, name: str, unit: int = PathParam(ge=0, le=100_000), at: int | None = At,
             theme: Theme = ThemeQuery) -> Response:
    """One hidden unit's input weights ``W1[:, unit]`` as a 28×28 image (:func:`plot_hidden_units`)."""
    from mlplab.viz.training.hidden_units import plot_hidden_units

    data = run_data(request, name)
    k = data.eval_index(at)
    W1 = data.params_at(k)["W1"]
    if unit >= W1.shape[1]:
        raise ConfigError(f"unit must be between 0 and {W1.shape[1] - 1} (the first hidden layer), got {unit}.")
    title = f"hidden unit {unit} ({_state(data, k)})\nred excites, blue inhibits"
    return _png(request, lambda: plot_hidden_units(W1[:, [unit]], ax=_axes((3.6, 3.3), theme), theme=theme,
                                                   title=title)["figure"])


#: Bins of the weight histograms: one set of edges for every layer, so their widths compare.
WEIGHT_BINS = 60


@router.get("/{name:path}/weights")
def weights(request: Request, name: str, at: int | None = At) -> Response:
    """A histogram of each weight matrix (``W1``, ``W2``, …; biases left out) at evaluation ``at``, on
    shared bins over ``±max |W|``, as densities (so a 784×50 and a 50×10 matrix compare), with each
    matrix's standard deviation: watch the weights spread out from their initial scale as the run learns."""
    data = run_data(request, name)
    k = data.eval_index(at)
    params = data.params_at(k)
    names = [key for key in params if key.startswith("W")]
    limit = max(float(np.nanmax(np.abs(params[key]))) for key in names) or 1.0
    edges = np.linspace(-limit, limit, WEIGHT_BINS + 1)
    layers = []
    for key in names:
        values = np.asarray(params[key], dtype=np.float64).ravel()
        density, _ = np.histogram(values, bins=edges, density=True)
        layers.append({"name": key, "shape": list(params[key].shape), "density": density,
                       "std": float(np.std(values)), "max_abs": float(np.max(np.abs(values)))})
    return answer({"edges": edges, "layers": layers, **_when(data, k)})


@router.api_route("/{name:path}/report.html", methods=["GET", "HEAD"])
def report(request: Request, name: str) -> Response:
    """The run's ``report.html`` (written by ``mlplab train`` / ``mlplab report``, or a training started here)."""
    from fastapi.responses import FileResponse

    from mlplab.viz.report import REPORT

    path = _runs(request).file(name, REPORT)  # resolved; a symlink out of the runs folder is refused (403)
    if not path.is_file():
        raise NotFoundError(f"run {name!r} has no {REPORT}; draw it with `mlplab report {path.parent}`.")
    return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-store"})


@router.delete("/{name:path}")
def delete_run(request: Request, name: str) -> Response:
    """Delete a finished run folder directly in the runs folder (never a link, a sweep's run or a running
    training: see :meth:`RunsFolder.deletable`). The page asks for confirmation first."""
    import shutil

    from mlplab.app.responses import BusyError

    path = _runs(request).deletable(name)
    job = request.app.state.trainings.jobs.get(name)
    if job is not None and job.active:
        raise BusyError(f"run {name!r} is training; stop it first, then delete it.")
    shutil.rmtree(path)  # removes links inside the folder, never what they point to
    request.app.state.trainings.jobs.pop(name, None)
    return answer({"deleted": name})


@router.get("/{name:path}")
def run_detail(request: Request, name: str) -> Response:
    """Everything the Run page needs that is not a picture: settings, curves, evaluations, diagnosis."""
    from mlplab.viz.report import REPORT
    from mlplab.viz.training.run_figures import FIGURES

    runs = _runs(request)
    path = runs.path(name)
    summary = runs.summary(name)
    detail: dict[str, Any] = {**summary, "complete": (path / MODEL).is_file() and (path / HISTORY).is_file()
                              and not summary["live"] and not summary["error"],
                              "figures": list(FIGURES)}
    job = request.app.state.trainings.jobs.get(name)
    if job is not None and job.active and not (path / SNAPSHOTS).is_file():
        detail["complete"] = False  # the stream has ended, but the trainer writes snapshots.npz after it
    # pictures while it trains: only for a run this server trains (it holds the network in memory)
    detail["live_pictures"] = job is not None and job.active and job.training and not detail["complete"]
    detail["live"] = summary["live"] or stream_is_live(path) or detail["live_pictures"]
    detail["report"] = (path / REPORT).is_file()
    if not detail["complete"]:
        return answer(detail)
    data = _cache(request).get(path)
    h = data.run.history
    detail.update(
        record=data.run.record, status=h.status, message=h.message, seconds=h.seconds,
        curves=_curves(h), iters_per_epoch=data.iters_per_epoch, n_test=len(data.t_test),
        evaluations=[int(i) for i in (data.snapshots["iterations"] if data.snapshots is not None else [])],
        sizes=list(data.run.sizes),
    )
    detail.update(_insights(path))
    return answer(detail)


def _curves(h: Any) -> dict[str, Any]:
    """Accuracy and loss at each evaluation, and the per-iteration loss (thinned) with its moving average."""
    from mlplab.viz.training.curves import default_window, moving_average

    loss = np.asarray(h.loss, dtype=np.float64)
    stride = max(1, -(-loss.size // MAX_LOSS_POINTS))
    window = default_window(loss.size)
    smooth = moving_average(loss, window) if loss.size else loss
    smooth_x = np.arange(smooth.size) + (window - 1) / 2
    return {"iterations": h.iterations, "train_acc": h.train_acc, "test_acc": h.test_acc,
            "train_loss": h.train_loss, "test_loss": h.test_loss,
            "loss_x": np.arange(0, loss.size, stride), "loss": loss[::stride],
            "smooth_x": smooth_x[::stride], "smooth": smooth[::stride], "window": window}


#: Diagnoses by (run folder, modification times of its records): prescriptions measure the run's start
#: (a second or more), and a finished run's records do not change, so each is computed once.
_DIAGNOSES: dict[tuple[str, float, float], list[Any]] = {}
_DIAGNOSES_LOCK = threading.Lock()
#: One verification at a time, and none while a training runs: each is several short trainings.
_VERIFY_LOCK = threading.Lock()


def _diagnosis(path: Path) -> list[Any]:
    from mlplab.diagnose import diagnose_run
    from mlplab.diagnose.insight import SEVERITIES
    from mlplab.train.layer_stats import LAYER_STATS

    stamps = tuple((path / f).stat().st_mtime if (path / f).exists() else 0.0 for f in (HISTORY, LAYER_STATS))
    key = (str(path), *stamps)
    with _DIAGNOSES_LOCK:
        if key not in _DIAGNOSES:
            _DIAGNOSES[key] = sorted(diagnose_run(path), key=lambda i: SEVERITIES.index(i.severity))
        return _DIAGNOSES[key]


def _insights(path: Path) -> dict[str, Any]:
    try:
        found = _diagnosis(path)
    except RunFolderError as exc:
        return {"insights": [], "insights_error": str(exc)}
    return {"insights": [i.to_dict() for i in found], "insights_error": None}


@router.post("/{name:path}/verify")
def verify(request: Request, name: str, rule: str = Query(..., max_length=40),
           candidate: int | None = Query(None, ge=0, le=2), theme: Theme = ThemeQuery) -> Response:
    """"Try the fix": rerun the run's settings and the finding's prescriptions (or one ``candidate``) from
    the run's seed, as ``mlplab diagnose RUN --verify`` does; before → after, and the figure as PNG."""
    import dataclasses

    import matplotlib.pyplot as plt

    from mlplab.diagnose.verify import verify_run
    from mlplab.viz.diagnose import plot_verification
    from mlplab.viz.theme import figure_bytes

    path = _runs(request).path(name)
    found = {i.rule: i for i in _diagnosis(path)}
    if rule not in found or not found[rule].prescriptions:
        raise NotFoundError(f"run {name!r} has no finding {rule!r} with settings to try; "
                            f"these have: {', '.join(r for r, i in found.items() if i.prescriptions) or 'none'}.")
    insight = found[rule]
    if candidate is not None:
        if candidate >= len(insight.prescriptions):
            raise NotFoundError(f"{rule} has {len(insight.prescriptions)} options; candidate must be below that.")
        insight = dataclasses.replace(insight, prescriptions=(insight.prescriptions[candidate],))
    busy = request.app.state.trainings.active()
    if busy or not _VERIFY_LOCK.acquire(blocking=False):
        what = f"a training is running ({busy[0].name})" if busy else "another verification is running"
        raise BusyError(f"busy: {what}; try the fix again when it has ended.")
    try:
        (verification,) = verify_run(path, insights=[insight])
    finally:
        _VERIFY_LOCK.release()
    with _render_lock(request):
        fig = plot_verification([verification], theme=theme)["figure"]
        try:
            png = figure_bytes(fig, "png")
        finally:
            plt.close(fig)
    return answer({**verification.to_dict(), "png": "data:image/png;base64," + base64.b64encode(png).decode()})
