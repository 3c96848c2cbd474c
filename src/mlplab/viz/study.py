"""The figures of the ch. 6 studies (:mod:`mlplab.study`) and one small self-contained page per study.

Each ``plot_*`` function takes the study's numbers and returns a figure in the house style
(:func:`~mlplab.viz.theme.theme_context`, the theme's colours); :func:`draw_study` draws all of a
study's figures into its folder and writes ``report.html`` beside them: the figures embedded, the
numbers beside the book's, and the sentence that says the runs share a seed.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from mlplab.study.common import SAME_SEED_NOTE, StudyResult
from mlplab.train.history import History
from mlplab.train.run_folder import atomic_write_text
from mlplab.viz.panels import axes_or_new
from mlplab.viz.sweep import _sequential_cmap as sequential_cmap  # viridis without the end lost in the background
from mlplab.viz.theme import colors, save_figure, theme_context
from mlplab.viz.training.curves import smooth_curve

#: Where each activation's outputs live, for the histograms' x axis.
HISTOGRAM_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 1.0)}


def series_colors(n: int) -> list[str]:
    """``n`` colours from the current style's cycle (call inside :func:`theme_context`)."""
    cycle = [p["color"] for p in mpl.rcParams["axes.prop_cycle"]]
    return [cycle[k % len(cycle)] for k in range(n)]


def panel_grid(n: int, *, cols: int, panel: tuple[float, float]) -> tuple[Figure, np.ndarray]:
    """A grid of ``n`` panels sharing both axes, ``cols`` per row, each ``panel`` inches; the unused
    panels of the last row hidden. Returns the figure and the 2-D array of axes."""
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(panel[0] * cols, panel[1] * rows + 0.6), layout="constrained",
                             sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


# -- loss curves of several runs on one chart (figs 6-9, 6-15) -------------------------------------

def plot_loss_curves(histories: Mapping[str, History], *, ax: Axes | None = None, theme: str = "dark",
                     title: str = "Training loss", ylim: tuple[float, float] | None = None) -> dict[str, Any]:
    """Each run's mini-batch loss smoothed as the book does (:func:`smooth_curve`), raw values faint."""
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.6, 4.4))
        drawn: dict[str, Any] = {"figure": fig}
        for (label, h), color in zip(histories.items(), series_colors(len(histories)), strict=True):
            loss = np.asarray(h.loss, dtype=np.float64)
            ax.plot(np.arange(loss.size), loss, color=color, lw=0.5, alpha=0.25)
            (drawn[label],) = ax.plot(np.arange(loss.size), smooth_curve(loss), color=color, lw=1.8, label=label)
        ax.set_xlabel("iteration")
        ax.set_ylabel("mini-batch loss (smoothed)")
        ax.set_ylim(*(ylim or (0, None)))
        ax.set_title(title)
        ax.legend(loc="center right", fontsize=9)  # the curves start high and end low: the right middle is free
    return drawn


# -- weight initialisation: activation histograms (figs 6-10 … 6-14) -------------------------------

def plot_activation_histograms(outputs: Mapping[str, np.ndarray], activation: str, *,
                               theme: str = "dark") -> Figure:
    """One row per weight scale, one column per layer: the histogram of the layer's outputs.

    ``outputs[label]`` is ``(layers, n, units)``. Each panel gives the outputs' standard deviation σ.
    ReLU's zeros (half the outputs) are left out and counted in the panel's corner, as their spike
    would flatten everything else.
    """
    c = colors(theme)
    low, high = HISTOGRAM_RANGE[activation]
    labels = list(outputs)
    n_layers = next(iter(outputs.values())).shape[0]
    with theme_context(theme):
        fig, axes = plt.subplots(len(labels), n_layers, figsize=(2.1 * n_layers, 1.65 * len(labels) + 0.6),
                                 layout="constrained", sharex=True, sharey="row", squeeze=False)
        for r, label in enumerate(labels):
            for j in range(n_layers):
                ax = axes[r, j]
                values = outputs[label][j].ravel()
                # the spread as a number too: ReLU's outputs with std 1 grow far past the axis
                ax.set_title(f"layer {j + 1} · σ {values.std():.2g}", fontsize=8, pad=3)
                if activation == "relu":
                    zeros = np.mean(values == 0)
                    values = values[values > 0]
                    ax.text(0.97, 0.93, f"{zeros:.0%} zero", transform=ax.transAxes, ha="right", va="top",
                            fontsize=7, color=c["reference"],
                            bbox={"facecolor": c["background"], "edgecolor": "none", "alpha": 0.7, "pad": 1})
                ax.hist(values, bins=30, range=(low, high), color=c["train"])
                if j == 0:
                    ax.set_ylabel(label, fontsize=10)
                ax.tick_params(labelsize=7)
                ax.set_yticks([])
        fig.suptitle(f"{activation}: outputs of 5 layers × 100 units for 1000 random inputs, by initial weight std")
    return fig


# -- over-fitting: train vs test with the gap (figs 6-20, 6-21, 6-23) ------------------------------

def plot_train_test(histories: Mapping[str, History], iters_per_epoch: int, *, theme: str = "dark") -> Figure:
    """One panel per setting: train and test accuracy per epoch, the gap between them shaded."""
    c = colors(theme)
    with theme_context(theme):
        fig, axes = plt.subplots(1, len(histories), figsize=(4.6 * len(histories), 4.0), layout="constrained",
                                 sharey=True, squeeze=False)
        for ax, (label, h) in zip(axes[0], histories.items(), strict=True):
            epochs = np.asarray(h.iterations) / iters_per_epoch
            train, test = np.asarray(h.train_acc), np.asarray(h.test_acc)
            ax.fill_between(epochs, test, train, color=c["gap"], alpha=0.25, lw=0, label="gap")
            ax.plot(epochs, train, color=c["train"], lw=1.6, label="train")
            ax.plot(epochs, test, color=c["test"], lw=1.6, label="test")
            ax.text(0.97, 0.05, f"gap at the end {train[-1] - test[-1]:.2f}", transform=ax.transAxes, ha="right",
                    va="bottom", color=c["gap"], fontweight="bold")  # below the curves, whatever their shape
            ax.set_title(f"{label}: train {train[-1]:.2f}, test {test[-1]:.2f}", fontsize=10)
            ax.set_xlabel("epoch")
            ax.set_ylim(0, 1.02)
        axes[0, 0].set_ylabel("accuracy")
        axes[0, 0].legend(loc="center right", fontsize=9)
    return fig


# -- batch norm: 16 weight scales (fig 6-19) --------------------------------------------------------

def plot_batchnorm_grid(scales: Sequence[float], with_bn: Sequence[History], without: Sequence[History],
                        iters_per_epoch: int, *, theme: str = "dark") -> Figure:
    """A panel per initial weight std: training accuracy per epoch with (solid) and without (dashed)
    batch norm, as the book's fig 6-19."""
    c = colors(theme)
    with theme_context(theme):
        fig, axes = panel_grid(len(scales), cols=4, panel=(3.0, 2.3))
        for k, ax in enumerate(axes.flat[: len(scales)]):
            for h, style, label, color in ((with_bn[k], "-", "batch norm", c["train"]),
                                           (without[k], "--", "without", c["test"])):
                ax.plot(np.asarray(h.iterations) / iters_per_epoch, h.train_acc, style, color=color, lw=1.5,
                        label=label)
            if without[k].status == "diverged":  # no accuracy after the loss became NaN: say so
                ax.text(0.5, 0.55, "without: diverged\n(the loss became NaN)", transform=ax.transAxes,
                        ha="center", va="center", color=c["test"], fontsize=8)
            ax.set_title(f"W std {scales[k]:.2g}", fontsize=9)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=7)
        for ax in axes[-1]:
            ax.set_xlabel("epoch", fontsize=9)
        for ax in axes[:, 0]:
            ax.set_ylabel("train accuracy", fontsize=9)
        axes[0, 0].legend(loc="lower right", fontsize=7)
        fig.suptitle(f"Batch norm (solid) against none (dashed) for {len(scales)} initial weight scales")
    return fig


def plot_accuracy_pair(histories: Mapping[str, History], iters_per_epoch: int, *, ax: Axes | None = None,
                       theme: str = "dark", title: str = "") -> Figure:
    """Training and test accuracy of two or more runs on one chart (train solid, test dashed)."""
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.0, 4.2))
        for (label, h), color in zip(histories.items(), series_colors(len(histories)), strict=True):
            epochs = np.asarray(h.iterations) / iters_per_epoch
            ax.plot(epochs, h.train_acc, color=color, lw=1.8, label=f"{label}: train")
            ax.plot(epochs, h.test_acc, "--", color=color, lw=1.4, label=f"{label}: test")
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1.02)
        ax.set_title(title)
        ax.legend(loc="center right", fontsize=9)
    return fig


# -- hyper-parameter search (fig 6-24) --------------------------------------------------------------

def plot_search_best(curves: Sequence[dict[str, Any]], iters_per_epoch: int, *, theme: str = "dark") -> Figure:
    """The book's grid of the best runs: validation (solid) and training (dashed) accuracy per epoch.

    ``curves`` are dicts with ``history``, ``lr``, ``weight_decay`` and ``rank``, best first.
    """
    c = colors(theme)
    with theme_context(theme):
        fig, axes = panel_grid(len(curves), cols=5, panel=(2.8, 2.1))
        for k, ax in enumerate(axes.flat[: len(curves)]):
            h = curves[k]["history"]
            epochs = np.asarray(h.iterations) / iters_per_epoch
            ax.plot(epochs, h.val_acc, color=c["train"], lw=1.4)
            ax.plot(epochs, h.train_acc, "--", color=c["reference"], lw=1.0)
            lr, decay = curves[k]["lr"], curves[k]["weight_decay"]
            ax.set_title(f"#{k + 1} val {h.val_acc[-1]:.2f}\nlr {lr:.1e}, λ {decay:.0e}", fontsize=8)
            ax.set_ylim(0, 1.02)
            ax.tick_params(labelsize=7)
        for ax in axes[-1]:
            ax.set_xlabel("epoch", fontsize=9)
        for ax in axes[:, 0]:
            ax.set_ylabel("accuracy", fontsize=9)
        fig.suptitle(f"Best {len(curves)} of the random search: validation (solid), training (dashed)")
    return fig


def plot_search_scatter(rows: Sequence[Mapping[str, Any]], *, theme: str = "dark",
                        lr_range: tuple[float, float] | None = None,
                        decay_range: tuple[float, float] | None = None) -> Figure:
    """Final validation accuracy of each trial over (learning rate, weight decay), both log scales;
    the axes span the searched ranges when given, so an empty region shows as empty."""
    c = colors(theme)
    done = [r for r in rows if r.get("final_val_acc") is not None]
    with theme_context(theme):
        fig, ax = plt.subplots(figsize=(7.0, 4.8), layout="constrained")
        points = ax.scatter([r["lr"] for r in done], [r["weight_decay"] for r in done],
                            c=[r["final_val_acc"] for r in done], cmap=sequential_cmap(theme), vmin=0, vmax=1, s=36,
                            edgecolors=c["foreground"], linewidths=0.3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        if lr_range:
            ax.set_xlim(lr_range[0] / 1.5, lr_range[1] * 1.5)
        if decay_range:
            ax.set_ylim(decay_range[0] / 1.5, decay_range[1] * 1.5)
        ax.set_xlabel("learning rate")
        ax.set_ylabel("weight decay λ")
        ax.set_title(f"Random search: validation accuracy of {len(done)} trials")
        fig.colorbar(points, ax=ax, label="final validation accuracy")
    return fig


# -- the study page ----------------------------------------------------------------------------------

def _image(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}"></figure>'


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def write_page(folder: Path, title: str, intro: str, figures: Sequence[Path], table: str, *,
               theme: str = "dark") -> Path:
    """``folder/report.html``: title, what was compared, the numbers beside the book's, the figures
    (embedded: the page loads nothing and opens offline)."""
    c = colors(theme)
    style = (f"body{{background:{c['background']};color:{c['foreground']};font-family:system-ui,sans-serif;"
             "max-width:1100px;margin:2rem auto;padding:0 1rem}img{max-width:100%}"
             "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #888;padding:.25rem .6rem;"
             "text-align:right}th{text-align:center}")
    page = (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>"
            f"<p><em>{html.escape(SAME_SEED_NOTE)}</em></p>{table}"
            + "".join(_image(p) for p in figures if p.suffix == ".png") + "</body></html>\n")
    path = Path(folder) / "report.html"
    atomic_write_text(path, page)
    return path


def draw_study(result: StudyResult, *, theme: str = "dark", fmt: str = "png") -> list[Path]:
    """Every figure of ``result`` into its folder, then ``report.html``; returns the files written."""
    drawers = {"init": _draw_init, "overfit": _draw_overfit, "batchnorm": _draw_batchnorm,
               "optimizers": _draw_optimizers, "search": _draw_search}
    figures, title, intro, table = drawers[result.name](result, theme)
    written, png = [], []
    for name, fig in figures.items():  # PNG always (the page embeds it), and ``fmt`` besides
        png.append(save_figure(fig, Path(result.folder) / f"{name}.png", close=fmt == "png"))
        if fmt != "png":
            written.append(save_figure(fig, Path(result.folder) / f"{name}.{fmt}"))
    return [*png, *written, write_page(result.folder, title, intro, png, table, theme=theme)]


def _book_table(result: StudyResult, quantity: str, mine: Mapping[str, Any], book: Mapping[str, Any]) -> str:
    mode = "quick mode: not comparable with the book" if result.quick else "full mode"
    last = result.numbers.get("mean_loss_last_500", {})
    rows = [(label, mine.get(label), book.get(label), last.get(label)) for label in dict.fromkeys([*mine, *book])]
    header = ("setting", f"mlplab ({mode})", "the book", "mlplab, mean of the last 500 iterations")
    return _table(rows, header) + f"<p>{html.escape(quantity)}</p>"


def _draw_init(result: StudyResult, theme: str) -> tuple[dict[str, Figure], str, str, str]:
    figures = {f"init_histograms_{activation}": plot_activation_histograms(outputs, activation, theme=theme)
               for activation, outputs in result.data["activations"].items()}
    figures["init_mnist_loss"] = plot_loss_curves(
        result.histories, theme=theme, title="MNIST, 784-100-100-100-100-10 ReLU, SGD lr 0.01: initial weight std"
    )["figure"]
    n = result.numbers
    table = _book_table(result, f"mean mini-batch loss at iterations {', '.join(map(str, n['iterations']))} "
                        "(where the book prints it)", n["mean_printed_loss"], result.book["mean_printed_loss"])
    intro = ("Activation histograms of 5 layers × 100 units on 1000 random inputs for std 1, 0.01, Xavier and He "
             "with sigmoid, tanh and ReLU (book figs 6-10 to 6-14), and MNIST loss curves (fig 6-15).")
    return figures, "Weight initialisation (book §6.2)", intro, table


def _draw_overfit(result: StudyResult, theme: str) -> tuple[dict[str, Figure], str, str, str]:
    ipe = result.numbers["iters_per_epoch"]
    figures = {"overfit_train_test": plot_train_test(result.histories, ipe, theme=theme)}
    n = result.numbers
    rows = [(label, n["final_train_acc"][label], n["final_test_acc"][label], n["gap"][label],
             *result.book.get(label, (None, None))) for label in result.histories]
    table = _table(rows, ("setting", "mlplab train", "mlplab test", "mlplab gap", "book train", "book test"))
    intro = (f"300 training images, 784-100×6-10 ReLU, SGD lr 0.01, batch 100, {n['epochs']} epochs: "
             "no regularisation, weight decay λ = 0.1 (fig 6-21), dropout 0.15 (fig 6-23).")
    return figures, "Over-fitting and its remedies (book §6.4)", intro, table


def _draw_batchnorm(result: StudyResult, theme: str) -> tuple[dict[str, Figure], str, str, str]:
    d, n = result.data, result.numbers
    figures = {
        "batchnorm_grid": plot_batchnorm_grid(d["scales"], d["with_bn"], d["without"], n["iters_per_epoch"],
                                              theme=theme),
        "batchnorm_pair": plot_accuracy_pair(d["pair"], n["iters_per_epoch"], theme=theme,
                                             title=f"W std {n['pair_scale']:.3g}: with and without batch norm"),
    }
    rows = [(f"{s:.3g}", a, b, *(result.book["final"][k] if k < len(result.book["final"]) else (None, None)))
            for k, (s, a, b) in enumerate(zip(d["scales"], n["final_with_bn"], n["final_without"], strict=True))]
    table = _table(rows, ("W std", "mlplab with BN", "mlplab without", "book with BN", "book without"))
    intro = ("1000 training images, 784-100×5-10 ReLU, SGD lr 0.01, batch 100, 20 epochs, 16 weight scales from 1 to "
             "10⁻⁴ (book fig 6-19): final training accuracy.")
    return figures, "Batch normalization (book §6.3)", intro, table


def _draw_optimizers(result: StudyResult, theme: str) -> tuple[dict[str, Figure], str, str, str]:
    figures = {"optimizers_mnist_loss": plot_loss_curves(
        result.histories, theme=theme, title="MNIST, 784-100-100-100-100-10 ReLU, batch 128: six optimizers",
        ylim=(0, 1.0))["figure"]}
    n = result.numbers
    table = _book_table(result, f"mean mini-batch loss at iterations {', '.join(map(str, n['iterations']))} "
                        "(where the book prints it)", n["mean_printed_loss"], result.book["mean_printed_loss"])
    intro = "Each optimizer with the book's default learning rate (SGD, Momentum, AdaGrad 0.01; Adam 0.001)."
    return figures, "Optimizers on MNIST (book fig 6-9)", intro, table


def _draw_search(result: StudyResult, theme: str) -> tuple[dict[str, Figure], str, str, str]:
    d, n = result.data, result.numbers
    figures = {"search_best": plot_search_best(d["best"], n["iters_per_epoch"], theme=theme),
               "search_scatter": plot_search_scatter(d["rows"], theme=theme, lr_range=n.get("lr_range"),
                                                     decay_range=n.get("decay_range"))}
    rows = [(k + 1, f"{b['lr']:.2e}", f"{b['weight_decay']:.1e}", b["history"].val_acc[-1],
             b["history"].test_acc[-1]) for k, b in enumerate(d["best"][:5])]
    table = _table(rows, ("rank", "lr", "weight decay", "validation acc", "test acc (reported, not used)"))
    book_best = ", ".join(f"{v:.2f}" for v in result.book["best_val_acc"][:5])
    table += f"<p>The book's best 5 validation accuracies (its run): {html.escape(book_best)}.</p>"
    intro = (f"{n['trials']} trials of {n['epochs']} epochs on 500 training images, 100 of them held out for "
             "validation; lr 10⁻⁶…10⁻², weight decay 10⁻⁸…10⁻⁴, log-uniform. Ranked on validation only.")
    return figures, "Hyper-parameter search (book §6.5)", intro, table
