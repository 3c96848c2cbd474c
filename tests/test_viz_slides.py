"""Figures a teacher can put on a slide (issue 17): resolution and formats, one colour per optimizer,
labels in free space, the architecture drawing explaining one digit, one colour scale across training."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import matplotlib.pyplot as plt
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_hex
from PIL import Image, ImageSequence

from mlplab.cli.app import main
from mlplab.errors import ConfigError
from mlplab.landscape import FUNCTIONS, descend, judge
from mlplab.nn import build_network
from mlplab.train.history import History
from mlplab.viz.landscape.compare import plot_compare_grid, plot_compare_overlay
from mlplab.viz.landscape.interactive import landscape_figure
from mlplab.viz.landscape.plots import plot_contour, plot_convergence, plot_surface
from mlplab.viz.placement import line_points, points_inside
from mlplab.viz.theme import DEFAULT_DPI, OPTIMIZER_COLORS, figure_bytes, figure_dpi, save_figure
from mlplab.viz.training.architecture import contribution_scale, layer_activations, plot_architecture
from mlplab.viz.training.curves import plot_accuracy, plot_loss
from mlplab.viz.training.hidden_units import frame_title, hidden_units_gif

SVG = "{http://www.w3.org/2000/svg}svg"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def png_dpi(data: bytes) -> tuple[float, tuple[int, int]]:
    image = Image.open(io.BytesIO(data))
    return image.info["dpi"][0], image.size


# ---------------------------------------------------------------- resolution and formats


def test_figures_are_saved_at_150_dpi_unless_told_otherwise(tmp_path):
    fig = plt.figure(figsize=(4, 3))
    dpi, size = png_dpi(figure_bytes(fig))
    assert DEFAULT_DPI == 150
    assert dpi == pytest.approx(150, abs=0.1) and size == (600, 450)  # pHYs and the pixel count agree
    with figure_dpi(300):
        path = save_figure(fig, tmp_path / "f.png", close=False)
    dpi, size = png_dpi(path.read_bytes())
    assert dpi == pytest.approx(300, abs=0.1) and size == (1200, 900)
    with pytest.raises(ConfigError, match="dpi must be between 10 and 1200, got 5"):
        with figure_dpi(5):
            pass
    plt.close(fig)


COMMANDS_THAT_DRAW = ["train", "plot", "gradcheck", "diagnose", "sweep", "descent", "sgd", "compare"]


@pytest.mark.parametrize("command", COMMANDS_THAT_DRAW)
def test_every_command_that_draws_has_dpi(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0 and "--dpi" in result.output, result.output


@pytest.mark.parametrize("command", ["descent", "sgd", "compare", "train", "plot", "sweep"])
def test_every_command_that_draws_many_figures_has_format_svg(command):
    assert "svg" in invoke(command, "--help").output


def test_landscape_command_writes_svg_and_png_at_the_asked_dpi(tmp_path):
    out = tmp_path / "d"
    result = invoke("descent", "--steps", "10", "--format", "svg", "--format", "png", "--dpi", "80", "--out", out)
    assert result.exit_code == 0, result.output
    for name in ("surface", "contour", "convergence"):
        root = ET.parse(out / f"{name}.svg").getroot()  # parses as XML
        assert root.tag == SVG and len(root.findall(f".//{{{SVG[1:].split('}')[0]}}}path")) > 10  # and has drawing
        dpi, _ = png_dpi((out / f"{name}.png").read_bytes())
        assert dpi == pytest.approx(80, abs=0.1)


def test_a_bad_dpi_is_one_error_line_before_any_work(tmp_path):
    result = invoke("compare", "--dpi", "0", "--out", tmp_path / "c")
    assert result.exit_code == 2 and "dpi must be between 10 and 1200, got 0" in result.output
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- one colour per optimizer


@pytest.fixture(scope="module")
def paths():
    f = FUNCTIONS["textbook"]
    return [descend(f, name, lr, 20, (-7, 2)) for name, lr in (("sgd", 0.95), ("momentum", 0.1), ("adam", 0.3))]


def _line_colours(ax) -> dict[str, str]:
    return {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()}


def test_an_optimizer_has_the_same_colour_in_every_figure_whatever_its_position(paths):
    verdicts = [judge(p) for p in paths]
    overlay = plot_compare_overlay(paths, verdicts)
    reversed_overlay = plot_compare_overlay(paths[::-1], verdicts[::-1], theme="light")
    grid = plot_compare_grid(paths, verdicts)
    single = plot_contour(paths[2].function, [paths[2]], arrows=False)
    surface = plot_surface(paths[2].function, [paths[2]])
    html = landscape_figure(paths[::-1])
    for p in paths:
        want = OPTIMIZER_COLORS[p.optimizer]
        assert _line_colours(overlay["map"])[p.label] == want
        assert _line_colours(reversed_overlay["map"])[p.label] == want  # by name, not by position or theme
        assert any(to_hex(line.get_color()) == want for ax in grid["axes"] for line in ax.get_lines())
        assert [t.line.color for t in html.data if t.name == p.label] == [want]
    assert _line_colours(single["figure"].axes[0])[paths[2].label] == OPTIMIZER_COLORS["adam"]
    assert to_hex(surface["paths"][0].get_color()) == OPTIMIZER_COLORS["adam"]
    conv = plot_convergence(judge(paths[1]))
    assert to_hex(conv["figure"].axes[0].get_lines()[0].get_color()) == OPTIMIZER_COLORS["momentum"]
    plt.close("all")


def test_every_optimizer_has_a_colour_and_none_is_a_viridis_colour():
    from mlplab.optim import OPTIMIZERS

    assert set(OPTIMIZER_COLORS) == set(OPTIMIZERS)
    assert len(set(OPTIMIZER_COLORS.values())) == len(OPTIMIZER_COLORS)
    viridis = plt.get_cmap("viridis")(np.linspace(0, 1, 256))[:, :3]
    for name, colour in OPTIMIZER_COLORS.items():
        rgb = np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)]) / 255
        assert np.min(np.linalg.norm(viridis - rgb, axis=1)) > 0.2, name  # not lost on any contour band


def test_the_web_playground_gets_the_same_colours():
    """The pages read each optimizer's colour from /palette.css (``--opt-NAME``), made from the one map."""
    from mlplab.viz.palette import css_variables

    for name, colour in OPTIMIZER_COLORS.items():
        assert f"--opt-{name}: {colour}" in css_variables(), name


def test_3d_path_is_drawn_above_the_surface_with_an_outline_a_slider_and_play(paths):
    fig = landscape_figure(paths[:1])
    surface, outline, line = fig.data[:3]
    z_surface = paths[0].function(np.asarray(line.x), np.asarray(line.y))
    assert np.all(np.asarray(line.z) - z_surface > 0.02 * (np.nanmax(surface.z) - np.nanmin(surface.z)))
    assert outline.line.width > line.line.width and not outline.showlegend
    assert np.allclose(np.asarray(line.customdata)[:, 1], paths[0].values)  # the hover says the true f
    assert len(fig.layout.sliders[0].steps) == paths[0].steps + 1
    assert [b.label for b in fig.layout.updatemenus[0].buttons][0].endswith("play")
    assert len(fig.frames[-1].data) == 2  # outline and line move together


# ---------------------------------------------------------------- value labels in free space


def _label_is_free(ax, text) -> bool:
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    box = text.get_window_extent(renderer)
    frame = ax.get_window_extent(renderer)
    inside = frame.x0 < box.x0 and box.x1 < frame.x1 and frame.y0 < box.y0 and box.y1 < frame.y1
    return inside and points_inside(box, line_points(ax, ax.get_lines()), pad=0) == 0


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_final_accuracy_labels_cover_no_curve_and_no_axis_line(theme):
    # the textbook's ending: both curves near the top spine, 0.1 points apart
    its = list(range(0, 10_001, 600))
    train = list(np.linspace(0.1, 0.9474, len(its)) ** 0.3)
    train[-1] = 0.9474
    test = [a - 0.0012 for a in train]
    h = History(iterations=its, train_acc=train, test_acc=test, train_loss=[1.0] * len(its),
                test_loss=[1.0] * len(its), loss=list(np.linspace(2.3, 0.1, 10_001)), status="completed")
    drawn = plot_accuracy(h, theme=theme, iters_per_epoch=600)
    fig = drawn["figure"]
    fig.draw_without_rendering()
    ax = fig.axes[0]
    for key in ("train_label", "test_label"):
        assert _label_is_free(ax, drawn[key]), drawn[key].get_text()
    renderer = fig.canvas.get_renderer()
    train_box, test_box = (drawn[k].get_window_extent(renderer) for k in ("train_label", "test_label"))
    assert not train_box.overlaps(test_box)
    loss = plot_loss(h, theme=theme)
    loss["figure"].draw_without_rendering()
    assert _label_is_free(loss["figure"].axes[0], loss["final"])
    plt.close("all")


# ---------------------------------------------------------------- the architecture explains one digit


def _network():
    net = build_network((16, 5, 3), activation="sigmoid", weight_init_std=1.0, seed=3, dtype=np.float64)
    x = np.random.default_rng(4).random(16)
    return net, x


def test_each_drawn_edge_is_the_contribution_activation_times_weight():
    net, x = _network()
    acts = layer_activations(net, x)
    drawn = plot_architecture(net.params, (16, 5, 3), x=x, label=1, n_inputs=16, max_edges=1000)
    for k, (values, (i, j), lines) in enumerate(zip(drawn["edge_values"], drawn["edge_index"], drawn["edges"],
                                                     strict=True)):
        W = net.params[f"W{k + 1}"]
        assert np.allclose(values, acts[k][i] * W[i, j])  # pixel × weight, then activation × weight
        rgba = lines.get_colors()
        red_wins = rgba[:, 0] > rgba[:, 2]
        big = np.abs(values) > 0.1 * drawn["scale"][k]
        assert np.array_equal(red_wins[big], values[big] > 0)  # red pushes up, blue down
        # the strongest edge is the most opaque
        assert rgba[np.argmax(np.abs(values)), 3] == pytest.approx(rgba[:, 3].max())
    # summed over the inputs (plus the bias), the contributions are the hidden pre-activation
    contributions = acts[0][:, None] * net.params["W1"]
    assert np.allclose(contributions.sum(0) + net.params["b1"], x @ net.params["W1"] + net.params["b1"])
    plt.close("all")


def test_true_and_predicted_classes_are_marked():
    net, x = _network()
    drawn = plot_architecture(net.params, (16, 5, 3), x=x, label=0)
    predicted = int(np.argmax(drawn["probabilities"]))
    texts = " ".join(t.get_text() for t in drawn["ax"].texts)
    assert drawn["true_label"].get_text() == "0" and drawn["true_label"].get_bbox_patch() is not None
    assert "predicted" in texts
    if predicted != 0:
        assert "true" in texts
    plt.close("all")


def test_one_scale_across_training_makes_an_untrained_network_look_untrained():
    net, x = _network()
    trained = net.params
    untrained = {k: v * 0.01 for k, v in trained.items()}
    scale = contribution_scale([untrained, trained], (16, 5, 3), "sigmoid", x)
    early = plot_architecture(untrained, (16, 5, 3), x=x, scale=scale)
    late = plot_architecture(trained, (16, 5, 3), x=x, scale=scale)
    assert early["scale"] == late["scale"] == scale
    assert early["edges"][0].get_colors()[:, 3].max() < 0.3 < late["edges"][0].get_colors()[:, 3].max()
    own = plot_architecture(untrained, (16, 5, 3), x=x)  # on its own scale it would look fully trained
    assert own["edges"][0].get_colors()[:, 3].max() == pytest.approx(1.0)
    plt.close("all")


@pytest.mark.parametrize("sizes", [(784, 10, 10), (784, 24, 10), (784, 25, 10), (784, 50, 10), (784, 100, 10),
                                   (784, 100, 50, 10), (784, 30, 30, 30, 10)])
def test_nodes_do_not_overlap(sizes):
    net = build_network(sizes, weight_init_std=0.3, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).random(784)
    drawn = plot_architecture(net.params, sizes, x=x, label=3)
    fig, ax = drawn["figure"], drawn["ax"]
    fig.draw_without_rendering()
    for col in drawn["columns"]:
        centres = ax.transData.transform(np.column_stack([col.x, col.y]))
        diameter = ax.transData.transform([(col.radius * 2, 0)])[0, 0] - ax.transData.transform([(0, 0)])[0, 0]
        d = np.linalg.norm(centres[:, None] - centres[None], axis=2)
        d[np.diag_indices_from(d)] = np.inf
        assert d.min() >= diameter * 0.999, (sizes, col.size)
    plt.close("all")


# ---------------------------------------------------------------- the hidden-units GIF


def _frames(data: bytes) -> list[np.ndarray]:
    return [np.asarray(f.convert("RGB"), dtype=float) for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))]


def test_gif_frames_share_one_colour_scale_and_end_on_the_final_model():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((784, 6))
    frames = np.stack([0.01 * W, 0.5 * W, W]).astype(np.float16)
    data = hidden_units_gif(frames, [0, 10, 20], test_acc=[0.1, 0.5, 0.9])
    pictures = _frames(data)
    assert len(pictures) == 3
    # one scale: the 0.01× weights are nearly the zero colour (white: red = blue), the full ones far from it
    colour = [np.mean(np.abs(p[..., 0] - p[..., 2])) for p in pictures]
    assert colour[0] < 0.2 * colour[2] and colour[1] < colour[2]
    final = 2 * W  # a run that ended after its last evaluation
    with_final = _frames(hidden_units_gif(frames, [0, 10, 20], final=(final, 25, None)))
    assert len(with_final) == 4
    same = _frames(hidden_units_gif(frames, [0, 10, 20], final=(frames[-1].astype(np.float32), 20, None)))
    assert len(same) == 3  # the last snapshot is already the final model


def test_evaluations_are_counted_from_zero():
    assert "evaluation 0 of 0–12" in frame_title(0, 0, 13, None)
    assert "final model" in frame_title(1199, None, 13, None)
    assert "Evaluations are counted from 0" in " ".join(invoke("plot", "--help").output.split())


def test_colour_bar_labels_do_not_run_into_the_neighbouring_axes(paths):
    verdicts = [judge(p) for p in paths]
    for theme in ("dark", "light"):
        fig = plot_compare_overlay(paths, verdicts, theme=theme)["figure"]
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
        assert bars
        for bar in bars:
            label = bar.yaxis.label.get_window_extent(renderer)
            others = [ax for ax in fig.axes if ax is not bar and ax.get_label() != "<colorbar>"]
            for ax in others:
                assert not label.overlaps(ax.get_tightbbox(renderer)), ax.get_title()
    plt.close("all")


def test_accuracy_legend_covers_no_curve_when_a_run_jumps_at_its_first_evaluation():
    its = list(range(0, 10_001, 600))
    train = [0.1, 0.78, *np.linspace(0.88, 0.948, len(its) - 2)]
    h = History(iterations=its, train_acc=train, test_acc=[a - 0.002 for a in train], train_loss=[1.0] * len(its),
                test_loss=[1.0] * len(its), loss=[1.0] * 10_001, status="completed")
    drawn = plot_accuracy(h, iters_per_epoch=600)
    fig = drawn["figure"]
    fig.draw_without_rendering()
    ax = fig.axes[0]
    box = drawn["legend"].get_window_extent(fig.canvas.get_renderer())
    assert points_inside(box, line_points(ax, ax.get_lines()), pad=0) == 0
    plt.close("all")


def test_plot_and_gradcheck_write_at_the_asked_dpi_and_the_help_says_the_default(tmp_path):
    from mlplab.train import TrainConfig, train

    run_dir = tmp_path / "run"
    train(TrainConfig(iters=30, train_size=300, test_size=200, eval_every=15, hidden=(8,), seed=0), run_dir=run_dir)
    result = invoke("plot", run_dir, "--only", "accuracy,architecture", "--dpi", "72", "--format", "png",
                    "--format", "svg", "--no-animation")
    assert result.exit_code == 0, result.output
    for name in ("accuracy", "architecture"):
        assert png_dpi((run_dir / "figures" / f"{name}.png").read_bytes())[0] == pytest.approx(72, abs=0.1)
        assert ET.parse(run_dir / "figures" / f"{name}.svg").getroot().tag == SVG
    plot = tmp_path / "g.png"
    result = invoke("gradcheck", "--samples", "1", "--hidden", "4", "--plot", plot, "--dpi", "60")
    assert result.exit_code == 0, result.output
    assert png_dpi(plot.read_bytes())[0] == pytest.approx(60, abs=0.1)
    assert f"default {DEFAULT_DPI}" in invoke("plot", "--help").output


def test_sweep_curves_coloured_by_optimizer_use_the_optimizer_colours():
    from mlplab.viz.sweep import plot_all_curves

    base = {"hidden": "50", "lr": 0.1, "batch_size": 100, "activation": "sigmoid", "weight_init_std": 0.01,
            "seed": 0, "iters": 100, "status": "completed", "final_train_acc": 0.9, "final_test_acc": 0.9,
            "best_test_acc": 0.9, "iterations_done": 100, "seconds": 1.0, "reason": ""}
    rows = [{**base, "name": name, "optimizer": name} for name in ("adam", "sgd")]
    drawn = plot_all_curves(rows, {r["name"]: ([0, 100], [0.1, 0.9]) for r in rows}, color_by="optimizer")
    for name in ("adam", "sgd"):
        assert to_hex(drawn["lines"][name].get_color()) == OPTIMIZER_COLORS[name]
    plt.close("all")
