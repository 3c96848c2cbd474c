"""The shortcuts that make saving figures cheaper change no pixel.

Each shortcut is compared with the slower way matplotlib does the same thing by itself: ``savefig``
with the layout engine left on (it lays the figure out in an invisible first drawing),
``fig.draw_without_rendering()`` before measuring display coordinates, cell labels that take part in
the layout, and ``np.linspace`` segment by segment.
"""

from __future__ import annotations

import io

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from mlplab.train.history import History
from mlplab.viz import panels
from mlplab.viz.placement import points_between
from mlplab.viz.theme import drop_layout_engine, figure_bytes, theme_context
from mlplab.viz.training import curves
from mlplab.viz.training.confusion import plot_confusion


def make_history(n_evals: int, every: int = 100) -> History:
    """A run of ``n_evals`` evaluations whose loss falls with noise, as a real one does."""
    rng = np.random.default_rng(0)
    train = list(np.linspace(0.1, 0.95, n_evals))
    n_iter = (n_evals - 1) * every + 1
    return History(iterations=[k * every for k in range(n_evals)], train_acc=train,
                   test_acc=[a - 0.002 * k for k, a in enumerate(train)], train_loss=[2.0] * n_evals,
                   test_loss=list(np.linspace(2.3, 0.3, n_evals)), eval_seconds=[0.1] * n_evals,
                   loss=list(2.3 * np.exp(-np.arange(n_iter) / 200) + 0.1 * rng.random(n_iter)), status="completed")


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def matplotlib_png(fig, dpi: float = 150) -> bytes:
    """What ``savefig`` gives by itself, layout engine on (its two drawings)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def busy_figure(theme: str = "dark"):
    """Constrained layout with everything that moves it: titles, tick labels of two sizes, a log
    axis (math text), a colour bar, a suptitle."""
    with theme_context(theme):
        fig, axes = plt.subplots(2, 3, figsize=(7, 4), layout="constrained")
        for k, ax in enumerate(axes.flat):
            ax.plot(np.arange(10), np.exp(np.arange(10) * (k + 1) / 5), "-o")
            ax.set_title(f"panel {k}: ✓ {k / 7:.1%}")
        axes[0, 1].set_yscale("log")
        image = axes[1, 2].imshow(np.arange(16.0).reshape(4, 4))
        fig.colorbar(image, ax=axes[1, 2], label="share")
        fig.suptitle("a figure with many axes")
    return fig


@pytest.mark.parametrize("dpi", [72, 150])
def test_a_figure_laid_out_once_has_the_pixels_of_matplotlibs_own_two_pass_save(dpi):
    fig = busy_figure()
    reference = pixels(matplotlib_png(fig, dpi))
    fig_again = busy_figure()
    ours = pixels(figure_bytes(fig_again, "png", dpi=dpi))
    plt.close(fig)
    assert ours.shape == reference.shape
    assert np.array_equal(ours, reference)
    # and the figure keeps its layout engine afterwards: it still lays itself out when changed
    assert fig_again.get_layout_engine() is not None
    plt.close(fig_again)


def test_a_figure_saved_then_changed_is_laid_out_again_as_matplotlib_would():
    """Constrained layout starts from where the axes are, so a second save of the same figure can
    differ from the first (in matplotlib's own ``savefig`` too): compare the same history both ways."""
    def save_change_save(save) -> np.ndarray:
        fig = busy_figure()
        save(fig)
        fig.axes[0].set_title("a much longer title that needs\nmore room above the panel")
        png = pixels(save(fig))
        plt.close(fig)
        return png

    ours = save_change_save(lambda fig: figure_bytes(fig, "png", dpi=72))
    assert np.array_equal(ours, save_change_save(lambda fig: matplotlib_png(fig, 72)))


def test_dropping_the_layout_engine_leaves_none_even_when_matplotlibrc_asks_for_one():
    with mpl.rc_context({"figure.autolayout": True}):
        fig = busy_figure()
        drop_layout_engine(fig)
        assert fig.get_layout_engine() is None
    plt.close(fig)


def test_lay_out_puts_the_axes_where_an_invisible_drawing_would():
    def positions(lay_out) -> list:
        with theme_context("dark"):
            fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
            ax.plot([0, 1000], [0.1, 0.9])
            ax.set_title("accuracy")
            ax.set_xlabel("iteration")
            ax.secondary_xaxis("top").set_xlabel("epoch")
            lay_out(fig)
            boxes = [a.get_position().bounds for a in fig.axes]
        plt.close(fig)
        return boxes

    assert positions(panels.lay_out) == positions(lambda fig: fig.draw_without_rendering())


@pytest.mark.parametrize("plot", ["accuracy", "loss"])
def test_the_curves_place_their_labels_as_with_an_invisible_drawing_first(monkeypatch, plot):
    def drawn(lay_out) -> tuple[np.ndarray, list]:
        monkeypatch.setattr(curves, "lay_out", lay_out)
        draw = curves.plot_accuracy if plot == "accuracy" else curves.plot_loss
        fig = draw(make_history(8), theme="dark")["figure"]
        texts = [(t.get_text(), t.get_position(), t.get_ha(), t.get_va())
                 for ax in fig.axes for t in ax.texts]
        png = pixels(figure_bytes(fig, "png", dpi=72))
        plt.close(fig)
        return png, texts

    fast, fast_texts = drawn(panels.lay_out)
    slow, slow_texts = drawn(lambda fig: fig.draw_without_rendering())
    assert fast_texts == slow_texts
    assert np.array_equal(fast, slow)


def test_confusion_cell_labels_left_out_of_the_layout_move_nothing():
    matrix = np.diag([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]) + np.eye(10, k=1, dtype=int) * 7
    fig = plot_confusion(matrix, theme="light")["figure"]
    ours = pixels(figure_bytes(fig, "png", dpi=72))
    plt.close(fig)
    fig = plot_confusion(matrix, theme="light")["figure"]
    for text in fig.axes[0].texts:
        text.set_in_layout(True)
    reference = pixels(matplotlib_png(fig, 72))
    plt.close(fig)
    assert np.array_equal(ours, reference)


def test_points_between_are_np_linspace_segment_by_segment():
    def one_segment_at_a_time(pts: np.ndarray, step: float, most: int) -> np.ndarray:
        out = [np.empty((0, 2))]
        for p, q in zip(pts[:-1], pts[1:], strict=True):
            length = float(np.hypot(*(q - p)))
            n = min(int(length // step), most) if np.isfinite(length) else most
            if n > 1:
                out.append(p + np.linspace(0, 1, n + 1)[1:-1, None] * (q - p))
        return np.concatenate(out)

    rng = np.random.default_rng(0)
    for scale in (0.5, 3.0, 40.0, 1e5):
        pts = rng.normal(size=(int(rng.integers(2, 60)), 2)) * scale
        expected = one_segment_at_a_time(pts, 2.0, 400)
        got = points_between(pts, 2.0, most=400)
        assert got.shape == expected.shape
        assert np.array_equal(got, expected)


def test_points_between_a_single_point_or_short_segments_is_empty():
    assert points_between(np.zeros((1, 2)), 2.0, most=10).shape == (0, 2)
    assert points_between(np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]), 2.0, most=10).shape == (0, 2)
    # a 10-pixel segment at 2-pixel steps: 5 pieces, 4 points inside
    inside = points_between(np.array([[0.0, 0.0], [10.0, 0.0]]), 2.0, most=10)
    assert np.allclose(inside, [[2, 0], [4, 0], [6, 0], [8, 0]])
