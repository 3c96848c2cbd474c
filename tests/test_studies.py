"""The ch. 6 studies (quick mode), the overlay of runs and the ch. 4 calculus figures.

Checked against closed forms (the variance of a layer's outputs under He and Xavier scaling, the
derivative of the book's polynomial) and against the run folders the studies wrote.
"""

from __future__ import annotations

import csv
import html
import json

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.landscape.calculus import gradient_field, tangent
from mlplab.study.common import SAME_SEED_NOTE
from mlplab.study.init import layer_activations
from mlplab.train import load_run
from mlplab.train.trainer import initial_network


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


class Studies:
    """Each study run once in quick mode, when a test first asks for it: ``studies["init"]`` → its folder."""

    def __init__(self, root):
        self.root, self.folders = root, {}

    def __getitem__(self, name):
        if name not in self.folders:
            result = run(["study", name, "--quick", "--out", str(self.root / name)])
            assert result.exit_code == 0, result.output
            self.folders[name] = self.root / name
        return self.folders[name]


@pytest.fixture(scope="module")
def studies(tmp_path_factory):
    return Studies(tmp_path_factory.mktemp("studies"))


# -- weight initialisation: closed forms -------------------------------------------------------------

def test_he_keeps_relu_outputs_steady_and_xavier_halves_their_power_per_layer():
    """With a ~ N(0, n·σ²·E[z²]) and E[relu(a)²] = Var(a)/2: He (σ² = 2/n) keeps E[z²] constant from
    layer to layer; Xavier (σ² = 1/n) halves it at each layer."""
    he = layer_activations("relu", "he", n=4000)
    xavier = layer_activations("relu", "xavier", n=4000)
    power_he = [np.mean(z**2) for z in he]
    power_xavier = [np.mean(z**2) for z in xavier]
    assert power_he[4] / power_he[0] == pytest.approx(1.0, rel=0.35)
    for k in range(4):
        assert power_xavier[k + 1] / power_xavier[k] == pytest.approx(0.5, rel=0.15)


def test_sigmoid_with_std_0_01_sits_at_one_half_and_std_1_saturates():
    """std 0.01: a = x·W has std 0.01·√100 = 0.1 at layer 1, so z = σ(a) ≈ 0.5 + a/4 has std ≈ 0.025."""
    small = layer_activations("sigmoid", 0.01)
    assert small[0].std() == pytest.approx(0.025, rel=0.1)
    assert np.all(np.abs(small.mean(axis=(1, 2)) - 0.5) < 0.01) and np.all(small.std(axis=(1, 2)) < 0.03)
    large = layer_activations("sigmoid", 1.0)[4]
    assert np.mean((large < 0.02) | (large > 0.98)) > 0.4


def test_init_study_writes_figures_page_and_the_same_seed(studies):
    folder = studies["init"]
    for name in ("init_histograms_sigmoid", "init_histograms_tanh", "init_histograms_relu", "init_mnist_loss"):
        assert (folder / f"{name}.png").stat().st_size > 10_000
    page = (folder / "report.html").read_text()
    assert html.escape(SAME_SEED_NOTE) in page and page.count("data:image/png;base64") == 4
    record = json.loads((folder / "study.json").read_text())
    assert set(record["numbers"]["mean_printed_loss"]) == {"std=0.01", "Xavier", "He"}
    # identical initial draws: the runs' first weights differ only by their scale
    xavier, he = (load_run(folder / "runs" / name).config for name in ("xavier", "he"))
    w_x, w_h = initial_network(xavier).params["W1"], initial_network(he).params["W1"]
    np.testing.assert_allclose(w_h / w_x, np.sqrt(2.0), rtol=1e-5)


# -- over-fitting -------------------------------------------------------------------------------------

def test_overfit_numbers_are_those_of_its_run_folders(studies):
    folder = studies["overfit"]
    numbers = json.loads((folder / "study.json").read_text())["numbers"]
    for label, slug in (("no regularisation", "no-regularisation"), ("weight decay 0.1", "weight-decay-0.1"),
                        ("dropout 0.15", "dropout-0.15")):
        with open(folder / "runs" / slug / "metrics.csv") as f:
            last = list(csv.DictReader(f))[-1]
        assert numbers["final_train_acc"][label] == float(last["train_acc"])
        assert numbers["gap"][label] == pytest.approx(float(last["train_acc"]) - float(last["test_acc"]))
    decay = load_run(folder / "runs" / "weight-decay-0.1")
    assert decay.config.weight_decay == 0.1 and decay.network.weight_decay_lambda == 0.1
    assert load_run(folder / "runs" / "dropout-0.15").config.dropout == 0.15
    assert (folder / "overfit_train_test.png").is_file()


# -- hyper-parameter search ------------------------------------------------------------------------------

@pytest.mark.slow  # 6 trials in two worker processes: ~15 s of CPU
def test_search_ranks_on_validation_through_the_sweep(studies):
    folder = studies["search"]
    with open(folder / "runs" / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and all(r["final_val_acc"] for r in rows)
    lrs = [float(r["lr"]) for r in rows]
    decays = [float(r["weight_decay"]) for r in rows]
    assert all(1e-6 <= v <= 1e-2 for v in lrs) and all(1e-8 <= v <= 1e-4 for v in decays)
    numbers = json.loads((folder / "study.json").read_text())["numbers"]
    assert numbers["ranked_on"] == "final_val_acc"
    assert numbers["best_val_acc"] == sorted((float(r["final_val_acc"]) for r in rows), reverse=True)
    for name in ("search_best", "search_scatter"):
        assert (folder / f"{name}.png").is_file()


@pytest.mark.slow  # 14 short trainings: ~15 s of CPU
def test_optimizers_and_batchnorm_studies_draw_their_figures(studies):
    assert (studies["optimizers"] / "optimizers_mnist_loss.png").is_file()
    numbers = json.loads((studies["optimizers"] / "study.json").read_text())["numbers"]
    assert numbers["lr"] == {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.01,
                             "adam": 0.001}  # the book's defaults
    for name in ("batchnorm_grid", "batchnorm_pair"):
        assert (studies["batchnorm"] / f"{name}.png").is_file()
    bn = load_run(studies["batchnorm"] / "runs" / "std-1-batch-norm")
    assert bn.config.batchnorm and bn.network.batchnorm_layers


# -- overlay ------------------------------------------------------------------------------------------------

def test_plot_overlay_draws_several_runs(studies):
    runs = studies["overfit"] / "runs"
    result = run(["plot", str(runs / "no-regularisation"), str(runs / "dropout-0.15"), "--overlay"])
    assert result.exit_code == 0, result.output
    assert (runs / "overlay.png").stat().st_size > 10_000


@pytest.mark.parametrize(("args", "words"), [
    (["--overlay"], "give two or more run folders"),
    (["EXTRA"], "with --overlay"),
])
def test_overlay_mistakes_are_one_line(studies, args, words):
    runs = studies["overfit"] / "runs"
    args = [str(runs / "dropout-0.15") if a == "EXTRA" else a for a in args]
    result = CliRunner().invoke(main, ["plot", str(runs / "no-regularisation"), *args])
    assert result.exit_code == 2 and words in result.output


# -- ch. 4 calculus -------------------------------------------------------------------------------------------

def test_tangent_slope_is_the_analytic_derivative():
    line = tangent(lambda x: 0.01 * x**2 + 0.1 * x, 5.0)
    assert line.slope == pytest.approx(0.02 * 5 + 0.1, abs=1e-8)  # central differences are exact on a quadratic
    assert line(5.0) == pytest.approx(0.01 * 25 + 0.5)


def test_gradient_field_is_minus_the_gradient():
    xs = np.array([-1.0, 0.5, 2.0])
    X, Y, U, V = gradient_field(lambda p: p[0] ** 2 + 3 * p[1] ** 2, xs, xs)
    np.testing.assert_allclose(U, -2 * X, atol=1e-6)
    np.testing.assert_allclose(V, -6 * Y, atol=1e-6)


def test_calculus_commands_write_their_figures(tmp_path):
    for command, name in (("tangent", "tangent.png"), ("gradient-field", "gradient_field.png")):
        result = run([command, "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        assert (tmp_path / name).stat().st_size > 10_000
    bad = CliRunner().invoke(main, ["tangent", "--range", "0", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--range" in bad.output
