"""Prescriptions computed from the run, and checked the only way that counts: by rerunning.

Each test trains a short run built to trigger one rule, reads the prescription, checks it against an
independent measurement (λ_max measured again to a tight tolerance, the pre-activations recomputed
from the weights, the optimizer's behaviour) and then verifies it: the rerun from the same seed with
the prescribed setting must measure better and no longer trigger the rule.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest

from mlplab.diagnose import diagnose_run
from mlplab.diagnose.prescribe import SHARPNESS_ROWS, initial_network, std_prescriptions
from mlplab.diagnose.prescribe import measure_start as measure
from mlplab.diagnose.rules import SATURATION_SHARE
from mlplab.diagnose.verify import verify_run
from mlplab.nn.layers import Sigmoid
from mlplab.nn.sharpness import sharpness
from mlplab.train import TrainConfig, load_dataset, load_run, train
from mlplab.train.layer_stats import activation_summary, probe_rows

SMALL = {"train_size": 2000, "test_size": 500, "iters": 300, "eval_every": 50, "seed": 0}
BUDGET = 300


def run_diagnose_verify(folder, **settings):
    config = TrainConfig(**{**SMALL, **settings})
    result = train(config, run_dir=folder)
    insights = diagnose_run(folder)
    return result, {i.rule: i for i in insights}, verify_run(folder, budget=BUDGET, insights=insights)


#: λ_max already measured, by the bytes of the weights and rows: the lr=300 and lr=1e-4 runs start from the
#: same weights (the learning rate plays no part before the first step), and the measurement is seconds.
_MEASURED: dict[bytes, float] = {}


def start_sharpness(config):
    """λ_max at the run's initial weights, converged to 1e-4 (the prescription stops at 1 %)."""
    data = load_dataset(config)
    net = initial_network(config, data)
    rows = probe_rows(data[0][0].shape[0], SHARPNESS_ROWS)
    x, t = data[0][0][rows], data[0][1][rows]
    key = hashlib.sha256(b"".join(a.tobytes() for a in (*net.params.values(), x, t))).digest()
    if key not in _MEASURED:
        _MEASURED[key] = sharpness(net, x, t, tol=1e-4, max_iterations=500).value
    return _MEASURED[key]


def test_initial_network_is_the_one_the_run_started_from():
    """Independent of how the start is rebuilt: a run whose one step is 1e-30 × the gradient cannot
    change a float32 weight of size ~0.01, so its saved W1, W2 are its initial weights."""
    config = TrainConfig(**{**SMALL, "iters": 1, "lr": 1e-30, "hidden": (30, 20)})
    data = load_dataset(config)
    saved = train(config, data=data).network.params
    rebuilt = initial_network(config, data).params
    for key in ("W1", "W2", "W3"):
        np.testing.assert_array_equal(rebuilt[key], saved[key])


@pytest.fixture(scope="module")
def lr_300(tmp_path_factory):
    return run_diagnose_verify(tmp_path_factory.mktemp("lr300"), lr=300.0)


def test_lr_300_gets_a_learning_rate_under_the_stability_limit_that_verifies(lr_300):
    result, found, (verification,) = lr_300
    first = found["lr-too-high"].prescriptions[0]
    limit = 2 / start_sharpness(result.config)
    assert first.settings["lr"] < limit  # the old advice, lr / 10 = 30, is 20× above it
    # 1/λ_max, from a 1 % power iteration (which approaches λ_max from below: 1.31 vs 1.40 here) and
    # rounded to two digits
    assert first.settings["lr"] == pytest.approx(limit / 2, rel=0.1)
    assert "--lr" in first.options() and "--lr" not in found["lr-too-high"].suggestion  # an option, not prose
    # Measured: the rerun with it does not diverge and learns; the run's own lr does not.
    assert verification.fix == first
    _, trial, _ = verification.tried[0]
    assert not trial.diverged and trial.test_acc > 0.8 > 0.15 > verification.original.test_acc
    assert "lr-too-high" not in trial.findings


def test_lr_1e4_is_too_low_and_the_sharpness_lr_verifies(tmp_path):
    result, found, (verification,) = run_diagnose_verify(tmp_path, lr=1e-4)
    assert set(found) == {"lr-too-low"}
    lr = found["lr-too-low"].prescriptions[0].settings["lr"]
    assert 1e-4 * 1000 < lr < 2 / start_sharpness(result.config)  # a concrete value, far up, still stable
    assert verification.fix is not None
    assert verification.original.test_acc < 0.2 and verification.tried[0][1].test_acc > 0.8


def test_saturation_from_a_large_start_gets_a_smaller_std_with_its_numbers(tmp_path):
    result, found, (verification,) = run_diagnose_verify(tmp_path, weight_init_std=3.0)
    saturation = found["saturation"]
    stds = [p.settings["weight_init_std"] for p in saturation.prescriptions]
    assert stds and all(s < 3.0 for s in stds)
    # Independent check of the first: the pre-activations x·W1 of the network that train() builds with it.
    config = result.config.replace(weight_init_std=stds[0])
    data = load_dataset(config)
    net = initial_network(config, data)
    x = data[0][0][probe_rows(data[0][0].shape[0], SHARPNESS_ROWS)].astype(np.float64)
    a = x @ net.params["W1"].astype(np.float64)
    assert math.sqrt(np.mean(a**2)) == pytest.approx(1.0, abs=0.1)  # RMS 1: the prescribed target
    assert activation_summary(Sigmoid(), 1 / (1 + np.exp(-a)))["act_saturated"] < SATURATION_SHARE
    assert f"{stds[0]:g}" in saturation.prescriptions[0].why and "3" in saturation.prescriptions[0].why
    assert verification.fix is not None and verification.tried[0][1].test_acc > verification.original.test_acc + 0.2


@pytest.mark.parametrize("used", [0.01, 0.05, 1.0, 3.0])
def test_a_prescribed_std_is_always_smaller_than_the_one_used(used):
    """Xavier (√(1/784) ≈ 0.036) is larger than the textbook's 0.01: it must never come out as "smaller"."""
    config = TrainConfig(**{**SMALL, "weight_init_std": used})
    start = measure(config, load_dataset(config))
    for p in std_prescriptions(config, start):
        assert isinstance(p.settings["weight_init_std"], float) and p.settings["weight_init_std"] < used


def test_dead_relu_after_large_steps_gets_a_verified_learning_rate(tmp_path):
    _, found, (verification,) = run_diagnose_verify(tmp_path, activation="relu", lr=3.0)
    assert {"dead-relu", "lr-too-high"} <= set(found)
    assert all(p.settings["lr"] < 3.0 for p in found["dead-relu"].prescriptions)
    fix = verification.fix
    assert fix is not None, verification.lines()
    trial = next(t for p, t, _ in verification.tried if p == fix)
    assert "dead-relu" not in trial.findings and trial.test_acc > 0.8


@pytest.mark.slow  # λ_max of a 784-100-100-100-10 net to 1e-4: ~40 s on a busy 2-core machine
def test_nan_from_a_too_high_rate_gets_a_rate_that_does_not_diverge(tmp_path):
    result, found, (verification,) = run_diagnose_verify(
        tmp_path, activation="relu", weight_init_std="he", hidden=(100, 100, 100), lr=1.0, train_size=1000,
        test_size=200, iters=100, eval_every=20)
    assert result.history.status == "diverged"
    lr = found["nan-loss"].prescriptions[0].settings["lr"]
    assert lr < 2 / start_sharpness(result.config)
    assert verification.original.diverged and verification.fix is not None
    assert not verification.tried[0][1].diverged


def test_overfitting_gets_more_data_and_the_measured_best_iteration(tmp_path):
    config = TrainConfig(**{**SMALL, "train_size": 300, "test_size": 1000, "iters": 1500, "eval_every": 150})
    train(config, run_dir=tmp_path)
    (over,) = [i for i in diagnose_run(tmp_path) if i.rule == "overfitting"]
    settings = [p.settings for p in over.prescriptions]
    assert settings[0] == {"train_size": 3000}
    history = load_run(tmp_path).history
    best = history.iterations[int(np.argmin(history.test_loss))]
    assert settings[1] == {"iters": best + 1}
    (verification,) = verify_run(tmp_path, insights=[over])  # over the run's length
    assert verification.budget == config.iters
    assert verification.fix == over.prescriptions[0]
    assert verification.tried[0][1].test_acc > verification.original.test_acc + 0.05


def test_a_run_on_data_mlplab_cannot_reload_gets_its_findings_without_false_options(tmp_path):
    """Trained on arrays passed to train(data=...): the config names MNIST, which is not that data. The
    findings still come; the options and --verify say why they cannot be computed (no silent rerun of
    a different network)."""
    from click.testing import CliRunner

    from mlplab.cli.app import main

    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) * 1e18).astype(np.float32)
    t = rng.integers(0, 3, 200)
    train(TrainConfig(activation="relu", iters=50, eval_every=10, seed=0), data=((x, t), (x[:50], t[:50])),
          run_dir=tmp_path)
    found = {i.rule: i for i in diagnose_run(tmp_path)}
    assert found["nan-loss"].prescriptions == ()
    assert "20 inputs and 3 classes" in found["no-options"].evidence[0]
    result = CliRunner().invoke(main, ["diagnose", str(tmp_path), "--verify"])
    assert result.exit_code == 0 and "no finding has settings to try" in result.output
