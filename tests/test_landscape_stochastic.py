"""SGD on a finite sum: the mini-batch gradient is exactly unbiased, its noise is σ/√B, the same seed
gives the same run, and the ensemble agrees with the theory."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.landscape import FUNCTIONS, FiniteSum, gradient_noise, make_schedule, stochastic_descent
from mlplab.landscape.sgd_study import ELLIPSE_SHARE, run_sgd_study

W = np.array([-3.0, 1.5])


def test_examples_are_centred_and_whitened_exactly():
    objective = FiniteSum(FUNCTIONS["seed"], n=1000, noise=0.5, seed=0)
    np.testing.assert_allclose(objective.xi.sum(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(objective.xi.T @ objective.xi / 1000, np.eye(2), atol=1e-12)
    # F(w) = (1/N) Σ f_i(w) is f(w) itself
    mean_of_examples = np.mean([objective.value(W, i) for i in range(1000)])
    assert mean_of_examples == pytest.approx(FUNCTIONS["seed"].value_at(W), abs=1e-12)


def test_mean_of_all_mini_batch_gradients_is_the_full_gradient():
    objective = FiniteSum(FUNCTIONS["textbook"], n=6, noise=0.5, seed=3)
    full = FUNCTIONS["textbook"].gradient_at(W)
    with_replacement = [objective.batch_gradient(W, np.array(b)) for b in itertools.product(range(6), repeat=2)]
    without = [objective.batch_gradient(W, np.array(b)) for b in itertools.combinations(range(6), 3)]
    np.testing.assert_allclose(np.mean(with_replacement, axis=0), full, atol=1e-14)
    np.testing.assert_allclose(np.mean(without, axis=0), full, atol=1e-14)
    assert np.std(with_replacement, axis=0).min() > 0.1  # and yet each one is noisy


@pytest.mark.parametrize("batch", [1, 10, 100])
def test_measured_noise_is_sigma_over_root_b(batch):
    objective = FiniteSum(FUNCTIONS["seed"], n=1000, noise=0.5, seed=0)
    noise = gradient_noise(objective, batch, draws=20_000, seed=1)
    np.testing.assert_allclose(noise.std(axis=0), 0.5 / np.sqrt(batch), rtol=0.03)
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=4 * 0.5 / np.sqrt(batch * 20_000))


def test_shuffled_batches_have_the_finite_population_noise():
    objective = FiniteSum(FUNCTIONS["seed"], n=200, noise=0.5, seed=0)
    noise = gradient_noise(objective, 50, draws=8_000, sampling="shuffle", seed=2)
    predicted = 0.5 / np.sqrt(50) * np.sqrt(150 / 199)
    assert objective.predicted_noise(50, "shuffle") == pytest.approx(predicted)
    np.testing.assert_allclose(noise.std(axis=0), predicted, rtol=0.04)
    exact = gradient_noise(objective, 200, draws=5, sampling="shuffle")
    np.testing.assert_allclose(exact, 0.0, atol=1e-15)  # B = N without replacement: the full gradient


def test_same_seed_same_run_bit_for_bit():
    objective = FiniteSum(FUNCTIONS["seed"])
    a, b = stochastic_descent(objective, seed=4), stochastic_descent(objective, seed=4)
    c = stochastic_descent(objective, seed=5)
    assert np.array_equal(a.points, b.points) and not np.array_equal(a.points, c.points)
    # the optimizer really got the noisy gradients, and they average out to the exact ones
    noise = a.step_gradients - a.gradients[:-1]
    assert np.abs(noise).min() > 0
    assert a.extra == {"batch_size": 10, "seed": 4, "schedule": "constant", "sampling": "replacement",
                       "noise": 0.5, "n": 1000}


def test_schedules():
    const, step, inv = (make_schedule(n, 0.9, 100) for n in ("constant", "step", "inv-sqrt"))
    assert [const(t) for t in (0, 99)] == [0.9, 0.9]
    assert [step(t) for t in (0, 24, 25, 50, 99)] == [0.9, 0.9, 0.45, 0.225, 0.1125]
    assert inv(0) == 0.9 and inv(3) == pytest.approx(0.45)
    path = stochastic_descent(FiniteSum(FUNCTIONS["seed"]), steps=8, schedule="step")
    assert path.lrs.tolist() == [0.9, 0.9, 0.45, 0.45, 0.225, 0.225, 0.1125, 0.1125]
    with pytest.raises(ConfigError, match="unknown schedule 'cosine'"):
        make_schedule("cosine", 0.1, 10)


def test_study_agrees_with_the_theory_for_plain_sgd_on_a_quadratic():
    study = run_sgd_study(FUNCTIONS["seed"], steps=60, runs=40, n=500, batch_sizes=(1, 500), draws=400)
    # the mean of the runs follows full-batch GD within its standard error
    spread = np.sqrt(np.diag(study.covariances[-1]))
    assert np.all(np.abs(study.ends.mean(axis=0) - study.full_batch.end) < 4 * spread / np.sqrt(40))
    # the spread matches the predicted covariance (within sampling error for 40 runs), and about 86 %
    # of the ends fall inside the 2σ ellipse
    np.testing.assert_allclose(study.ends.std(axis=0, ddof=1), spread, rtol=0.35)
    assert abs(study.inside_ellipse() / 40 - ELLIPSE_SHARE) < 0.2
    assert list(study.batch_sweep) == [1, 500] and list(study.schedule_sweep) == ["constant", "step", "inv-sqrt"]
    assert study.batch_sweep[500][-1] < study.batch_sweep[1][-1]  # less noise, closer to the minimum
    text = "\n".join(study.lines())
    assert "drawn with replacement" in text and "40 runs (seeds 0-39)" in text


def test_bad_settings_are_refused():
    objective = FiniteSum(FUNCTIONS["seed"], n=20)
    with pytest.raises(ConfigError, match="batch size must be between 1 and N = 20"):
        stochastic_descent(objective, batch_size=21)
    with pytest.raises(ConfigError, match="unknown sampling"):
        stochastic_descent(objective, sampling="stratified")
    with pytest.raises(ConfigError, match="N must be a whole number >= 3"):
        FiniteSum(FUNCTIONS["seed"], n=2)
