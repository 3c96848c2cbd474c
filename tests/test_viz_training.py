"""Learning curves draw exactly the recorded history; the textbook curve loads with its source."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlplab.data.reference import load_book_curve, parse_reference_csv
from mlplab.errors import DataError
from mlplab.train.history import History
from mlplab.viz.theme import figure_bytes
from mlplab.viz.training.curves import moving_average, plot_accuracy, plot_loss

PNG = b"\x89PNG\r\n\x1a\n"


def make_history(n_evals: int = 6, every: int = 100, status: str = "completed") -> History:
    rng = np.random.default_rng(0)
    it = [k * every for k in range(n_evals)]
    train = list(np.linspace(0.1, 0.95, n_evals))
    test = [a - 0.002 * k for k, a in enumerate(train)]
    n_iter = it[-1] + 1 if it else 0
    loss = list(2.3 * np.exp(-np.arange(n_iter) / 200) + 0.1 * rng.random(n_iter))
    return History(iterations=it, train_acc=train, test_acc=test, train_loss=[2.0] * n_evals,
                   test_loss=list(np.linspace(2.3, 0.3, n_evals)), eval_seconds=[0.1] * n_evals, loss=loss,
                   status=status)


def render_png(fig) -> bytes:
    """Render with every warning turned into an error (missing glyphs, layout failures, ...)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = figure_bytes(fig, "png")
    plt.close(fig)
    return data


def test_book_curve_has_the_17_published_evaluations_and_names_its_source():
    book = load_book_curve()
    assert book.iterations.tolist() == list(range(0, 9601, 600))
    assert (book.final_train_acc, book.final_test_acc) == (0.94705, 0.9465)
    assert "deep-learning-from-scratch" in book.source and "ch04" in book.source
    assert np.all(np.diff(book.test_acc[1:]) > -0.01)  # the published curve rises


def test_damaged_reference_csv_is_a_data_error():
    with pytest.raises(DataError, match="damaged"):
        parse_reference_csv("# source\neval,iteration,train_acc\n0,zero,0.1\n")


def test_moving_average_is_the_mean_of_each_window():
    values = np.array([1.0, 2.0, 6.0, 3.0, 8.0])
    assert moving_average(values, 2).tolist() == [1.5, 4.0, 4.5, 5.5]
    assert moving_average(values, 5).tolist() == [4.0]
    assert moving_average(np.full(50, 0.7), 7) == pytest.approx(np.full(44, 0.7))
    assert moving_average(values, 99).tolist() == [4.0]  # a window longer than the data is the whole mean


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_accuracy_lines_are_the_history_arrays(theme):
    h = make_history()
    drawn = plot_accuracy(h, theme=theme, reference=load_book_curve(), iters_per_epoch=100)
    assert drawn["train"].get_xdata().tolist() == h.iterations
    assert drawn["train"].get_ydata().tolist() == h.train_acc
    assert drawn["test"].get_ydata().tolist() == h.test_acc
    assert drawn["train_label"].get_text() == f"train {h.train_acc[-1]:.2%}"
    assert drawn["test_label"].get_text() == f"test {h.test_acc[-1]:.2%}"
    # the book's curve only as far as this run went (iterations 0 and 600 of 0..500: just 0)
    assert drawn["reference_test"].get_xdata().tolist() == [0]
    assert "inset" in drawn
    assert render_png(drawn["figure"]).startswith(PNG)


def test_moving_average_leaves_a_gap_only_at_windows_that_hold_a_non_finite_value():
    values = np.arange(12.0)
    values[5] = np.inf
    values[9] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value" from inf − inf
        means = moving_average(values, 3)
    for i, mean in enumerate(means):
        window = values[i : i + 3]
        if np.all(np.isfinite(window)):
            assert mean == pytest.approx(window.mean())
        else:
            assert np.isnan(mean)
    assert np.isfinite(means[6])  # a window after the inf (a running sum with the inf in it would be NaN)


def test_a_validation_split_adds_its_accuracy_line_and_none_without_one():
    import dataclasses

    h = make_history(8)
    assert "validation" not in plot_accuracy(h)
    val = [a - 0.01 for a in h.test_acc]
    drawn = plot_accuracy(dataclasses.replace(h, val_acc=val, val_loss=[0.5] * 8), theme="light")
    assert drawn["validation"].get_xdata().tolist() == h.iterations
    assert drawn["validation"].get_ydata().tolist() == val
    assert "validation" in [t.get_text() for t in drawn["legend"].get_texts()]
    inset_lines = [line.get_ydata().tolist() for line in drawn["inset"].get_lines()]
    assert val[8 // 3:] in inset_lines  # the zoom shows it too
    assert render_png(drawn["figure"]).startswith(PNG)


def test_a_replay_cuts_the_validation_history_where_it_cuts_the_others(tmp_path):
    from mlplab.train import TrainConfig, train
    from mlplab.viz.training.run_figures import load_run_data

    config = TrainConfig(iters=90, train_size=500, test_size=200, eval_every=30, validation=100, seed=0)
    train(config, run_dir=tmp_path / "run")
    data = load_run_data(tmp_path / "run")
    at_one = data.history_until(1)
    assert at_one.iterations == data.run.history.iterations[:2]
    assert at_one.val_acc == data.run.history.val_acc[:2] and at_one.val_loss == data.run.history.val_loss[:2]


def test_accuracy_of_a_run_interrupted_after_one_evaluation():
    h = make_history(n_evals=1, status="interrupted")
    drawn = plot_accuracy(h, reference=load_book_curve())
    assert drawn["train"].get_ydata().tolist() == h.train_acc
    assert "inset" not in drawn  # nothing to zoom on
    assert drawn["train_label"].get_horizontalalignment() == "left"  # the label stays inside the axes
    assert "interrupted" in drawn["figure"].axes[0].get_title()
    assert render_png(drawn["figure"]).startswith(PNG)


def test_accuracy_without_any_evaluation_says_so():
    drawn = plot_accuracy(History(status="interrupted"))
    texts = [t.get_text() for t in drawn["figure"].axes[0].texts]
    assert "no evaluation recorded" in texts
    render_png(drawn["figure"])


@pytest.mark.parametrize("log", [False, True])
def test_loss_draws_every_iteration_and_its_moving_average(log):
    h = make_history()
    drawn = plot_loss(h, log=log, window=10, theme="light")
    assert drawn["batch"].get_ydata() == pytest.approx(h.loss)
    assert drawn["smooth"].get_ydata() == pytest.approx(moving_average(h.loss, 10))
    assert drawn["smooth"].get_xdata()[0] == pytest.approx(4.5)  # centred on its window 0..9
    assert drawn["test"].get_ydata().tolist() == h.test_loss
    assert drawn["figure"].axes[0].get_yscale() == ("log" if log else "linear")
    assert render_png(drawn["figure"]).startswith(PNG)
