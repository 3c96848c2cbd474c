"""The sweep figures draw the summary's numbers: means over seeds, spreads, heatmap cells, rankings.

The rows are made up (no training), so the expected numbers are known exactly.
"""

from __future__ import annotations

import statistics

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlplab.sweep import SWEPT, rank_configurations, varied_settings
from mlplab.viz.sweep import (
    accuracy_vs_lr_figure,
    default_heatmap_axes,
    heatmap_table,
    plot_accuracy_vs_lr,
    plot_all_curves,
    plot_best,
    sweep_figures,
)

BASE = {"hidden": "50", "optimizer": "sgd", "lr": 0.1, "batch_size": 100, "activation": "sigmoid",
        "weight_init_std": 0.01, "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False}


def row(seed: int, acc: float | None, status: str = "completed", **settings) -> dict:
    values = {**BASE, **settings}
    name = "-".join(str(values[n]) for n in SWEPT) + f"-s{seed}"
    return {"name": name, **values, "seed": seed, "iters": 100, "status": status, "final_train_acc": acc,
            "final_test_acc": acc, "best_test_acc": acc, "iterations_done": 100, "seconds": 1.0, "reason": ""}


def accuracy(hidden: str, lr: float, optimizer: str, seed: int) -> float:
    """A made-up landscape: wider is better, lr 0.1 is best, adam adds 1%, seeds spread by 0.4%."""
    return 0.8 + 0.02 * (hidden == "100") - 0.05 * abs(np.log10(lr) + 1) + 0.01 * (optimizer == "adam") + 0.004 * seed


@pytest.fixture
def rows():
    out = [row(s, accuracy(h, lr, o, s), hidden=h, lr=lr, optimizer=o)
           for h in ("20", "100") for o in ("sgd", "adam") for lr in (0.01, 0.1, 1.0) for s in range(3)]
    out.append(row(0, 0.098, status="diverged", hidden="20", lr=10.0, optimizer="sgd"))
    return out


def test_lines_are_the_means_over_seeds_and_bands_the_seed_range(rows):
    sgd = [r for r in rows if r["optimizer"] == "sgd"]
    drawn = plot_accuracy_vs_lr(sgd, x="lr", line_by="hidden")
    assert set(drawn["lines"]) == {"20", "100"}
    for hidden, line in drawn["lines"].items():
        xs, ys = line.get_data()
        expected = [statistics.fmean(accuracy(hidden, lr, "sgd", s) for s in range(3)) for lr in (0.01, 0.1, 1.0)]
        np.testing.assert_allclose(xs, [0.01, 0.1, 1.0])
        np.testing.assert_allclose(ys, expected)
        band = drawn["bands"][hidden].get_paths()[0].vertices[:, 1]
        assert band.min() == pytest.approx(min(accuracy(hidden, lr, "sgd", 0) for lr in (0.01, 0.1, 1.0)))
        assert band.max() == pytest.approx(max(accuracy(hidden, lr, "sgd", 2) for lr in (0.01, 0.1, 1.0)))
    assert len(drawn["failed"].get_offsets()) == 1  # the diverged run, marked, not averaged in
    plt.close("all")


def test_one_panel_per_optimizer_and_the_best_named_in_the_title(rows):
    fig, panels = accuracy_vs_lr_figure(rows, theme="light")
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert titles == ["sgd", "adam"] and len(panels) == 2
    assert fig.get_suptitle().startswith("best: hidden 100, adam, lr 0.1 — 83.40% mean test accuracy over 3 seeds")
    plt.close(fig)


def test_heatmap_cells_are_the_best_mean_over_the_other_settings(rows):
    table = heatmap_table(rows, "lr", "hidden")
    cells, winners = table.cells, table.winners
    assert table.x_labels == ["0.01", "0.1", "1", "10"] and table.y_labels == ["20", "100"]
    for iy, hidden in enumerate(("20", "100")):
        for ix, lr in enumerate((0.01, 0.1, 1.0)):
            best = max(statistics.fmean(accuracy(hidden, lr, o, s) for s in range(3)) for o in ("sgd", "adam"))
            assert cells[iy, ix] == pytest.approx(best)
            assert winners[iy][ix] == "adam"
    assert np.isnan(cells[0, 3]) and np.isnan(cells[1, 3])  # lr 10 only diverged: no accuracy to show
    assert table.tried[0, 3] and not table.tried[1, 3]  # × where a run diverged, blank where none was tried
    assert default_heatmap_axes(rows) == ("lr", "hidden")


def test_heatmap_bins_a_random_search(rows):
    many = [row(0, 0.5 + k / 100, lr=float(lr), hidden=str(h))
            for k, (lr, h) in enumerate(zip(np.geomspace(1e-4, 1.0, 20), range(10, 210, 10), strict=True))]
    table = heatmap_table(many, "lr", "hidden")
    assert len(table.x_labels) == 6 and table.x_labels[0] == "0.0001–0.00046" and table.x_labels[-1].endswith("–1")
    assert table.y_labels[0] == "10–16" and table.y_labels[-1].endswith("–200")
    assert table.cells[-1, -1] == pytest.approx(0.69)  # the largest lr and width: the last draw
    expected = np.zeros((6, 6), bool)  # cell k of 6 log-spaced bins: floor(6 · log(v/low) / log(high/low))
    for r in many:
        ix = min(int(6 * np.log(r["lr"] / 1e-4) / np.log(1e4) + 1e-9), 5)
        iy = min(int(6 * np.log(int(r["hidden"]) / 10) / np.log(20) + 1e-9), 5)
        expected[iy, ix] = True
    np.testing.assert_array_equal(table.tried, expected)


def test_curves_one_line_per_run_coloured_by_the_setting(rows):
    curves = {r["name"]: ([0, 50, 100], [0.1, 0.5, r["final_test_acc"]]) for r in rows}
    drawn = plot_all_curves(rows, curves, color_by="optimizer")
    assert set(drawn["lines"]) == {r["name"] for r in rows}
    colour = {o: {drawn["lines"][r["name"]].get_color() for r in rows if r["optimizer"] == o} for o in ("sgd", "adam")}
    assert len(colour["sgd"]) == 1 and len(colour["adam"]) == 1 and colour["sgd"] != colour["adam"]
    diverged = next(r for r in rows if r["status"] == "diverged")
    assert drawn["lines"][diverged["name"]].get_linestyle() == "--"
    plt.close("all")


def test_best_bars_are_the_ranking_best_first(rows):
    ranked = rank_configurations(rows)
    drawn = plot_best(ranked, varied=varied_settings(rows), top=5)
    widths = [bar.get_width() for bar in drawn["bars"]]
    assert widths == pytest.approx([r.mean for r in ranked[:5]])
    assert widths == sorted(widths, reverse=True)
    ax = drawn["figure"].axes[0]
    top = max(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True))
    assert top[1] == "hidden 100, adam, lr 0.1"  # the best bar is drawn at the top
    plt.close("all")


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_sweep_figures_are_saved(rows, tmp_path, theme):
    curves = {r["name"]: ([0, 100], [0.1, r["final_test_acc"]]) for r in rows}
    paths = sweep_figures(tmp_path, rows, curves, theme=theme)
    assert [p.name for p in paths] == ["sweep_accuracy_vs_lr.png", "sweep_heatmap.png", "sweep_curves.png",
                                       "sweep_best.png"]
    assert all(p.stat().st_size > 10_000 for p in paths)
