"""Real short runs that must get the right diagnosis (and the healthy textbook run: none)."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.diagnose import diagnose, diagnose_run, diagnosis_html, format_insights
from mlplab.errors import DataError
from mlplab.train import History, Observer, TrainConfig, train
from mlplab.train.layer_stats import load_layer_stats

SMALL = {"train_size": 2000, "test_size": 500, "iters": 300, "eval_every": 50, "seed": 0}


def run_and_diagnose(folder, **settings):
    result = train(TrainConfig(**{**SMALL, **settings}), run_dir=folder)
    insights = diagnose_run(folder)
    return result, {i.rule: i for i in insights}


@pytest.fixture(scope="module")
def lr_1000(tmp_path_factory):
    return run_and_diagnose(tmp_path_factory.mktemp("lr1000"), lr=1000.0)


def test_lr_1000_is_too_high_and_never_too_low(lr_1000):
    result, found = lr_1000
    assert "lr-too-high" in found
    assert "lr-too-low" not in found and "plateau" not in found
    # The evidence carries the numbers: the first mini-batch loss and the spike after it.
    loss = result.history.loss
    assert f"{loss[0]:.3g}" in found["lr-too-high"].evidence[0]
    assert f"{max(loss):.3g}" in found["lr-too-high"].evidence[0]
    # The old advice was lr / 10 = 100; the prescription is computed (tests/test_diagnose_prescribe.py).
    assert "--lr" not in found["lr-too-high"].suggestion
    assert all(p.settings["lr"] < 2 for p in found["lr-too-high"].prescriptions)
    # Every sigmoid unit was thrown into saturation by the huge steps, and that is reported too.
    assert found["saturation"].numbers["share"] == [pytest.approx(1.0)]


def test_lr_1e5_is_too_low(tmp_path):
    _, found = run_and_diagnose(tmp_path, lr=1e-5)
    assert set(found) == {"lr-too-low"}
    low = found["lr-too-low"]
    assert low.numbers["median_update_ratio"] < 1e-4
    assert low.prescriptions[0].settings["lr"] > 1e-5 * 1000  # a concrete value from λ_max, not "×10"


def test_nan_in_the_input_is_refused_before_training(tmp_path, small_mnist):
    (x, t), test = small_mnist
    x = x.copy()
    x[3, 100] = np.nan
    with pytest.raises(DataError, match=r"training inputs contain 1 NaN or infinite values"):
        train(TrainConfig(iters=10, seed=0), data=((x, t), test), run_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()  # refused before the run folder was made


def test_nan_from_a_too_high_rate_is_reported_with_its_iteration(tmp_path):
    result, found = run_and_diagnose(tmp_path, activation="relu", weight_init_std="he", hidden=(100, 100, 100),
                                     lr=1.0, train_size=1000, test_size=200, iters=100, eval_every=20)
    h = result.history
    assert h.status == "diverged"
    nan = found["nan-loss"]
    assert nan.severity == "error"
    assert nan.numbers["iteration"] == len(h.loss) == 12  # the first non-finite loss
    assert f"at iteration {nan.numbers['iteration']}" in h.message  # the trainer's own account agrees
    assert nan.numbers["causes"] == ["learning rate too high"]
    assert "lr-too-high" not in found  # already named as the cause of the NaN


def test_nan_from_unscaled_inputs_names_the_inputs(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((200, 20)) * 1e18).astype(np.float32)  # finite, so accepted, but far too large
    t = rng.integers(0, 3, 200)
    result = train(TrainConfig(activation="relu", iters=50, eval_every=10, seed=0), data=((x, t), (x[:50], t[:50])),
                   run_dir=tmp_path)
    found = {i.rule: i for i in diagnose_run(tmp_path)}
    assert result.history.status == "diverged"
    assert found["nan-loss"].numbers["iteration"] == len(result.history.loss)
    assert found["nan-loss"].numbers["causes"] == ["unscaled input values"]
    assert "1e+18" in " ".join(found["nan-loss"].evidence)


class NegativeBias(Observer):
    """Sets every first-layer bias to −10 before training: with inputs in [0, 1] and weights ~0.01,
    x·W1 + b1 < 0 for every row, so every ReLU unit is dead from the start."""

    def on_start(self, state):
        state.network.params["b1"][...] = -10.0


def test_relu_with_a_large_negative_bias_has_dead_units(tmp_path):
    train(TrainConfig(**{**SMALL, "activation": "relu", "iters": 200}), run_dir=tmp_path, observers=[NegativeBias()])
    found = {i.rule: i for i in diagnose_run(tmp_path)}
    assert found["dead-relu"].numbers == {"layers": [1], "share": [1.0], "after_large_steps": False}
    # Nothing in the settings explains it (the bias was changed by hand): no settings are prescribed,
    # rather than a learning rate or an init that would not help.
    assert found["dead-relu"].prescriptions == ()
    assert "50 of 50 units" in found["dead-relu"].evidence[0]
    # No gradient reaches W1 because the units are dead: that is not reported as a separate problem.
    assert set(found) == {"dead-relu"}


def test_300_training_images_and_many_iterations_overfit(tmp_path):
    result, found = run_and_diagnose(tmp_path, train_size=300, test_size=1000, iters=3000, eval_every=150)
    h = result.history
    assert set(found) == {"overfitting"}
    gap = h.train_acc[-1] - h.test_acc[-1]
    assert found["overfitting"].numbers["accuracy_gap"] == pytest.approx(gap)
    assert gap > 0.1


def test_deep_sigmoid_net_has_vanishing_gradients(tmp_path):
    _, found = run_and_diagnose(tmp_path, hidden=(50, 50, 50, 50), train_size=1000, test_size=200, iters=200)
    assert set(found) == {"vanishing-gradients"}  # the plateau it causes is not listed separately
    assert found["vanishing-gradients"].numbers["ratio"] < 1e-3


@pytest.mark.slow  # the full 10000 iterations; fast: a healthy short run prints no diagnosis (test_cli_train)
def test_textbook_run_has_no_insight(tmp_path):
    """The full default run (784-50-10 sigmoid, lr 0.1, 10000 iterations), slow start included."""
    result, found = run_and_diagnose(tmp_path, **{k: None for k in ("train_size", "test_size", "eval_every")},
                                     iters=10_000, seed=0)
    assert result.history.n_evaluations == 18  # 0, 600, …, 9600 as in the book, and the final model (9999)
    assert found == {}
    assert format_insights([]).startswith("No problems found")
    assert diagnose(result.history, load_layer_stats(tmp_path), result.config) == []


def test_without_layer_stats_only_the_loss_rules_speak(tmp_path):
    train(TrainConfig(**{**SMALL, "lr": 1000.0}), run_dir=tmp_path, record_layer_stats=False)
    found = {i.rule: i for i in diagnose_run(tmp_path)}
    assert set(found) == {"lr-too-high", "no-layer-stats"}  # the spike needs no layer statistics
    assert found["no-layer-stats"].severity == "info"


def test_diagnosis_html_escapes_and_lists_each_insight(lr_1000, tmp_path):
    result, found = lr_1000
    fragment = diagnosis_html(result.run_dir)
    assert fragment.startswith('<section class="diagnosis">') and fragment.endswith("</section>")
    for rule in found:
        assert f'data-rule="{rule}"' in fragment
    assert "|y − 0.5| &gt; 0.49" in fragment  # text is escaped, not raw HTML


def test_a_nan_before_any_step_is_not_blamed_on_the_learning_rate():
    history = History(status="diverged", message="the loss became nan at iteration 0 with lr=0.1; ...")
    (insight,) = diagnose(history, None, TrainConfig())
    assert insight.numbers["iteration"] == 0
    assert insight.numbers["causes"] == ["inputs or initial weights too large"]


def test_the_report_fragment_lists_each_findings_options(lr_1000):
    result, found = lr_1000
    fragment = diagnosis_html(result.run_dir)
    for p in found["lr-too-high"].prescriptions:
        assert f"<code>{p.options()}</code>" in fragment


def test_vanishing_gradients_get_relu_and_he_and_the_rerun_passes_gradient_to_w1(tmp_path):
    """Measured on the rerun's own layer statistics: ‖∇W1‖/‖∇W5‖ rises above the rule's threshold."""
    from mlplab.diagnose.verify import verify_run

    _, found = run_and_diagnose(tmp_path, hidden=(50, 50, 50, 50), train_size=1000, test_size=200, iters=200)
    (p,) = found["vanishing-gradients"].prescriptions
    assert p.settings == {"activation": "relu", "weight_init_std": "he"}
    (v,) = verify_run(tmp_path, budget=200)
    assert v.fix == p and "vanishing-gradients" not in v.tried[0][1].findings
    assert v.tried[0][1].test_acc > v.original.test_acc + 0.2
