"""``mlplab diagnose`` and the layer-health figures, on a real short run."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli.app import main
from mlplab.train import TrainConfig, train
from mlplab.train.layer_stats import LAYER_STATS, load_layer_stats
from mlplab.viz.diagnose import plot_gradient_flow, plot_layer_health
from mlplab.viz.training.run_figures import FINAL_ONLY, draw_run

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def too_high(tmp_path_factory):
    folder = tmp_path_factory.mktemp("too_high")
    train(TrainConfig(lr=1000.0, iters=200, eval_every=50, train_size=1000, test_size=200, seed=0), run_dir=folder)
    return folder


def test_diagnose_prints_the_table_and_exits_0_when_insights_fire(too_high):
    result = CliRunner().invoke(main, ["diagnose", str(too_high)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "784-50-10 sigmoid, sgd lr=1000" in lines[0]
    assert lines[1].split() == ["severity", "rule", "finding"]
    assert any(line.startswith("warning   lr-too-high") for line in lines)
    assert "lr-too-low" not in result.output


@pytest.mark.parametrize("damage", ["missing", "layer_stats"])
def test_diagnose_gives_one_line_for_a_missing_or_damaged_folder(too_high, tmp_path, damage):
    if damage == "missing":
        target = tmp_path / "nowhere"
    else:
        target = tmp_path / "copy"
        target.mkdir()
        for f in too_high.iterdir():
            if f.is_file():
                (target / f.name).write_bytes(f.read_bytes())
        (target / LAYER_STATS).write_text("not json")
    result = CliRunner().invoke(main, ["diagnose", str(target)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("Error: ")


def test_diagnose_help_has_an_example():
    result = CliRunner().invoke(main, ["diagnose", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_figures_are_written_for_both_themes(too_high, tmp_path, theme):
    paths = draw_run(too_high, theme=theme, formats=("png", "svg"), names=FINAL_ONLY, animation=False).paths
    assert set(paths) == set(FINAL_ONLY)
    for name, files in paths.items():
        assert [p.name for p in files] == [f"{name}.png", f"{name}.svg"]
        assert files[0].read_bytes().startswith(PNG)


def test_figures_draw_the_recorded_numbers(too_high):
    stats = load_layer_stats(too_high)
    health = plot_layer_health(stats)
    for j, layer in enumerate(stats.layers):
        for key in ("weight_norm", "grad_norm", "update_ratio"):
            line = health["lines"][key, layer["name"]]
            recorded = stats.series(key)[j]
            np.testing.assert_array_equal(line.get_xdata(), stats.iterations)
            np.testing.assert_array_equal(line.get_ydata(), np.where(recorded > 0, recorded, np.nan))
    flow = plot_gradient_flow(stats)
    assert len(flow["lines"]) == len(stats.iterations)
    np.testing.assert_array_equal(flow["lines"][0].get_ydata(), stats.series("grad_norm")[:, 0])


def test_figures_draw_lr_times_lambda_max_against_the_stability_limit(too_high):
    stats = load_layer_stats(too_high)
    drawn = plot_layer_health(stats)["sharpness"]
    product = 1000.0 * np.array(stats.sharpness, dtype=float)
    shown = drawn["line"].get_ydata()
    finite = product >= 1e-4  # flatter is marked on the bottom edge instead
    np.testing.assert_allclose(shown[finite], product[finite])
    assert np.all(np.isnan(shown[~finite]))
    assert drawn["limit"].get_ydata()[0] == 2.0  # plain SGD
    assert product[0] > 2  # lr 1000 is far above the limit from the first evaluation


def test_diagnose_prints_options_and_verify_prints_before_and_after(too_high):
    result = CliRunner().invoke(main, ["diagnose", str(too_high), "--verify", "--budget", "100"])
    assert result.exit_code == 0, result.output
    options = [line.split("options:")[1].split()[:2] for line in result.output.splitlines() if "options:  --" in line]
    assert options and options[0][0] == "--lr" and float(options[0][1]) < 2
    verdicts = [line for line in result.output.splitlines() if "--lr 1000 → --lr" in line]
    assert verdicts and "is a fix: test accuracy" in verdicts[-1] and "at iteration 100" in verdicts[-1]
    assert (too_high / "figures" / "verify.png").read_bytes().startswith(PNG)
