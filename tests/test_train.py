"""The trainer: the textbook result, reproducibility, sampling, divergence, stopping, run folder."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mlplab.errors import ConfigError, DataError, RunFolderError
from mlplab.train import TrainConfig, load_run, load_snapshots, train
from mlplab.train.trainer import batches_from_shuffles, batches_with_replacement


def small(**changes) -> TrainConfig:
    base = dict(iters=200, train_size=2000, test_size=500, seed=0)
    base.update(changes)
    return TrainConfig(**base)


@pytest.mark.slow
def test_textbook_run_reaches_the_textbook_accuracy(mnist, tmp_path, saved_model_accuracy):
    """The full default job: the book's 17 evaluations (≈94.7 % / 94.6 % at 9600), then the final model."""
    result = train(TrainConfig(seed=0), run_dir=tmp_path / "run")
    h = result.history
    assert h.status == "completed"
    assert h.iterations == [*range(0, 10000, 600), 9999]  # 0, 600, …, 9600 as in the book, then the end
    assert 0.940 <= h.test_acc[-2] <= 0.955 and 0.940 <= h.train_acc[-2] <= 0.960  # at 9600
    assert h.test_acc[-1] == saved_model_accuracy(tmp_path / "run", *mnist[1])
    assert len(h.loss) == 10000
    assert np.mean(h.loss[-500:]) < 0.3 < np.mean(h.loss[:50])


def test_same_seed_same_run_bit_for_bit(small_mnist):
    a = train(small(), data=small_mnist)
    b = train(small(), data=small_mnist)
    assert a.history.loss == b.history.loss
    assert a.history.test_acc == b.history.test_acc
    for key in a.network.params:
        np.testing.assert_array_equal(a.network.params[key], b.network.params[key])
    c = train(small(seed=1), data=small_mnist)
    assert c.history.loss != a.history.loss


def test_unseeded_run_records_the_seed_it_used(small_mnist, tmp_path):
    result = train(small(seed=None, iters=5), data=small_mnist, run_dir=tmp_path)
    seed = json.loads((tmp_path / "config.json").read_text())["seed"]
    assert isinstance(seed, int) and seed == result.config.seed
    again = train(small(seed=seed, iters=5), data=small_mnist)
    assert again.history.loss == result.history.loss


def test_sampling_with_replacement_and_by_shuffles():
    rng = np.random.default_rng(0)
    draws = np.concatenate([next(batches_with_replacement(rng, 50, 10)) for _ in range(20)])
    assert draws.min() >= 0 and draws.max() < 50
    shuffles = batches_from_shuffles(np.random.default_rng(0), 50, 10)
    epoch = np.concatenate([next(shuffles) for _ in range(5)])
    assert sorted(epoch.tolist()) == list(range(50))  # every row exactly once per epoch


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.5), ("momentum", 0.1), ("nesterov", 0.1),
                                          ("adagrad", 0.05), ("rmsprop", 0.002), ("adam", 0.002)])
def test_every_optimizer_learns(small_mnist, optimizer, lr):
    h = train(small(optimizer=optimizer, lr=lr, iters=300, eval_every=100), data=small_mnist).history
    assert h.test_acc[-1] > 0.75, (optimizer, h.test_acc)


def test_deeper_relu_network_and_shuffle_sampling(small_mnist):
    result = train(small(hidden=(64, 32), activation="relu", weight_init_std="he", sampling="shuffle",
                         iters=300, eval_every=100), data=small_mnist)
    assert result.network.sizes == (784, 64, 32, 10)
    assert result.history.test_acc[-1] > 0.8


def test_float64(small_mnist):
    (x, t), (xt, tt) = small_mnist
    data64 = (x.astype(np.float64), t), (xt.astype(np.float64), tt)
    result = train(small(dtype="float64", iters=20), data=data64)
    assert result.network.params["W1"].dtype == np.float64


def test_nan_loss_stops_with_the_iteration_named(small_mnist, tmp_path):
    result = train(small(lr=1e8, activation="relu", weight_init_std="he", eval_every=1),
                   data=small_mnist, run_dir=tmp_path)
    h = result.history
    assert h.status == "diverged"
    assert f"at iteration {len(h.loss)}" in h.message and "smaller learning rate" in h.message
    assert len(h.loss) < 200 and all(np.isfinite(h.loss))
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved["status"] == "diverged" and saved["loss"] == h.loss
    # No evaluation is added after a divergence: the weights that made a non-finite loss are no model.
    rare = train(small(lr=1e8, activation="relu", weight_init_std="he", eval_every=1000), data=small_mnist).history
    assert rare.status == "diverged" and rare.iterations == [0] and len(rare.loss) > 1
    assert not rare.measured_saved_model


def test_divergence_from_a_sound_start_points_to_the_learning_rate(small_mnist):
    """He init starts near chance level (ln 10 = 2.30); lr 1e8 makes the loss NaN within a few steps,
    and the same start with the default lr trains: the steps were the problem, and the message says so."""
    config = small(lr=1e8, activation="relu", weight_init_std="he", eval_every=1000)
    h = train(config, data=small_mnist).history
    assert h.status == "diverged" and abs(h.loss[0] - np.log(10)) < 0.5
    assert h.message.endswith("try a smaller learning rate, e.g. --lr 1e+07.")
    assert "--weight-init-std" not in h.message
    assert train(config.replace(lr=0.1), data=small_mnist).history.status == "completed"


def test_divergence_from_a_start_already_off_points_to_the_initial_weights(small_mnist):
    """784-50-50-50-10 ReLU with std 1000: the first loss is about 1e15, and the loss is NaN two steps later
    whatever the learning rate. The old message's advice (a smaller lr) is followed twice and still
    diverges; the message's advice (He init) trains."""
    config = small(hidden=(50, 50, 50), activation="relu", weight_init_std=1000.0, eval_every=100)
    h = train(config, data=small_mnist).history
    assert h.status == "diverged" and h.loss[0] > 1e6 * np.log(10)
    assert f"the first loss was {h.loss[0]:.3g}" in h.message
    assert h.message.endswith("start from smaller weights, e.g. --weight-init-std he instead of 1000.")
    assert "smaller learning rate" not in h.message
    for lr in (0.01, 0.001):
        assert train(config.replace(lr=lr), data=small_mnist).history.status == "diverged"
    fixed = train(config.replace(weight_init_std="he"), data=small_mnist).history
    assert fixed.status == "completed" and fixed.test_acc[-1] > 0.8


def test_divergence_before_any_update_is_not_the_learning_rate(small_mnist):
    h = train(small(activation="relu", weight_init_std=1e30), data=small_mnist).history
    assert h.status == "diverged" and h.loss == [] and "at iteration 0" in h.message
    assert "before any update" in h.message and "--weight-init-std he instead of 1e+30" in h.message


def test_divergence_with_a_scaled_init_points_to_the_inputs(small_mnist):
    """He init already follows each layer's fan-in; pixels ×10⁴ make the first loss ≈ 7000 and the loss NaN
    a few steps later. The message asks for scaled inputs, and the same run on the scaled pixels trains."""
    (x, t), (x_test, t_test) = small_mnist
    config = small(hidden=(50, 50, 50), activation="relu", weight_init_std="he", iters=100, eval_every=100)
    h = train(config, data=((x * 1e4, t), (x_test * 1e4, t_test))).history
    assert h.status == "diverged" and "the start was already off" in h.message
    assert h.message.endswith("check that the inputs are scaled to about 0…1.")
    assert train(config, data=small_mnist).history.status == "completed"


def test_nan_in_the_input_is_refused(small_mnist):
    (x, t), test = small_mnist
    x = x.copy()
    x[3, 100] = np.nan
    with pytest.raises(DataError, match="1 NaN or infinite values"):
        train(small(), data=((x, t), test))


def test_final_evaluation_is_the_saved_model_when_iters_is_not_an_epoch_multiple(mnist, tmp_path,
                                                                                 saved_model_accuracy):
    """1000 iterations on full MNIST: the book's evaluations at 0 and 600 leave 399 updates unmeasured."""
    result = train(TrainConfig(iters=1000, seed=0), data=mnist, run_dir=tmp_path)
    h = result.history
    assert h.iterations == [0, 600, 999] and h.measured_saved_model
    (_, _), (x_test, t_test) = mnist
    saved = saved_model_accuracy(tmp_path, x_test, t_test)
    assert h.final_test_acc == saved
    assert saved - h.test_acc[1] > 0.02  # the model improved after iteration 600: the old "final" was stale


def test_no_extra_evaluation_when_the_last_iteration_was_evaluated(small_mnist):
    h = train(small(iters=101, eval_every=50), data=small_mnist).history
    assert h.iterations == [0, 50, 100] and len(h.loss) == 101


def test_stop_request_keeps_the_partial_run(small_mnist, tmp_path):
    calls = iter(range(10**6))
    result = train(small(eval_every=10), data=small_mnist, run_dir=tmp_path,
                   should_stop=lambda: next(calls) >= 24)
    assert result.history.status == "stopped"
    assert len(result.history.loss) == 25
    # Epoch evaluations at 0, 10, 20, then the model that stopped after iteration 24.
    assert load_run(tmp_path).history.iterations == [0, 10, 20, 24]


def test_ctrl_c_keeps_the_partial_run(small_mnist, tmp_path, saved_model_accuracy):
    from mlplab.train import Observer

    class PressCtrlC(Observer):
        def on_iteration(self, state):
            if state.iteration == 30:
                raise KeyboardInterrupt

    result = train(small(eval_every=10), data=small_mnist, run_dir=tmp_path, observers=[PressCtrlC()])
    assert result.history.status == "interrupted"
    run = load_run(tmp_path)
    # Interrupted inside iteration 30, after its update but before its evaluation: the final one measures it.
    assert len(run.history.loss) == 31 and run.history.iterations == [0, 10, 20, 30]
    (_, _), (x_test, t_test) = small_mnist
    assert run.history.test_acc[-1] == saved_model_accuracy(tmp_path, x_test, t_test)
    np.testing.assert_array_equal(run.network.params["W1"], result.network.params["W1"])


def test_run_folder_contents(small_mnist, tmp_path):
    result = train(small(eval_every=50), data=small_mnist, run_dir=tmp_path)
    h = result.history
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["iterations"] == [0, 50, 100, 150, 199] and history["train_acc"] == h.train_acc
    assert len(history["loss"]) == 200
    rows = list(csv.DictReader((tmp_path / "metrics.csv").open()))
    assert [int(r["iteration"]) for r in rows] == h.iterations
    assert [float(r["test_acc"]) for r in rows] == h.test_acc
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["sizes"] == [784, 50, 10] and config["lr"] == 0.1
    run = load_run(tmp_path)
    for key, value in result.network.params.items():
        np.testing.assert_array_equal(run.network.params[key], value)
    snaps = load_snapshots(tmp_path)
    assert snaps["W1"].shape == (5, 784, 50) and snaps["iterations"].tolist() == h.iterations
    # Snapshot 3 is the network after iteration 150, i.e. after 151 updates (float16 copy);
    # the last one is the saved model.
    after_151 = train(small(iters=151), data=small_mnist).network.params["W1"]
    np.testing.assert_allclose(snaps["W1"][3], after_151, atol=1e-4, rtol=1e-3)
    np.testing.assert_allclose(snaps["W1"][-1], result.network.params["W1"], atol=1e-4, rtol=1e-3)
    events = [json.loads(line) for line in (tmp_path / "stream.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "start" and events[-1]["event"] == "end"
    assert [e["iteration"] for e in events if e["event"] == "eval"] == h.iterations
    assert not list(tmp_path.glob("*.tmp"))


def test_damaged_run_folders(tmp_path):
    with pytest.raises(RunFolderError, match="does not exist"):
        load_run(tmp_path / "nope")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="damaged"):
        load_run(tmp_path)
    (tmp_path / "config.json").write_text("[1, 2]")  # valid JSON, but not a run's settings
    with pytest.raises(RunFolderError, match="damaged: it holds a JSON list, not an object"):
        load_run(tmp_path)


@pytest.mark.parametrize("changes,message", [
    ({"iters": 0}, "iters must be a whole number >= 1"),
    ({"batch_size": 0}, "batch_size must be a whole number >= 1, got 0"),
    ({"lr": float("nan")}, "lr must be a positive number"),
    ({"hidden": (50, 0)}, "hidden sizes"),
    ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
    ({"activation": "swish"}, "unknown activation"),
    ({"sampling": "random"}, "unknown sampling"),
    ({"dtype": "float16"}, "unknown dtype"),
])
def test_config_validation(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**changes)


def test_layer_statistics_of_the_final_evaluation_are_of_its_last_step(small_mnist, tmp_path):
    """The final evaluation (after iteration 199) records the update ratio of that one step, measured here
    as ‖W after 200 updates − W after 199‖ / ‖W after 200‖ from two separate runs with the same seed."""
    from mlplab.train.layer_stats import load_layer_stats

    train(small(eval_every=50), data=small_mnist, run_dir=tmp_path)
    stats = load_layer_stats(tmp_path)
    assert stats.iterations == [0, 50, 100, 150, 199]
    before = train(small(iters=199), data=small_mnist).network.params["W1"].astype(np.float64)
    after = train(small(iters=200), data=small_mnist).network.params["W1"].astype(np.float64)
    one_step = np.linalg.norm(after - before) / np.linalg.norm(after)
    assert stats.layers[0]["update_ratio"][-1] == pytest.approx(one_step, rel=1e-3)


def test_config_records_the_rows_and_an_old_folder_without_them_still_draws(small_mnist, tmp_path):
    """n_train/n_test in config.json spare the figures a reload of 60,000 images; old folders still work."""
    from mlplab.viz.training.run_figures import draw_run, load_run_data

    (x, _), (xt, _) = small_mnist
    train(TrainConfig(iters=20, eval_every=10, seed=0), data=small_mnist, run_dir=tmp_path / "run")
    record = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (record["n_train"], record["n_test"]) == (x.shape[0], xt.shape[0])
    assert load_run_data(tmp_path / "run").n_train == x.shape[0]  # read, not counted

    old = dict(record)
    del old["n_train"], old["n_test"]
    (tmp_path / "run" / "config.json").write_text(json.dumps(old))
    assert load_run(tmp_path / "run").config == TrainConfig.from_dict(record)
    assert draw_run(tmp_path / "run", names=("accuracy",), animation=False).paths["accuracy"]

    (tmp_path / "run" / "config.json").write_text(json.dumps({**record, "n_test": -3}))
    with pytest.raises(RunFolderError, match="n_test"):
        load_run(tmp_path / "run")


def test_one_chunked_evaluation_equals_the_whole_set_at_once(rng):
    """evaluate (trainer) and LayerNet.accuracy go through the same chunks; the result equals one
    forward pass of every row (more rows than one chunk)."""
    from mlplab.nn.functions import cross_entropy_from_scores
    from mlplab.nn.networks import EVAL_CHUNK, build_network, evaluate

    net = build_network((5, 7, 3), activation="tanh", weight_init_std=1.0, seed=0)
    x = rng.standard_normal((EVAL_CHUNK + 123, 5))
    t = rng.integers(0, 3, size=x.shape[0])
    scores = net.predict(x)  # every row at once
    accuracy, loss = evaluate(net, x, t)
    assert accuracy == np.mean(np.argmax(scores, axis=1) == t) == net.accuracy(x, t)
    assert loss == pytest.approx(cross_entropy_from_scores(scores, t)[0] / x.shape[0], rel=1e-12)
