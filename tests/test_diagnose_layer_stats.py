"""The recorded layer statistics equal direct computations on the saved parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlplab.errors import RunFolderError
from mlplab.nn.layers import Relu, Sigmoid, Tanh
from mlplab.nn.sharpness import sharpness
from mlplab.train import TrainConfig, load_dataset, load_run, load_snapshots, train
from mlplab.train.layer_stats import (
    BINS,
    LAYER_STATS,
    PROBE_SIZE,
    SHARPNESS_ROWS,
    LayerStatsRecorder,
    activation_summary,
    frobenius,
    histogram,
    load_layer_stats,
    probe_activations,
    probe_rows,
)

# 101 iterations evaluated every 50: evaluations after iterations 0, 50 and 100, the last one, so the
# final evaluation saw exactly the parameters in model.npz. float64 makes the SGD identity tight.
CONFIG = TrainConfig(iters=101, eval_every=50, train_size=1000, test_size=200, seed=3, dtype="float64",
                     hidden=(30, 20), activation="tanh")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("stats")
    data = load_dataset(CONFIG)
    # The run folder's recorder has no eval_every (it keeps the weights before every step, in two sets
    # of buffers that take turns); this one copies them only before each evaluation.
    cheap = LayerStatsRecorder(None, data[0][0], eval_every=CONFIG.eval_every)
    result = train(CONFIG, data=data, run_dir=folder, observers=[cheap])
    return result, load_layer_stats(folder), cheap.stats, data


def test_final_statistics_equal_the_saved_model(recorded):
    result, stats, _, (train_set, _) = recorded
    run = load_run(result.run_dir)
    assert stats.iterations == [0, 50, 100]
    probe = train_set[0][np.asarray(stats.probe_rows)]
    hidden = probe_activations(run.network, probe)
    for j, layer in enumerate(stats.layers, start=1):
        W = run.network.params[f"W{j}"]
        assert layer["shape"] == list(W.shape)
        assert layer["weight_norm"][-1] == pytest.approx(np.linalg.norm(W), rel=1e-12)
        counts, edges = np.histogram(W, bins=BINS)
        assert layer["weight_hist"][-1]["counts"] == counts.tolist()
        np.testing.assert_allclose(layer["weight_hist"][-1]["edges"], edges, rtol=1e-12)
        if j <= len(hidden):
            _, out = hidden[j - 1]
            assert layer["activation"] == "tanh"
            assert layer["act_mean"][-1] == pytest.approx(out.mean(), rel=1e-9)
            assert layer["act_saturated"][-1] == pytest.approx(np.mean(np.abs(out) > 0.99))
            assert layer["act_dead"][-1] is None
            assert layer["act_hist"][-1]["counts"] == np.histogram(out, bins=BINS)[0].tolist()
        else:
            assert layer["activation"] is None and layer["act_hist"][-1] is None


def test_earlier_statistics_equal_the_snapshots(recorded):
    result, stats, _, _ = recorded
    snapshots = load_snapshots(result.run_dir)  # float16 copies: equal to float16 precision
    np.testing.assert_array_equal(snapshots["iterations"], stats.iterations)
    for j, layer in enumerate(stats.layers, start=1):
        direct = [np.linalg.norm(snapshots[f"W{j}"][k].astype(np.float64)) for k in range(len(stats.iterations))]
        np.testing.assert_allclose(layer["weight_norm"], direct, rtol=2e-3)


def test_sgd_update_ratio_is_lr_times_gradient_over_weights(recorded):
    """For SGD, ΔW = −lr·∇W exactly, so ‖ΔW‖/‖W‖ = lr·‖∇W‖/‖W‖: the recorded ratio, gradient norm
    and weight norm (three separate measurements) must satisfy it."""
    _, stats, _, _ = recorded
    for layer in stats.layers:
        expected = CONFIG.lr * np.asarray(layer["grad_norm"]) / np.asarray(layer["weight_norm"])
        np.testing.assert_allclose(layer["update_ratio"], expected, rtol=1e-9)


def test_copying_only_before_evaluations_gives_the_same_numbers_as_copying_always(recorded):
    _, exact, cheap, _ = recorded
    assert cheap.iterations == exact.iterations
    for a, b in zip(cheap.layers, exact.layers, strict=True):
        assert a["update_ratio"] == b["update_ratio"]
        assert a["grad_norm"] == b["grad_norm"]


def test_probe_rows_are_fixed_spread_and_unique():
    rows = probe_rows(60_000)
    assert rows.size == PROBE_SIZE and rows[0] == 0 and rows[-1] == 59_999
    assert np.all(np.diff(rows) > 0)
    assert probe_rows(300).tolist() == list(range(300))  # fewer rows than the probe size: all of them


def test_activation_summaries_follow_their_definitions():
    out = np.array([[0.005, 0.5, 0.995], [0.2, 0.999, 0.7]])
    assert activation_summary(Sigmoid(), out)["act_saturated"] == pytest.approx(3 / 6)  # |y − 0.5| > 0.49
    assert activation_summary(Tanh(), np.array([[0.995, -0.999, 0.5]]))["act_saturated"] == pytest.approx(2 / 3)
    relu_out = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])  # unit 0 and unit 2 never fire
    assert activation_summary(Relu(), relu_out)["act_dead"] == pytest.approx(2 / 3)
    assert frobenius(np.array([[3.0, 4.0]], dtype=np.float32)) == 5.0


def test_histogram_counts_finite_values_and_says_how_many_were_not():
    h = histogram(np.array([0.0, 1.0, np.nan, np.inf, 0.5]), bins=2)
    assert h == {"counts": [1, 2], "edges": [0.0, 0.5, 1.0], "nonfinite": 2}


def test_the_file_is_plain_json_and_missing_or_damaged_files_are_one_clear_error(recorded, tmp_path):
    result, _, _, _ = recorded
    text = (result.run_dir / LAYER_STATS).read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"non-standard JSON constant {name}"))
    with pytest.raises(RunFolderError, match="has no layer_stats.json"):
        load_layer_stats(tmp_path)
    (tmp_path / LAYER_STATS).write_text("{")
    with pytest.raises(RunFolderError, match="is damaged"):
        load_layer_stats(tmp_path)


def test_recorded_sharpness_is_the_saved_models_lambda_max(recorded):
    """The last recorded λ_max (warm-started power iteration at 1 % tolerance, inside training) is a
    Rayleigh quotient, so it can only fall short of the true λ_max: it is within 10 % below a tightly
    converged measurement on the saved model and the same labelled rows (this net's top eigenvalues are
    close together, the slow case for power iteration: 0.105 vs 0.113)."""
    result, stats, _, (train_set, _) = recorded
    rows = np.asarray(stats.probe_rows[:SHARPNESS_ROWS])
    assert stats.sharpness_rows == len(rows) and len(stats.sharpness) == len(stats.iterations)
    direct = sharpness(load_run(result.run_dir).network, train_set[0][rows], train_set[1][rows], tol=1e-8,
                       max_iterations=2000)
    assert direct.converged
    assert 0.9 * direct.value <= stats.sharpness[-1] <= direct.value * (1 + 1e-6)

