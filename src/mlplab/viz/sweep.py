"""Pictures of a sweep: what each setting does to the final test accuracy.

Four figures, all drawn from the rows of ``summary.csv`` (and the runs' histories for the curves):

- :func:`accuracy_vs_lr_figure` — final test accuracy against the learning rate, one line per
  hidden size (mean over seeds, band from the worst to the best seed, a dot per seed, × for a run
  that diverged or failed), one panel per combination of the other swept settings;
- :func:`plot_heatmap` — mean accuracy over two chosen settings;
- :func:`plot_all_curves` — every run's test accuracy curve, coloured by one setting;
- :func:`plot_best` — the best configurations, named, with their spread over seeds.

The drawn numbers are the summary's numbers (the functions return the artists and the tables they
drew), so a test can compare a picture with ``summary.csv``.
"""

from __future__ import annotations

import math
import statistics
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from mlplab.optim import OPTIMIZERS
from mlplab.sweep.space import SWEPT
from mlplab.sweep.summary import Ranked, Row, rank_configurations, setting_label, varied_settings
from mlplab.viz.palette import cycle_colors
from mlplab.viz.panels import axes_or_new, grid_shape
from mlplab.viz.theme import OPTIMIZER_COLORS, colors, save_figure, theme_context

#: Settings drawn on a logarithmic axis / colour scale (a factor of 10 is one step).
LOG_SCALE = ("lr", "batch_size")
MAX_PANELS = 12
MAX_CELLS = 8  # a numeric setting with more distinct values (a random search) is binned in the heatmap

FIGURES = {"accuracy_vs_lr": "sweep_accuracy_vs_lr", "heatmap": "sweep_heatmap",
           "curves": "sweep_curves", "best": "sweep_best"}


# -- values, order and labels ---------------------------------------------------------------------

def sort_key(name: str, value: Any) -> tuple:
    """Order values as a reader expects: numbers by size, ``100x50`` after ``100``, optimizers as in ch. 6."""
    if name == "hidden":
        layers = tuple(int(h) for h in str(value).split("x"))
        return (0, sum(layers), layers)
    if name == "optimizer":
        return (0, list(OPTIMIZERS).index(value) if value in OPTIMIZERS else 99, str(value))
    if isinstance(value, (int, float)):
        return (0, float(value), "")
    return (1, 0.0, str(value))  # names (he, xavier) after numbers


def values_of(rows: Sequence[Row], name: str) -> list[Any]:
    return sorted({r[name] for r in rows}, key=lambda v: sort_key(name, v))


def axis_label(name: str) -> str:
    return {"lr": "learning rate", "batch_size": "batch size", "hidden": "hidden size",
            "weight_init_std": "initial weight std"}.get(name, name)


def _percent(axis: Any) -> None:
    """Accuracy ticks as percentages at round steps (80%, 85%, 90% — not 82%, 85%, 88%)."""
    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.2f}".rstrip("0").rstrip(".") + "%"))


def _ok(row: Row) -> bool:
    return row["status"] == "completed" and row["final_test_acc"] is not None


def _palette(n: int) -> list[str]:
    cycle = cycle_colors(n)
    return cycle if len(set(cycle)) == n else [
        mpl.colors.to_hex(c) for c in plt.get_cmap("tab20")(np.linspace(0, 1, n))]


def _colors_for(setting: str | None, values: Sequence[Any]) -> list[str]:
    """One colour per value; optimizers in their own colour (the same as in every other figure)."""
    if setting == "optimizer" and all(v in OPTIMIZER_COLORS for v in values):
        return [OPTIMIZER_COLORS[v] for v in values]
    return _palette(len(values))


def _sequential_cmap(theme: str) -> mpl.colors.Colormap:
    """viridis without its end that vanishes into the background (dark purple on dark, yellow on white)."""
    lo, hi = (0.25, 1.0) if theme == "dark" else (0.0, 0.85)
    return mpl.colors.ListedColormap(plt.get_cmap("viridis")(np.linspace(lo, hi, 256)), name=f"viridis_{theme}")


# -- accuracy against the learning rate -----------------------------------------------------------

def seed_table(rows: Sequence[Row], x: str, line_by: str | None) -> dict[Any, dict[Any, list[float]]]:
    """``{line value: {x value: [final test accuracy of each completed seed]}}``."""
    table: dict[Any, dict[Any, list[float]]] = {}
    for row in rows:
        if _ok(row):
            key = row[line_by] if line_by else None
            table.setdefault(key, {}).setdefault(row[x], []).append(row["final_test_acc"])
    return table


def plot_accuracy_vs_lr(
    rows: Sequence[Row],
    *,
    x: str = "lr",
    line_by: str | None = "hidden",
    ax: Axes | None = None,
    theme: str = "dark",
) -> dict[str, Any]:
    """Final test accuracy against ``x`` (the learning rate), one line per ``line_by`` value.

    Each line goes through the mean over seeds; the band spans the worst to the best seed; a dot is
    one seed; a × at the bottom marks a run that diverged or failed. Returns ``lines`` and
    ``bands`` keyed by the ``line_by`` value, the ``table`` they were drawn from and ``failed``.
    """
    c = colors(theme)
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (6.4, 4.2))
        line_values = values_of(rows, line_by) if line_by else [None]
        x_values = values_of(rows, x)
        numeric = x in LOG_SCALE
        position = {v: (v if numeric else k) for k, v in enumerate(x_values)}
        table = seed_table(rows, x, line_by)
        drawn: dict[str, Any] = {"figure": fig, "lines": {}, "bands": {}, "table": table, "failed": None,
                                 "points": None}
        if line_by and len(line_values) > MAX_CELLS:  # a random search: every run its own width
            _scatter_by(rows, x, line_by, position, ax, fig, theme, drawn)
        else:
            _lines_by(rows, x, line_by, line_values, x_values, position, table, ax, drawn)
        failed = [r for r in rows if not _ok(r)]
        if failed:
            drawn["failed"] = ax.scatter(
                [position[r[x]] for r in failed], [0.03] * len(failed), marker="x", color=c["bad"], s=40,
                transform=ax.get_xaxis_transform(), label="diverged / failed", zorder=4, clip_on=False,
            )
        if numeric:
            ax.set_xscale("log")
            if len(x_values) <= MAX_CELLS:  # a grid: a tick at each value tried
                ax.set_xticks(x_values, [f"{v:g}" for v in x_values])
                ax.minorticks_off()
        else:
            ax.set_xticks(range(len(x_values)), [str(v) for v in x_values])
        _percent(ax.yaxis)
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel("final test accuracy")
        if drawn["lines"] or failed:
            ax.legend(fontsize=9, loc="best")
        if not drawn["lines"] and drawn["points"] is None:
            ax.text(0.5, 0.5, "no run completed", transform=ax.transAxes, ha="center", va="center")
    return drawn


def _lines_by(rows, x, line_by, line_values, x_values, position, table, ax: Axes, drawn: dict) -> None:
    """One line per ``line_by`` value through the means over seeds, a band over the seed range, dots for seeds."""
    for color, value in zip(_colors_for(line_by, line_values), line_values, strict=True):
        points = table.get(value, {})
        xs = [v for v in x_values if v in points]
        if not xs:
            continue
        px = np.array([position[v] for v in xs], dtype=float)
        accs = [points[v] for v in xs]
        label = setting_label(line_by, value) if line_by else "mean over seeds"
        (line,) = ax.plot(px, [statistics.fmean(a) for a in accs], "-o", color=color, lw=2, ms=4, label=label)
        band = ax.fill_between(px, [min(a) for a in accs], [max(a) for a in accs], color=color, alpha=0.2, lw=0)
        seeds_x = np.concatenate([[p] * len(a) for p, a in zip(px, accs, strict=True)])
        ax.scatter(seeds_x, np.concatenate(accs), s=10, color=color, alpha=0.7, zorder=3, lw=0)
        drawn["lines"][value], drawn["bands"][value] = line, band


def _scatter_by(rows, x, color_by, position, ax: Axes, fig: Figure, theme: str, drawn: dict) -> None:
    """One dot per completed run, coloured by ``color_by`` on a colour scale (the textbook's ch. 6.5 picture)."""
    done = [r for r in rows if _ok(r)]
    if not done:
        return
    size = np.array([sort_key(color_by, r[color_by])[1] for r in done])  # hidden: total units
    norm = (LogNorm if color_by in LOG_SCALE else Normalize)(size.min(), size.max())
    drawn["points"] = ax.scatter([position[r[x]] for r in done], [r["final_test_acc"] for r in done], c=size,
                                 cmap=_sequential_cmap(theme), norm=norm, s=28, zorder=3, edgecolors="none")
    fig.colorbar(drawn["points"], ax=ax, label=axis_label(color_by))


def accuracy_axes(rows: Sequence[Row]) -> tuple[str, str | None]:
    """``(x, line_by)`` for the accuracy figure: lr against hidden size when they vary, else the next best."""
    varied = varied_settings(rows)
    x = "lr" if "lr" in varied else next((n for n in varied if n != "hidden"), "hidden" if "hidden" in varied else "lr")
    line_by = "hidden" if "hidden" in varied and x != "hidden" else None
    return x, line_by


def accuracy_vs_lr_figure(rows: Sequence[Row], *, theme: str = "dark") -> tuple[Figure, list[dict[str, Any]]]:
    """:func:`plot_accuracy_vs_lr` in one panel per combination of the other swept settings.

    With more than 12 combinations, the 12 whose best run is best are shown (the title says so).
    """
    x, line_by = accuracy_axes(rows)
    others = [n for n in varied_settings(rows) if n not in (x, line_by)]
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row[n] for n in others), []).append(row)
    keys = sorted(groups, key=lambda k: tuple(sort_key(n, v) for n, v in zip(others, k, strict=True)))
    if len(keys) > MAX_PANELS:
        best = {k: max((r["final_test_acc"] for r in groups[k] if _ok(r)), default=-1.0) for k in keys}
        keys = sorted(keys, key=lambda k: -best[k])[:MAX_PANELS]
    n_rows, n_cols = grid_shape(len(keys), 3)
    drawn = []
    with theme_context(theme):
        width = max(5.2 * n_cols, 7.0)
        fig, axes = plt.subplots(n_rows, n_cols, figsize=(width, 3.9 * n_rows + 0.3), layout="constrained",
                                 squeeze=False, sharey=True)
        for ax, key in zip(axes.flat, keys, strict=False):
            drawn.append(plot_accuracy_vs_lr(groups[key], x=x, line_by=line_by, ax=ax, theme=theme))
            if ax.get_subplotspec().colspan.start > 0:
                ax.set_ylabel("")
            if others:
                ax.set_title(", ".join(setting_label(n, v) for n, v in zip(others, key, strict=True)), fontsize=11)
        for ax in axes.flat[len(keys):]:
            ax.set_visible(False)
        title = _best_title(rows) + (f"  ({len(keys)} of {len(groups)} panels, best first)"
                                     if len(groups) > len(keys) else "")
        fig.suptitle(textwrap.fill(title, width=int(width * 10)), fontsize=12)  # ~10 characters per inch
    return fig, drawn


def _best_title(rows: Sequence[Row]) -> str:
    ranked = rank_configurations(rows)
    if not ranked or not ranked[0].completed:
        return "no run completed"
    best = ranked[0]
    which = "validation" if best.metric == "final_val_acc" else "test"  # what the sweep ranked on
    how = f"mean {which} accuracy over {best.completed} seeds" if best.completed > 1 else f"{which} accuracy"
    return f"best: {best.label(varied_settings(rows))} — {best.mean:.2%} {how}"


# -- heatmap over two settings ---------------------------------------------------------------------

@dataclass
class HeatmapTable:
    """What a heatmap shows: ``cells[iy, ix]`` is the best, over the other swept settings, of the mean
    final test accuracy over seeds (NaN when no run there completed); ``winners[iy][ix]`` names those
    other settings; ``tried[iy, ix]`` says whether any run fell in the cell at all."""

    x_labels: list[str]
    y_labels: list[str]
    cells: np.ndarray  # (ny, nx)
    winners: list[list[str]]
    tried: np.ndarray  # (ny, nx) bool


def heatmap_table(rows: Sequence[Row], x: str, y: str) -> HeatmapTable:
    """The numbers of :func:`plot_heatmap` for settings ``x`` (columns) and ``y`` (rows).

    A numeric setting with more than 8 values (a random search) is cut into 6 log-spaced bins,
    labelled ``0.001–0.0057`` (lr) or ``10–15`` (hidden size).
    """
    x_of, x_labels = _cells(rows, x)
    y_of, y_labels = _cells(rows, y)
    others = [n for n in varied_settings(rows) if n not in (x, y)]
    table = HeatmapTable(x_labels, y_labels, np.full((len(y_labels), len(x_labels)), np.nan),
                         [[""] * len(x_labels) for _ in y_labels], np.zeros((len(y_labels), len(x_labels)), bool))
    means: dict[tuple, list[float]] = {}
    for row in rows:
        table.tried[y_of(row), x_of(row)] = True
        if _ok(row):
            config = tuple(row[n] for n in SWEPT)
            means.setdefault((y_of(row), x_of(row), config), []).append(row["final_test_acc"])
    for (iy, ix, config), accs in means.items():
        mean = statistics.fmean(accs)
        if not mean <= table.cells[iy, ix]:  # also true for NaN: the first mean of a cell
            table.cells[iy, ix] = mean
            settings = dict(zip(SWEPT, config, strict=True))
            table.winners[iy][ix] = ", ".join(setting_label(n, settings[n]) for n in others)
    return table


def _cells(rows: Sequence[Row], name: str) -> tuple[Any, list[str]]:
    """A function row → cell index, and the cells' labels, for one heatmap axis."""
    values = values_of(rows, name)
    if len(values) > MAX_CELLS and all(sort_key(name, v)[0] == 0 and name != "optimizer" for v in values):
        size = {v: sort_key(name, v)[1] for v in values}  # lr, batch size, or a width's total units
        edges = np.geomspace(min(size.values()), max(size.values()), 7)
        fmt = "{:.2g}" if name in ("lr", "weight_init_std") else "{:.0f}"
        labels = [f"{fmt.format(lo)}–{fmt.format(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
        return (lambda row: int(min(np.searchsorted(edges, size[row[name]], side="right") - 1, 5))), labels
    index = {v: k for k, v in enumerate(values)}
    return (lambda row: index[row[name]]), [setting_label(name, v).split(" ", 1)[-1] for v in values]


def plot_heatmap(rows: Sequence[Row], x: str, y: str, *, ax: Axes | None = None, theme: str = "dark") -> dict[str, Any]:
    """Mean final test accuracy (over seeds; best over the other settings) for each ``x`` × ``y`` cell.

    A × marks a cell whose runs all diverged or failed. Returns ``image`` and the :class:`HeatmapTable`.
    """
    c = colors(theme)
    table = heatmap_table(rows, x, y)
    x_labels, y_labels, cells, winners = table.x_labels, table.y_labels, table.cells, table.winners
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (1.2 * len(x_labels) + 3.2, 0.6 * len(y_labels) + 2.4))
        cmap = _sequential_cmap(theme)
        finite = cells[np.isfinite(cells)]
        norm = Normalize(*(finite.min(), finite.max()) if finite.size and finite.min() < finite.max() else (0, 1))
        image = ax.imshow(np.ma.masked_invalid(cells), cmap=cmap, norm=norm, aspect="auto", origin="lower")
        for (iy, ix), value in np.ndenumerate(cells):
            if np.isfinite(value):
                r, g, b, _ = cmap(norm(value))
                ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
                note = f"{value:.1%}" + (f"\n{winners[iy][ix]}" if winners[iy][ix] and len(x_labels) <= 8 else "")
                ax.text(ix, iy, note, ha="center", va="center", fontsize=9 if "\n" not in note else 8, color=ink)
            elif table.tried[iy, ix]:  # runs were there, and none completed
                ax.text(ix, iy, "×", ha="center", va="center", fontsize=12, color=c["bad"])
        ax.set_xticks(range(len(x_labels)), x_labels, rotation=30 if len(x_labels) > 5 else 0)
        ax.set_yticks(range(len(y_labels)), y_labels)
        ax.set_xlabel(axis_label(x))
        ax.set_ylabel(axis_label(y))
        ax.grid(False)
        others = [n for n in varied_settings(rows) if n not in (x, y)]
        binned = any("–" in label for label in (*x_labels, *y_labels))
        ax.set_title("final test accuracy, mean over seeds" + (
            f"\nbest {' and '.join(axis_label(n) for n in others)} in each cell, named" if others else "") + (
            "\nbest configuration in each bin" if binned else ""), fontsize=11)
        _percent(fig.colorbar(image, ax=ax, shrink=0.9).ax.yaxis)
    return {"figure": fig, "image": image, "table": table}


def default_heatmap_axes(rows: Sequence[Row]) -> tuple[str, str] | None:
    """The two swept settings with the most values (lr on x when it varies); ``None`` if fewer than two vary."""
    varied = sorted(varied_settings(rows), key=lambda n: (n != "lr", -len(values_of(rows, n))))
    return (varied[0], varied[1]) if len(varied) >= 2 else None


# -- all curves --------------------------------------------------------------------------------------

def plot_all_curves(
    rows: Sequence[Row],
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    *,
    color_by: str = "lr",
    ax: Axes | None = None,
    theme: str = "dark",
) -> dict[str, Any]:
    """Every run's test accuracy after each evaluation, coloured by ``color_by``.

    A log-scale setting (lr, batch size) gets a continuous colour scale with a colour bar; any other
    setting one colour per value with a legend. Runs that diverged or failed are dashed. Returns
    ``lines`` keyed by run name.
    """
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (7.6, 4.6))
        values = values_of(rows, color_by)
        drawn: dict[str, Any] = {"figure": fig, "lines": {}}
        if color_by in LOG_SCALE and len(values) > MAX_CELLS:  # many values (a random search): a colour scale
            cmap, norm = _sequential_cmap(theme), LogNorm(min(values), max(values))
            color_of = {v: cmap(norm(v)) for v in values}
            fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=axis_label(color_by))
        else:
            if color_by in LOG_SCALE:  # a few ordered values: ordered colours, small to large
                color_of = dict(zip(values, _sequential_cmap(theme)(np.linspace(0, 1, len(values))), strict=True))
            else:
                color_of = dict(zip(values, _colors_for(color_by, values), strict=True))
            handles = [Line2D([], [], color=color_of[v], lw=2, label=setting_label(color_by, v)) for v in values]
            if any(not _ok(r) for r in rows):
                handles.append(Line2D([], [], color=colors(theme)["reference"], ls="--", label="diverged / failed"))
            ax.legend(handles=handles, fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                      ncol=2 if len(handles) > 16 else 1)  # beside the plot: the curves fill every corner
        alpha = 0.9 if len(rows) <= 12 else max(0.3, min(0.9, 20 / len(rows)))
        for row in rows:
            if row["name"] in curves:
                it, acc = curves[row["name"]]
                (line,) = ax.plot(it, acc, color=color_of[row[color_by]], lw=1.4, alpha=alpha,
                                  ls="-" if _ok(row) else "--")
                drawn["lines"][row["name"]] = line
        _percent(ax.yaxis)
        ax.set_xlabel("iteration")
        ax.set_ylabel("test accuracy")
        ax.set_title(f"{len(drawn['lines'])} runs, coloured by {axis_label(color_by)}", fontsize=11)
    return drawn


def default_color_by(rows: Sequence[Row]) -> str:
    varied = varied_settings(rows)
    return "lr" if "lr" in varied else (varied[0] if varied else "lr")


# -- the best configurations -----------------------------------------------------------------------

def plot_best(
    ranked: Sequence[Ranked],
    *,
    varied: Sequence[str] = SWEPT,
    top: int = 10,
    ax: Axes | None = None,
    theme: str = "dark",
) -> dict[str, Any]:
    """The ``top`` configurations by mean final test accuracy, best on top, named by their settings.

    Each bar is the mean over seeds; the whisker spans the worst to the best seed. Returns ``bars``
    and the ``shown`` :class:`Ranked` entries, in drawing order (best first).
    """
    c = colors(theme)
    shown = [r for r in ranked if r.completed][:top]
    with theme_context(theme):
        fig, ax = axes_or_new(ax, (8.0, 0.42 * max(len(shown), 1) + 1.6))
        if not shown:
            ax.text(0.5, 0.5, "no run completed", transform=ax.transAxes, ha="center", va="center")
            return {"figure": fig, "bars": None, "shown": shown}
        y = np.arange(len(shown))[::-1]  # best at the top
        means = np.array([r.mean for r in shown])
        spread = np.array([[r.mean - r.low for r in shown], [r.high - r.mean for r in shown]])
        several = any(r.completed > 1 for r in shown)  # whiskers only when there is a spread to show
        bars = ax.barh(y, means, color=[c["good"]] + [c["train"]] * (len(shown) - 1), height=0.65,
                       xerr=spread if several else None, error_kw={"ecolor": c["foreground"], "capsize": 3, "lw": 1})
        low = float(min(r.low for r in shown))
        ax.set_xlim(max(0.0, math.floor((low - 0.05) * 20) / 20), 1.0)
        notes = []
        for r in shown:
            note = f"{r.mean:.2%}" + (f" ± {r.std:.2%}" if r.completed > 1 else "")
            note += f"  ({r.completed} seed{'s' if r.completed > 1 else ''}"
            note += f", {r.failed} failed)" if r.failed else ")"
            notes.append(note)
        right = ax.secondary_yaxis("right")  # the numbers beside the bars, laid out like tick labels
        right.set_yticks(y, notes, fontsize=8.5)
        right.tick_params(length=0)
        right.spines["right"].set_visible(False)
        ax.set_yticks(y, [r.label(varied) for r in shown], fontsize=9)
        _percent(ax.xaxis)
        which = "validation" if shown and shown[0].metric == "final_val_acc" else "test"  # what was ranked on
        spread = " (mean over seeds; whiskers: worst to best seed)" if several else ""
        ax.set_xlabel(f"final {which} accuracy{spread}")
        ax.set_title(f"best {len(shown)} of {len(ranked)} configurations", fontsize=11)
        ax.grid(axis="y", visible=False)
    return {"figure": fig, "bars": bars, "shown": shown}


# -- all of them, saved -----------------------------------------------------------------------------

def sweep_figures(
    out_dir: str | Path,
    rows: Sequence[Row],
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    *,
    theme: str = "dark",
    fmt: str = "png",
    heatmap: tuple[str, str] | None = None,
    color_by: str | None = None,
) -> list[Path]:
    """Draw and save the sweep's figures into ``out_dir``; returns their paths.

    The heatmap needs two swept settings (``heatmap`` or the two with the most values) and is
    skipped when fewer than two vary.
    """
    out_dir = Path(out_dir)
    saved = []
    fig, _ = accuracy_vs_lr_figure(rows, theme=theme)
    saved.append(save_figure(fig, out_dir / f"{FIGURES['accuracy_vs_lr']}.{fmt}"))
    axes = heatmap or default_heatmap_axes(rows)
    if axes is not None:
        drawn = plot_heatmap(rows, *axes, theme=theme)
        saved.append(save_figure(drawn["figure"], out_dir / f"{FIGURES['heatmap']}.{fmt}"))
    drawn = plot_all_curves(rows, curves, color_by=color_by or default_color_by(rows), theme=theme)
    saved.append(save_figure(drawn["figure"], out_dir / f"{FIGURES['curves']}.{fmt}"))
    drawn = plot_best(rank_configurations(rows), varied=varied_settings(rows), theme=theme)
    saved.append(save_figure(drawn["figure"], out_dir / f"{FIGURES['best']}.{fmt}"))
    return saved
