"""Learning curves: accuracy per evaluation and loss per iteration, drawn from a run's :class:`History`.

Both functions draw the recorded numbers as they are (the plotted line data *are* the history
arrays), so a test can compare them with ``history.json``.

Example
-------
>>> run = load_run("runs/demo")                                        # doctest: +SKIP
>>> artists = plot_accuracy(run.history, reference=load_book_curve())  # doctest: +SKIP
>>> save_figure(artists["train"].figure, "accuracy.png")               # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator, PercentFormatter

from mlplab.data.reference import ReferenceCurve
from mlplab.train.history import History
from mlplab.viz.panels import axes_or_new, keep_layout, lay_out
from mlplab.viz.placement import ladder, line_points, place_label, points_inside
from mlplab.viz.theme import colors, theme_context


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Mean over each run of ``window`` values: ``out[i] = mean(values[i : i + window])``.

    Shape ``(n,) -> (n - window + 1,)``; ``out[i]`` is drawn at the window's centre,
    ``i + (window − 1) / 2``, so the smooth curve does not lag behind the data. Computed with a
    cumulative sum, so it costs O(n) whatever the window. A window that holds a NaN or an infinite
    value (a diverged or damaged run) has no mean: NaN there, a gap in the curve, and only there (an
    infinity inside the running sum would otherwise spoil every later window too).
    """
    values = np.asarray(values, dtype=np.float64)
    window = int(max(1, min(window, values.size)))
    if values.size == 0:
        return values
    finite = np.isfinite(values)
    n_bad = np.cumsum(np.concatenate([[0], ~finite]))  # non-finite values so far
    with np.errstate(over="ignore", invalid="ignore"):  # sums past 1e308 (absurd losses) are inf: no mean either
        csum = np.cumsum(np.concatenate([[0.0], np.where(finite, values, 0.0)]))
        means = (csum[window:] - csum[:-window]) / window
    means[n_bad[window:] - n_bad[:-window] > 0] = np.nan
    return means


def smooth_curve(values: np.ndarray, window: int = 11, beta: float = 2.0) -> np.ndarray:
    """The book's smoothing of noisy loss curves (``common/util.py``), same length as ``values``.

    Each point becomes a weighted mean of the ``window`` points centred on it, the weights a Kaiser
    window (``np.kaiser(window, beta)``: a bell, highest in the middle) divided by their sum. The
    series is mirrored at both ends (``np.pad(..., mode="reflect")``) so the first and last points
    have neighbours too. Unlike :func:`moving_average`, the output lines up with the input index.

    Example (the book's ch. 6 loss figures)::

        ax.plot(np.arange(len(losses)), smooth_curve(losses))
    """
    values = np.asarray(values, dtype=np.float64)
    half = window // 2
    if values.size <= half:  # too short to mirror: nothing to smooth
        return values.copy()
    weights = np.kaiser(2 * half + 1, beta)
    padded = np.pad(values, half, mode="reflect")  # (n + 2·half,)
    return np.convolve(padded, weights / weights.sum(), mode="valid")  # (n,)


def default_window(n: int) -> int:
    """About 1/20 of the run, at most 100 iterations (one textbook epoch is 600)."""
    return int(max(1, min(100, n // 20)))


def _epoch_axis(ax: Axes, iters_per_epoch: int | None) -> None:
    """A second x axis on top that reads iterations as epochs."""
    if not iters_per_epoch:
        return
    top = ax.secondary_xaxis("top", functions=(lambda i: i / iters_per_epoch, lambda e: e * iters_per_epoch))
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_xlabel("epoch")


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center")


def plot_accuracy(
    history: History,
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    reference: ReferenceCurve | None = None,
    iters_per_epoch: int | None = None,
    zoom: bool = True,
) -> dict[str, Any]:
    """Train (solid) and test (dashed) accuracy at each evaluation, the gap between them shaded; with
    a validation split (``history.val_acc``), the accuracy on the held-out training images too (dash-dot).

    ``reference`` adds faint lines (e.g. the textbook's published curve). ``zoom`` adds an inset over
    the last two thirds of the run, where the two curves are too close to tell apart at full scale.
    Returns the artists: ``train``, ``test``, ``gap`` and, when drawn, ``validation``, ``reference_train``,
    ``reference_test``, ``inset``.
    """
    c = colors(theme)
    own_figure = ax is None
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.6, 4.6))
        drawn: dict[str, Any] = {"figure": fig}
        it = np.asarray(history.iterations)
        train, test = np.asarray(history.train_acc), np.asarray(history.test_acc)

        if reference is not None and it.size:
            # only the part of the book's run that this run has reached: the curves compare at equal iterations
            keep = reference.iterations <= max(int(it[-1]), 1)
            reference = dataclasses.replace(reference, iterations=reference.iterations[keep],
                                            train_acc=reference.train_acc[keep], test_acc=reference.test_acc[keep])
            ref_style = {"color": c["reference"], "lw": 1.2, "alpha": 0.7, "zorder": 1}
            (drawn["reference_train"],) = ax.plot(reference.iterations, reference.train_acc, "-", **ref_style,
                                                  label=f"{reference.label} train")
            (drawn["reference_test"],) = ax.plot(reference.iterations, reference.test_acc, ":", **ref_style,
                                                 label=f"{reference.label} test")
        drawn["gap"] = ax.fill_between(it, train, test, color=c["gap"], alpha=0.35, lw=0, zorder=2,
                                       label="train − test gap")
        (drawn["train"],) = ax.plot(it, train, "-o", color=c["train"], ms=4, lw=2, zorder=3, label="train")
        (drawn["test"],) = ax.plot(it, test, "--s", color=c["test"], ms=4, lw=2, zorder=3, label="test")
        if len(history.val_acc) == it.size and it.size:  # the held-out training images (book §6.5.1)
            (drawn["validation"],) = ax.plot(it, history.val_acc, "-.^", color=c["validation"], ms=4, lw=1.5,
                                             zorder=3, label="validation")

        ax.set_ylim(0, 1.0)
        ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        ax.set_xlabel("iteration")
        ax.set_ylabel("accuracy")
        ax.set_title(f"Accuracy ({history.status})" if history.status != "completed" else "Accuracy")
        _epoch_axis(ax, iters_per_epoch)
        if it.size == 0:
            _no_data(ax, "no evaluation recorded")
            return drawn
        if it.size == 1:
            pad = max(float(it[0]), 1.0)
            ax.set_xlim(-0.05 * pad - 1, 1.05 * pad + 1)

        first = it.size // 3
        if zoom and it.size - first >= 3:
            validation = np.asarray(history.val_acc)[first:] if "validation" in drawn else None
            drawn["inset"] = _zoom_inset(ax, it[first:], train[first:], test[first:], reference, c, validation)
        lay_out(fig)  # the layout first: the free space is measured in display coordinates
        drawn["legend"] = _legend_in_free_space(ax)

        # The final values, beside the last points, where they cover no curve and no axis line:
        # train above its point if there is room, test below its own (or further out).
        x_last = it[-1]
        dxs, ha = ((-4, -40, -90), "right") if it.size > 1 else ((6,), "left")  # a single point sits mid-axes
        placed = []
        for key, value, first_side in (("train", train[-1], "up"), ("test", test[-1], "down")):
            label = ax.annotate(f"{key} {value:.2%}", (x_last, value), xytext=(0, 0), textcoords="offset points",
                                color=c[key], fontweight="bold")
            other = "down" if first_side == "up" else "up"
            place_label(ax, label, ladder(first_side, dxs=dxs, ha=ha) + ladder(other, dxs=dxs, ha=ha),
                        ax.get_lines(), boxes=placed)
            placed.append(label.get_window_extent(fig.canvas.get_renderer()))
            drawn[f"{key}_label"] = label
        if own_figure:
            keep_layout(fig)
    return drawn


def _legend_in_free_space(ax: Axes) -> Any:
    """The legend where it covers the fewest curve points: at the left if it can, else moved right
    (a run that jumps to 80 % at its first evaluation draws a steep line up the left edge)."""
    points = line_points(ax, ax.get_lines())
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    best = None
    for x in (0.02, 0.12, 0.22):
        for y in (0.42, 0.3, 0.55, 0.2, 0.68, 0.12):
            legend = ax.legend(loc="center left", bbox_to_anchor=(x, y), fontsize=9)
            box = legend.get_window_extent(renderer)
            hits = points_inside(box, points) + sum(1000 for inset in ax.child_axes
                                                    if box.overlaps(inset.get_window_extent(renderer)))
            if best is None or hits < best[0]:
                best = (hits, (x, y))
            if hits == 0:
                return legend
    return ax.legend(loc="center left", bbox_to_anchor=best[1], fontsize=9)


def _zoom_inset(ax: Axes, it: np.ndarray, train: np.ndarray, test: np.ndarray,
                reference: ReferenceCurve | None, c: dict[str, str], validation: np.ndarray | None = None) -> Axes:
    """The end of the run at a scale where the train–test gap is visible."""
    inset = ax.inset_axes((0.47, 0.1, 0.5, 0.46))
    inset.fill_between(it, train, test, color=c["gap"], alpha=0.35, lw=0)
    inset.plot(it, train, "-o", color=c["train"], ms=3, lw=1.5)
    inset.plot(it, test, "--s", color=c["test"], ms=3, lw=1.5)
    values = [train, test]
    if validation is not None:
        inset.plot(it, validation, "-.^", color=c["validation"], ms=3, lw=1.2)
        values.append(validation)
    if reference is not None:
        keep = (reference.iterations >= it[0]) & (reference.iterations <= it[-1])
        inset.plot(reference.iterations[keep], reference.train_acc[keep], "-", color=c["reference"], lw=1, alpha=0.7)
        inset.plot(reference.iterations[keep], reference.test_acc[keep], ":", color=c["reference"], lw=1, alpha=0.7)
        values += [reference.train_acc[keep], reference.test_acc[keep]]
    low = min(float(np.min(v)) for v in values if v.size)
    high = max(float(np.max(v)) for v in values if v.size)
    margin = max(0.1 * (high - low), 0.002)
    inset.set_ylim(low - margin, high + margin)
    inset.set_xlim(it[0], it[-1])
    inset.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=1))
    inset.tick_params(labelsize=8)
    inset.set_title("zoom on the end of the run", fontsize=9)
    gap = train[-1] - test[-1]
    inset.text(0.02, 0.96, f"final gap {gap * 100:+.2f} points", transform=inset.transAxes,
               ha="left", va="top", fontsize=8, color=c["gap"])
    return inset


#: The loss axis stops here: beyond it a diverged run's curve is only 'off the chart'.
LOSS_AXIS_CAP = 1e100


def plot_loss(
    history: History,
    *,
    ax: Axes | None = None,
    theme: str = "dark",
    log: bool = False,
    window: int | None = None,
    iters_per_epoch: int | None = None,
) -> dict[str, Any]:
    """Mini-batch loss per iteration (faint), its moving average, and the test-set loss at evaluations.

    ``log`` draws the y axis on a log scale (the late, slow decrease becomes visible). Returns the
    artists ``batch``, ``smooth`` and ``test`` (``test`` only when evaluations were recorded).
    """
    c = colors(theme)
    own_figure = ax is None
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.6, 4.2))
        drawn: dict[str, Any] = {"figure": fig}
        loss = np.asarray(history.loss, dtype=np.float64)
        if loss.size == 0:
            _no_data(ax, "no iteration recorded")
            return drawn
        window = window or default_window(loss.size)
        (drawn["batch"],) = ax.plot(np.arange(loss.size), loss, color=c["loss"], lw=0.6, alpha=0.35,
                                    label="mini-batch loss")
        smooth = moving_average(loss, window)
        (drawn["smooth"],) = ax.plot(np.arange(smooth.size) + (window - 1) / 2, smooth, color=c["smooth"], lw=2,
                                     label=f"moving average ({window} iterations)")
        if history.iterations:
            (drawn["test"],) = ax.plot(history.iterations, history.test_loss, "--s", color=c["test"], ms=4,
                                       lw=1.5, label="test-set loss (at evaluations)")
        if log:
            ax.set_yscale("log")
        # a blown-up loss (up to 1e308 before it turns inf) would overflow the tick arithmetic
        top = min(ax.get_ylim()[1], LOSS_AXIS_CAP)
        ax.set_ylim(bottom=None if log else 0, top=top)
        ax.set_xlabel("iteration")
        ax.set_ylabel("cross-entropy loss" + (" (log scale)" if log else ""))
        ax.set_title("Loss" if history.status == "completed" else f"Loss ({history.status})")
        ax.legend(loc="upper right", fontsize=9)
        _epoch_axis(ax, iters_per_epoch)
        drawn["final"] = ax.annotate(f"{smooth[-1]:.3f}", (loss.size - 1 - (window - 1) / 2, smooth[-1]), xytext=(0, 0),
                                     textcoords="offset points", color=c["smooth"], fontweight="bold")
        lay_out(fig)  # measure the free space after the layout
        steps = (10, 20, 32, 46, 62, 80, 100)
        # below the noisy band first (above it the test loss runs, and a label there reads as its value)
        place_label(ax, drawn["final"], ladder("down", steps, dxs=(0, -40)) + ladder("up", steps, dxs=(0, -40, -90)),
                    ax.get_lines())
        if own_figure:
            keep_layout(fig)
    return drawn
