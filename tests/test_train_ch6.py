"""Training with the ch. 6 settings: batch norm, dropout, weight decay and a validation split.

Each flag must reach the network and config.json; the validation numbers must be those of the
held-out rows measured independently; a loaded batch-norm run must predict as the trained one did.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.errors import ConfigError, RunFolderError
from mlplab.nn.layers import BatchNormalization, Dropout
from mlplab.sweep.space import parse_values, run_name
from mlplab.sweep.summary import rank_configurations
from mlplab.train import TrainConfig, load_run, train
from mlplab.train.run_schema import parse_history
from mlplab.train.trainer import initial_network, validation_rows


def toy_data(n_train: int = 300, n_test: int = 100, d: int = 12, seed: int = 0):
    """Labels from a fixed linear rule on Gaussian inputs: learnable in a few hundred steps."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d, 3))
    x = rng.standard_normal((n_train + n_test, d)).astype(np.float32)
    t = np.argmax(x @ w, axis=1)
    return (x[:n_train], t[:n_train]), (x[n_train:], t[n_train:])


BASE = TrainConfig(iters=60, batch_size=20, lr=0.1, hidden=(16, 16), activation="relu", weight_init_std="he",
                   seed=3, eval_every=20)


@pytest.mark.parametrize(("changes", "check"), [
    ({"batchnorm": True}, lambda net: len([la for la in net.layers if isinstance(la, BatchNormalization)]) == 2
        and {"gamma1", "beta1", "gamma2", "beta2"} <= set(net.params)),
    ({"dropout": 0.15}, lambda net: [la.dropout_ratio for la in net.layers if isinstance(la, Dropout)] == [0.15, 0.15]),
    ({"weight_decay": 0.1}, lambda net: net.weight_decay_lambda == 0.1),
])
def test_each_setting_reaches_the_network_and_config_json(tmp_path, changes, check):
    result = train(BASE.replace(**changes), data=toy_data(), run_dir=tmp_path, record_layer_stats=False)
    assert check(result.network)
    record = json.loads((tmp_path / "config.json").read_text())
    assert {k: record[k] for k in changes} == changes
    assert check(load_run(tmp_path).network)


def test_without_the_settings_the_network_has_none_of_the_layers():
    net = initial_network(BASE, 12, 3)
    assert not net.batchnorm_layers and not any(isinstance(la, Dropout) for la in net.layers)
    assert net.weight_decay_lambda == 0


def test_the_cli_flags_reach_config_json_and_the_summary(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "train", "--iters", "30", "--train-size", "400", "--test-size", "100", "--seed", "0", "--quiet",
        "--no-plots", "--hidden", "20,20", "--activation", "relu", "--weight-init-std", "relu", "--batchnorm",
        "--dropout", "0.2", "--weight-decay", "0.01", "--validation", "100", "--out", str(out)],
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    record = json.loads((out / "config.json").read_text())
    settings = (record["batchnorm"], record["dropout"], record["weight_decay"], record["validation"])
    assert settings == (True, 0.2, 0.01, 100)
    assert record["weight_init_std"] == "relu"
    assert "batch norm, dropout 0.2, weight decay 0.01" in record["network"]
    history = json.loads((out / "history.json").read_text())
    assert f"validation {history['val_acc'][-1]:.2%}" in result.output


def test_a_mistaken_flag_is_one_line():
    result = CliRunner().invoke(main, ["train", "--dropout", "1"])
    assert result.exit_code == 2 and "--dropout" in result.output


@pytest.mark.parametrize(("field", "value"), [
    ("dropout", 1.0), ("dropout", -0.1), ("weight_decay", -1.0), ("weight_decay", float("nan")),
    ("validation", -1), ("validation", 2.5), ("batchnorm", "yes"),
])
def test_train_config_refuses_impossible_values(field, value):
    with pytest.raises(ConfigError, match=field):
        TrainConfig(**{field: value})


def test_the_books_weight_init_names_are_he_and_xavier():
    """'relu' is He's √(2/n), 'sigmoid' Xavier's √(1/n): the same weights as mlplab's names, same seed."""
    for book, ours, gain in (("relu", "he", 2.0), ("sigmoid", "xavier", 1.0)):
        a = initial_network(BASE.replace(weight_init_std=book, hidden=(400,)), 784, 10).params["W1"]
        b = initial_network(BASE.replace(weight_init_std=ours, hidden=(400,)), 784, 10).params["W1"]
        np.testing.assert_array_equal(a, b)
        assert a.std() == pytest.approx(np.sqrt(gain / 784), rel=0.02)  # 313,600 draws: ~0.1 % noise


def test_validation_numbers_are_those_of_the_held_out_rows():
    data = toy_data()
    config = BASE.replace(validation=60)
    result = train(config, data=data)
    keep, held = validation_rows(config, 300)
    assert len(held) == 60 and len(keep) == 240 and not set(keep) & set(held)
    # an independent evaluation of the final weights on the held-out rows: plain NumPy, no mlplab layers
    (x, t), _ = data
    p = {k: v.astype(np.float64) for k, v in result.network.params.items()}
    h = np.maximum(x[held] @ p["W1"] + p["b1"], 0)
    h = np.maximum(h @ p["W2"] + p["b2"], 0)
    scores = h @ p["W3"] + p["b3"]
    log_softmax = scores - scores.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    assert result.history.val_acc[-1] == np.mean(np.argmax(scores, axis=1) == t[held])
    assert result.history.val_loss[-1] == pytest.approx(-np.mean(log_softmax[np.arange(60), t[held]]), rel=1e-5)
    assert len(result.history.val_acc) == len(result.history.iterations) == len(result.history.val_loss)


def test_held_out_rows_never_train():
    """Relabelling the held-out rows changes nothing in training; relabelling one kept row does."""
    config = BASE.replace(validation=60)
    (x, t), test = toy_data()
    keep, held = validation_rows(config, 300)
    base = train(config, data=((x, t), test)).network.params["W1"]
    t2 = t.copy()
    t2[held] = (t2[held] + 1) % 3
    np.testing.assert_array_equal(train(config, data=((x, t2), test)).network.params["W1"], base)
    t3 = t.copy()
    t3[keep] = (t3[keep] + 1) % 3
    assert not np.array_equal(train(config, data=((x, t3), test)).network.params["W1"], base)


def test_validation_larger_than_the_training_set_is_refused():
    with pytest.raises(ConfigError, match="validation must be smaller than the 300 training images"):
        train(BASE.replace(validation=300), data=toy_data())


def test_a_loaded_batchnorm_run_predicts_like_the_trained_network(tmp_path):
    config = BASE.replace(batchnorm=True, dropout=0.1, dtype="float64")
    result = train(config, data=toy_data(), run_dir=tmp_path, record_layer_stats=False)
    x = toy_data(seed=1)[1][0].astype(np.float64)
    trained = result.network.predict(x, train_flg=False)
    np.testing.assert_array_equal(load_run(tmp_path).network.predict(x), trained)
    assert np.any(result.network.batchnorm_layers[0].running_var != 0)  # the statistics did move


def test_history_without_validation_lists_is_accepted_and_a_wrong_length_refused():
    old = {"iterations": [0, 5], "train_acc": [0.1, 0.5], "test_acc": [0.1, 0.4], "loss": [1.0] * 6}
    assert parse_history(json.dumps(old).encode()).val_acc == []
    assert parse_history(json.dumps({**old, "val_acc": [], "val_loss": []}).encode()).val_acc == []
    with pytest.raises(RunFolderError, match="'val_acc' has 1 entries but 'iterations' has 2"):
        parse_history(json.dumps({**old, "val_acc": [0.3]}).encode())
    with pytest.raises(RunFolderError, match="val_acc"):
        parse_history(json.dumps({**old, "val_acc": [0.3, 1.5]}).encode())


def test_sweep_axes_for_the_ch6_settings():
    assert parse_values("weight_decay", "1e-8:1e-4").low == 1e-8
    assert parse_values("batchnorm", "off,on") == (False, True)
    assert parse_values("dropout", "0,0.15") == (0.0, 0.15)
    with pytest.raises(ConfigError, match="--dropout"):
        parse_values("dropout", "1.5")
    settings = {"hidden": (50,), "optimizer": "sgd", "lr": 0.1, "batch_size": 100, "activation": "sigmoid",
                "weight_init_std": 0.01, "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False}
    assert run_name(settings, 0) == "h50-sgd-lr0.1-b100-sigmoid-w0.01-s0"  # as before the ch. 6 settings
    assert run_name({**settings, "weight_decay": 0.1, "batchnorm": True}, 0).endswith("-wd0.1-bn-s0")


def test_sweeps_rank_on_validation_and_only_report_test():
    def row(lr, val, test):
        return {"hidden": "50", "optimizer": "sgd", "lr": lr, "batch_size": 100, "activation": "relu",
                "weight_init_std": "he", "weight_decay": 0.0, "dropout": 0.0, "batchnorm": False,
                "status": "completed", "final_val_acc": val, "final_test_acc": test}

    ranked = rank_configurations([row(0.1, 0.80, 0.95), row(0.01, 0.90, 0.70)])
    assert [r.settings["lr"] for r in ranked] == [0.01, 0.1]  # by validation, although test says otherwise
    assert ranked[0].metric == "final_val_acc" and ranked[0].test_mean == 0.70
    no_val = [{**r, "final_val_acc": None} for r in (row(0.1, 0.80, 0.95), row(0.01, 0.90, 0.70))]
    assert [r.settings["lr"] for r in rank_configurations(no_val)] == [0.1, 0.01]


def test_the_train_form_accepts_the_ch6_settings():
    from mlplab.app.schemas import TrainRequest, textbook_form

    request = TrainRequest(batchnorm=True, dropout=0.15, weight_decay=0.1, validation=100, hidden=[100, 100],
                           activation="relu", weight_init_std="relu")
    config = TrainConfig(**request.config_fields())
    assert (config.batchnorm, config.dropout, config.weight_decay, config.validation) == (True, 0.15, 0.1, 100)
    assert textbook_form()["batchnorm"] is False
