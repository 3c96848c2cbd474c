"""Every figure of a run folder, drawn from the folder's records (tiny runs, so this stays fast)."""

from __future__ import annotations

import json
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from mlplab.errors import ConfigError, RunFolderError
from mlplab.nn import build_network, gradient_check
from mlplab.train import TrainConfig, evaluate, load_run, train
from mlplab.train.observers import Observer
from mlplab.viz.training.run_figures import (
    ANIMATION,
    FIGURES,
    draw_run,
    gradient_check_on_ink,
    load_run_data,
    make_figure,
)

#: Everything but the gradient check, which costs seconds on a 784-50-10 network (tested on a small one).
CHEAP = tuple(name for name in FIGURES if name != "gradcheck")
TINY = {"iters": 120, "train_size": 1000, "test_size": 1000, "eval_every": 40, "seed": 0}


class BreakAt(Observer):
    """Raises an unexpected error at a given iteration, before its evaluation."""

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def on_iteration(self, state) -> None:
        if state.iteration == self.iteration:
            raise RuntimeError("observer broke")


class InterruptAt(Observer):
    """Presses Ctrl-C at a given iteration (the trainer keeps what it has)."""

    def __init__(self, iteration: int) -> None:
        self.iteration = iteration

    def on_iteration(self, state) -> None:
        if state.iteration == self.iteration:
            raise KeyboardInterrupt


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    train(TrainConfig(**TINY), run_dir=run_dir)
    return run_dir


@pytest.fixture(scope="module")
def tiny_data(tiny_run):
    return load_run_data(tiny_run)


def test_all_figures_and_the_animation_are_written(tiny_run, tiny_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = draw_run(tiny_run, names=CHEAP, data=tiny_data)
    assert set(result.paths) == {*CHEAP, ANIMATION}
    for name in CHEAP:
        (path,) = result.paths[name]
        assert path == tiny_run / "figures" / f"{name}.png"
        assert path.read_bytes().startswith(b"\x89PNG")
    with Image.open(result.paths[ANIMATION][0]) as gif:
        assert gif.n_frames == tiny_data.n_evaluations == 4  # evaluations at 0, 40, 80 and the final 119
    assert result.skipped == {}


def test_other_formats_and_theme(tiny_run, tiny_data):
    result = draw_run(tiny_run, theme="light", formats=("svg", "pdf"), names=("accuracy",),
                              animation=False, data=tiny_data)
    svg, pdf = result.paths["accuracy"]
    assert svg.read_text().lstrip().startswith("<?xml") and "<svg" in svg.read_text()
    assert pdf.read_bytes().startswith(b"%PDF")


def test_confusion_matrix_is_the_final_model_on_the_test_set(tiny_data):
    fig = make_figure("confusion", tiny_data)
    texts = [t for t in fig.axes[0].texts]
    counts = np.array([int(t.get_text()) for t in texts]).reshape(10, 10)
    plt.close(fig)
    assert counts.sum() == TINY["test_size"]
    accuracy, _ = evaluate(tiny_data.run.network, tiny_data.x_test, tiny_data.t_test)
    assert np.trace(counts) / counts.sum() == pytest.approx(accuracy)


def test_replay_draws_the_network_as_it_was(tiny_run, tiny_data):
    """at_eval takes the parameters from snapshots.npz and cuts the curves at that evaluation."""
    first = make_figure("accuracy", tiny_data, at_eval=0)
    assert first.axes[0].lines[-1].get_xdata().tolist() == [0]  # only evaluation 0
    plt.close(first)
    snap_W1 = tiny_data.snapshots["W1"][1]
    assert tiny_data.params_at(1)["W1"] is snap_W1 or np.array_equal(tiny_data.params_at(1)["W1"], snap_W1)
    # the recorded accuracy at evaluation k is what the float16 snapshot of evaluation k scores
    for k in range(tiny_data.n_evaluations):
        predicted = tiny_data.probabilities(k).argmax(axis=1)
        acc = np.mean(predicted == tiny_data.t_test)
        assert acc == pytest.approx(tiny_data.run.history.test_acc[k], abs=0.01)
    result = draw_run(tiny_run, at_eval=-2, names=("architecture", "hidden_units"), data=tiny_data)
    assert result.folder == tiny_run / "figures" / "eval_02"  # -2: the one before the final evaluation
    assert ANIMATION not in result.paths  # the animation is about the whole run
    with pytest.raises(ConfigError, match="between 0 and 3"):
        draw_run(tiny_run, at_eval=4, data=tiny_data)


def test_run_interrupted_after_one_evaluation(tmp_path):
    run_dir = tmp_path / "interrupted"
    train(TrainConfig(**TINY), run_dir=run_dir, observers=[InterruptAt(5)])
    history = load_run(run_dir).history
    assert history.status == "interrupted" and history.iterations == [0, 5]  # 5: the saved model
    result = draw_run(run_dir, names=("accuracy", "loss", "confusion"))
    assert set(result.paths) == {"accuracy", "loss", "confusion", ANIMATION}
    with Image.open(result.paths[ANIMATION][0]) as gif:
        assert gif.n_frames == 2


def test_run_stopped_before_any_evaluation_still_draws(tmp_path, tiny_run):
    """No evaluation, no snapshots: the figures that need them say so instead of failing."""
    run_dir = tmp_path / "early"
    with pytest.raises(RuntimeError, match="observer broke"):  # a failed run: no final evaluation either
        train(TrainConfig(**TINY), run_dir=run_dir, observers=[BreakAt(0)])
    data = load_run_data(run_dir)
    assert data.n_evaluations == 0 and data.snapshots is None
    result = draw_run(run_dir, names=("accuracy", "loss", "architecture"), data=data)
    assert ANIMATION in result.skipped
    with pytest.raises(ConfigError, match="no snapshots"):
        draw_run(run_dir, at_eval=0, data=data)


def test_different_hidden_sizes_with_the_gradient_check(tmp_path):
    run_dir = tmp_path / "deep"
    train(TrainConfig(**{**TINY, "hidden": (12, 8), "activation": "relu"}), run_dir=run_dir)
    data = load_run_data(run_dir)
    fig = make_figure("architecture", data)
    title = fig.axes[0].get_title()
    plt.close(fig)
    assert "784-12-8-10 relu" in title
    result = draw_run(run_dir, names=("hidden_units", "gradcheck"), data=data, animation=False)
    assert result.paths["gradcheck"][0].read_bytes().startswith(b"\x89PNG")


def test_missing_or_damaged_run_folder_is_a_run_folder_error(tmp_path, tiny_run):
    with pytest.raises(RunFolderError, match="does not exist"):
        draw_run(tmp_path / "nowhere")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for name in ("config.json", "model.npz"):
        (damaged / name).write_bytes((tiny_run / name).read_bytes())
    (damaged / "history.json").write_text('{"iterations": [0, 4')
    with pytest.raises(RunFolderError, match="damaged"):
        draw_run(damaged)
    (damaged / "history.json").write_text(json.dumps({"iterations": []}))
    (damaged / "model.npz").write_bytes(b"not a zip")
    with pytest.raises(RunFolderError, match="damaged"):
        draw_run(damaged)


def test_unknown_names_are_config_errors(tiny_run, tiny_data):
    with pytest.raises(ConfigError, match="unknown figure 'accuracyy'"):
        draw_run(tiny_run, names=("accuracyy",), data=tiny_data)
    with pytest.raises(ConfigError, match="theme"):
        draw_run(tiny_run, theme="blue", data=tiny_data)
    with pytest.raises(ConfigError, match="format"):
        draw_run(tiny_run, formats=("jpg",), data=tiny_data)


def test_gradient_check_on_inked_pixels_equals_the_full_check(mnist):
    """Blank pixels get exactly zero gradient both ways, so skipping them changes no number."""
    (x_train, t_train), _ = mnist
    x, t = x_train[:1].astype(np.float64), t_train[:1]
    net = build_network((784, 3, 10), weight_init_std=0.3, seed=0, dtype=np.float64)
    full_checks, full_num, full_bp = gradient_check(net, x, t)
    checks, num, bp, n_ink = gradient_check_on_ink(net.params, (784, 3, 10), "sigmoid", x, t)
    assert n_ink == int(np.count_nonzero(x[0]))
    blank = x[0] == 0
    assert np.all(full_num["W1"][blank] == 0) and np.all(full_bp["W1"][blank] == 0)
    for name in full_num:
        assert num[name].shape == full_num[name].shape
        assert num[name] == pytest.approx(full_num[name], abs=1e-9)
        assert bp[name] == pytest.approx(full_bp[name], abs=1e-12)
    for mine, ref in zip(checks, full_checks, strict=True):
        assert (mine.name, mine.shape) == (ref.name, ref.shape)
        assert mine.mean_abs_diff == pytest.approx(ref.mean_abs_diff, rel=0.5, abs=1e-12)
        assert mine.relative_error < 1e-6 and ref.relative_error < 1e-6


def test_the_books_curve_is_drawn_only_beside_the_books_own_run(tiny_data):
    """TINY (1000 images, 120 iterations) is not the book's experiment; the same run relabelled as the
    book's settings (784-50-10, full MNIST, 10000 iterations) gets the book's curve."""
    import dataclasses

    def labels(data):
        fig = make_figure("accuracy", data)
        found = {line.get_label() for line in fig.axes[0].lines}
        plt.close(fig)
        return found

    assert not {"textbook train", "textbook test"} & labels(tiny_data)
    book_run = dataclasses.replace(tiny_data.run, config=TrainConfig(seed=0))  # the same 784-50-10 network
    assert {"textbook train", "textbook test"} <= labels(dataclasses.replace(tiny_data, run=book_run))


def test_a_worker_process_draws_the_same_bytes_as_this_one(tiny_run, tmp_path):
    """Drawing in two processes (the default for a full set) writes the same files, byte for byte."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy, ignore=shutil.ignore_patterns("figures"))
    names = ("accuracy", "hidden_units", "confusion", "layer_health")
    one = draw_run(tiny_run, names=names, workers=1)
    two = draw_run(copy, names=names, workers=2)
    assert list(two.paths) == list(one.paths) == [*names, ANIMATION]  # the registry's order either way
    for name in one.paths:
        assert two.paths[name][0].read_bytes() == one.paths[name][0].read_bytes(), name
    assert two.cpu_seconds > 0 and two.skipped == one.skipped == {}


def test_the_runs_gradient_check_is_of_the_network_it_started_from(tiny_data, monkeypatch):
    """The run's figure checks its initial weights (the book's gradient_check.py checks a fresh network,
    rebuilt here from the seed as the trainer draws it); a replay at evaluation K checks K's weights."""
    from mlplab.train.trainer import initial_network
    from mlplab.viz.training import run_figures

    checked = []
    original = run_figures.gradient_check_on_ink

    def recording(params, *args):
        checked.append({name: np.array(value) for name, value in params.items()})
        return original(params, *args)

    monkeypatch.setattr(run_figures, "gradient_check_on_ink", recording)
    for k in (None, 1):
        plt.close(make_figure("gradcheck", tiny_data, at_eval=k))
    initial = initial_network(tiny_data.run.config, 784, 10, dtype=np.float64).params
    assert not np.allclose(initial["W1"], tiny_data.params_at(None)["W1"])  # training moved the weights

    class FirstWeights(Observer):  # what the trainer itself started from, seen before its first step
        def on_start(self, state):
            self.params = {name: np.array(value, dtype=np.float64) for name, value in state.network.params.items()}

    first = FirstWeights()
    train(TrainConfig(**TINY), observers=[first])
    for name in initial:  # the rebuilt network is the trainer's (its float32 weights, widened)
        np.testing.assert_array_equal(initial[name].astype(np.float32), first.params[name])
    for name in initial:
        np.testing.assert_array_equal(checked[0][name], initial[name])
        np.testing.assert_array_equal(checked[1][name], np.asarray(tiny_data.params_at(1)[name], np.float64))
