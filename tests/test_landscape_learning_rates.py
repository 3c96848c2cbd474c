"""The learning rates the playground proposes: each one, followed, converges or makes progress on
every built-in function — and for plain gradient descent it is what the closed form says it is."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.landscape import FUNCTIONS, descend, get_function
from mlplab.landscape.learning_rates import STABLE_SHARE, curvature_scale, proposed_lr, proposed_lrs
from mlplab.optim import OPTIMIZERS

STEPS = 200


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("name", FUNCTIONS)
def test_the_proposed_lr_converges_or_makes_progress(name, optimizer):
    function = FUNCTIONS[name]
    path = descend(function, optimizer, proposed_lrs(function)[optimizer], STEPS)
    f_start, f_end = function.value_at(path.points[0]), function.value_at(path.points[-1])
    if function.f_min is None:  # the saddle: downhill forever, and it goes there
        assert f_end < f_start - 1
        return
    assert path.diverged_at is None
    gap_left = (f_end - function.f_min) / (f_start - function.f_min)
    gradient = [np.linalg.norm(function.gradient_at(w)) for w in (path.points[0], path.points[-1])]
    grad_left = gradient[1] / gradient[0]
    # most of the way down, or settled in a (local) minimum: the gradient a twentieth of the start's or less
    # (RMSprop keeps stepping about lr around a minimum, so its gradient never quite vanishes)
    assert gap_left < 0.5 or grad_left < 0.05, (gap_left, grad_left)


def test_adam_moves_on_rosenbrock():
    """The issue: with lr 0.001 Adam moved 0.03 in 30 steps, and nothing seemed to happen."""
    rosenbrock = FUNCTIONS["rosenbrock"]
    path = descend(rosenbrock, "adam", proposed_lr(rosenbrock, "adam"), 30)
    assert np.linalg.norm(path.points[-1] - path.points[0]) > 0.2


@pytest.mark.parametrize("name", ["seed", "textbook", "bowl"])
def test_on_a_quadratic_sgd_is_proposed_half_its_stability_limit(name):
    """lr·λ_max = 2·STABLE_SHARE: with the proposal the path converges; at 2.2 times it (past lr·λ = 2) it diverges."""
    function = FUNCTIONS[name]
    lam = float(np.max(np.linalg.eigvalsh(function.quadratic.hessian)))  # read from the Hessian itself
    lr = proposed_lr(function, "sgd")
    assert lr * lam == pytest.approx(2 * STABLE_SHARE, rel=0.01)
    assert descend(function, "sgd", lr, 2000).diverged_at is None
    far = descend(function, "sgd", 2.2 * lr, 2000)
    assert far.diverged_at is not None or np.linalg.norm(far.points[-1]) > 1e3


def test_an_expression_gets_proposals_from_its_own_curvature():
    function = get_function("x**2 + 10*y**2")  # Hessian diag(2, 20)
    assert curvature_scale(function) == pytest.approx(20)
    assert proposed_lr(function, "sgd") == pytest.approx(STABLE_SHARE * 2 / 20)
    flat = get_function("x + y")  # no curvature at all: the function's own default lr
    assert proposed_lr(flat, "sgd") == flat.lr
