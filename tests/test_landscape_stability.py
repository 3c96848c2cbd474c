"""Stability limits and divergence pictures, checked by measurement, not by the formulas again."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.landscape import FUNCTIONS, descend, get_function, judge
from mlplab.landscape.stability import divergence_note, hessian_at, stability_limit
from mlplab.viz.landscape.plots import plot_contour
from mlplab.viz.landscape.scene import plot_box, points_in_frame


def grows(optimizer: str, lr: float, **hyper) -> bool:
    """Run 400 steps on y² (λ = 2) from (0, 1): does |y| end larger than it started?"""
    path = descend(get_function("y**2"), optimizer, lr, 400, (0.0, 1.0), **hyper)
    return path.diverged_at is not None or abs(path.end[1]) > 1.0


@pytest.mark.parametrize("optimizer, hyper", [("sgd", {}), ("momentum", {"momentum": 0.9}),
                                              ("momentum", {"momentum": 0.5}), ("nesterov", {"momentum": 0.9}),
                                              ("nesterov", {"momentum": 0.5})])
def test_the_stated_limit_is_where_the_measured_path_starts_to_grow(optimizer, hyper):
    limit, _ = stability_limit(optimizer, {"lr": 1.0, **hyper})
    lam = 2.0
    assert not grows(optimizer, 0.97 * limit / lam, **hyper)
    assert grows(optimizer, 1.03 * limit / lam, **hyper)


def test_adaptive_optimizers_have_no_fixed_limit():
    assert stability_limit("adam", {"lr": 0.1}) is None and stability_limit("rmsprop", {"lr": 0.1}) is None


def test_numerical_hessian_of_rosenbrock_matches_the_hand_derived_one():
    x, y = -1.2, 1.7
    exact = np.array([[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200.0]])
    np.testing.assert_allclose(hessian_at(FUNCTIONS["rosenbrock"], np.array([x, y])), exact, rtol=1e-6)


def test_divergence_on_rosenbrock_names_a_learning_rate_that_then_does_not_diverge():
    f = FUNCTIONS["rosenbrock"]
    blown = descend(f, "momentum", 0.01, 300, f.start)
    note = divergence_note(blown)
    assert blown.diverged_at is not None and "> 2(1 + m) = 3.8" in note
    safe = float(note.rsplit("stable for lr < ", 1)[1].rstrip("."))
    assert descend(f, "momentum", 0.9 * safe, 300, f.start).diverged_at is None
    assert "lr·λ_max" in judge(blown).headline()


def test_a_diverging_path_is_cut_at_the_frame_and_the_picture_stays_on_the_function():
    f = FUNCTIONS["seed"]
    blown = descend(f, lr=5.0)
    box = plot_box(f, [blown])
    assert box == (tuple(map(float, f.bounds[0])), tuple(map(float, f.bounds[1])))
    points, left_at = points_in_frame(blown, box)
    assert left_at == 1 and len(points) == 2  # (-7, 2) → (-6.3, -18): y leaves [-3, 3] at the first step
    exit_point = points[-1]
    assert exit_point[1] == pytest.approx(-3.0)
    # on the segment from the start to the first step
    t = (exit_point - blown.points[0]) / (blown.points[1] - blown.points[0])
    assert t[0] == pytest.approx(t[1]) and 0 < t[0] < 1
    drawn = plot_contour(f, [blown])
    texts = [t.get_text() for t in drawn["figure"].axes[0].texts]
    assert "left the frame\nat step 1" in texts


def test_a_path_that_stays_inside_is_drawn_whole():
    path = descend(FUNCTIONS["seed"])
    points, left_at = points_in_frame(path, plot_box(path.function, [path]))
    assert left_at is None and np.array_equal(points, path.points)
