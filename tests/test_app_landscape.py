"""The playground's API: the paths and verdicts are the library's own (descend, stochastic_descent,
judge), the surface is f on the grid, and every bad input is a 4xx that says why."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from mlplab.app import AppSettings, create_app
from mlplab.app.api_landscape import VERDICT_STEPS
from mlplab.landscape import FUNCTIONS, FiniteSum, descend, get_function, judge, stochastic_descent

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(AppSettings(runs_dir=tmp_path_factory.mktemp("runs"), allowed_hosts=("testserver",)))
    with TestClient(app) as c:
        yield c


def post(client, **body):
    return client.post("/api/landscape/paths", json=body)


def test_the_built_in_functions_are_listed_with_their_suggestions(client):
    listed = client.get("/api/landscape/functions").json()["functions"]
    assert [f["name"] for f in listed] == list(FUNCTIONS)
    seed = listed[0]
    assert (seed["formula"], seed["start"], seed["lr"]) == ("x**2/100 + y**2", [-7.0, 2.0], 0.9)
    assert seed["minima"] == [[0.0, 0.0]] and seed["quadratic"]


def test_a_path_and_its_verdict_are_the_librarys(client):
    data = post(client, function="seed", paths=[{"optimizer": "sgd", "lr": 0.9}], steps=30).json()
    expected = descend(FUNCTIONS["seed"], "sgd", 0.9, 30)
    path = data["paths"][0]
    np.testing.assert_array_equal(path["points"], expected.points)
    np.testing.assert_array_equal(path["values"], expected.values)
    verdict = judge(expected, max_extra_steps=VERDICT_STEPS)
    assert path["verdict"] == verdict.lines() and path["headline"] == verdict.headline()
    # GD on x²/100 + y² at lr 0.9 multiplies x by 0.982 and y by −0.8 each step (30 steps from (−7, 2))
    assert not path["converged"] and path["distance"] == pytest.approx(np.hypot(7 * 0.982**30, 2 * 0.8**30))
    assert data["start"] == [-7.0, 2.0] and data["steps"] == 30


def test_the_surface_is_f_on_the_grid_and_the_colour_is_decades_above_the_minimum(client):
    data = post(client, function="rosenbrock", paths=[{"optimizer": "adam", "lr": 0.05}], grid=25).json()
    x, y, z = np.array(data["x"]), np.array(data["y"]), np.array(data["z"], dtype=float)
    assert z.shape == (25, 25) and x.size == y.size == 25
    f = FUNCTIONS["rosenbrock"]
    np.testing.assert_allclose(z, f(*np.meshgrid(x, y)))
    np.testing.assert_allclose(np.array(data["log_gap"], dtype=float), np.log10(np.maximum(z - 0.0, 1e-12)))
    (x0, x1), (y0, y1) = data["box"]
    points = np.array(data["paths"][0]["points"])
    assert x0 <= points[:, 0].min() and points[:, 0].max() <= x1 and y0 <= points[:, 1].min() <= y1


def test_several_optimizers_from_a_chosen_start(client):
    specs = [{"optimizer": "sgd", "lr": 0.1}, {"optimizer": "momentum", "lr": 0.05, "momentum": 0.5},
             {"optimizer": "adam", "lr": 0.3}]
    data = post(client, function="bowl", paths=specs, steps=40, start=[3, -4]).json()
    assert [p["label"] for p in data["paths"]] == ["sgd lr=0.1", "momentum lr=0.05", "adam lr=0.3"]
    assert data["paths"][1]["hyperparameters"]["momentum"] == 0.5
    for spec, path in zip(specs, data["paths"], strict=True):
        hyper = {"momentum": spec["momentum"]} if "momentum" in spec else {}
        expected = descend(FUNCTIONS["bowl"], spec["optimizer"], spec["lr"], 40, (3, -4), **hyper)
        np.testing.assert_array_equal(path["points"], expected.points)


def test_changing_the_learning_rate_changes_the_path(client):
    slow, fast = (post(client, function="seed", paths=[{"optimizer": "sgd", "lr": lr}]).json()["paths"][0]
                  for lr in (0.3, 0.9))
    assert slow["points"][0] == fast["points"][0] and slow["points"][-1] != fast["points"][-1]


def test_an_expression_is_parsed_and_its_exact_minimum_reached(client):
    data = post(client, function="x**2 + 3*y**2", paths=[{"optimizer": "sgd", "lr": 0.1}], steps=200,
                start=[2, 1]).json()
    assert data["function"]["minima"] == [[0.0, 0.0]] and data["function"]["quadratic"]
    assert data["paths"][0]["converged"]
    expected = descend(get_function("x**2 + 3*y**2"), "sgd", 0.1, 200, (2, 1))
    np.testing.assert_array_equal(data["paths"][0]["points"], expected.points)


def test_sgd_with_noise_is_the_finite_sum_run(client):
    noise = {"batch_size": 5, "noise": 0.8, "n": 200, "seed": 7, "schedule": "inv-sqrt"}
    data = post(client, function="seed", paths=[{"optimizer": "sgd", "lr": 0.5}], steps=50, stochastic=noise).json()
    objective = FiniteSum(FUNCTIONS["seed"], n=200, noise=0.8, seed=7)
    expected = stochastic_descent(objective, "sgd", 0.5, 50, 5, FUNCTIONS["seed"].start, seed=7, schedule="inv-sqrt")
    np.testing.assert_array_equal(data["paths"][0]["points"], expected.points)
    assert data["paths"][0]["verdict"] == judge(expected, stochastic=True, max_extra_steps=VERDICT_STEPS).lines()
    assert data["stochastic"]["sampling"] == "replacement"


def test_a_diverging_path_is_an_answer_not_an_error_and_the_view_stays_on_the_function(client):
    data = post(client, function="seed", paths=[{"optimizer": "sgd", "lr": 1.5}], steps=100).json()
    path = data["paths"][0]
    assert path["diverged_at"] is not None and path["steps"] < 100 and "diverged" in path["headline"]
    width = data["box"][1][1] - data["box"][1][0]
    assert width < 10  # the seed's box is y in [-3, 3]; the path flew far beyond it


@pytest.mark.parametrize("change, status, words", [
    ({"function": ""}, 422, "function must have at least 1 character"),
    ({"function": "x" * 201}, 422, "function must have at most 200 characters"),
    ({"function": "__import__('os').system('true')"}, 400, "cannot use"),
    ({"function": "x.real + y"}, 400, "attribute access"),
    ({"function": "(lambda: 1)()"}, 400, "cannot use"),
    ({"function": "x**1000"}, 400, "exponent"),
    ({"function": "banana"}, 400, "unknown function 'banana'"),
    ({"function": "x +* y"}, 400, "x +* y"),
    ({"steps": 0}, 422, "steps must be greater than or equal to 1"),
    ({"steps": 2001}, 422, "steps must be less than or equal to 2000"),
    ({"paths": []}, 422, "paths"),
    ({"paths": [{"optimizer": "sgd", "lr": 0.1}] * 7}, 422, "paths"),
    ({"paths": [{"optimizer": "sgd", "lr": 0}]}, 422, "paths.0.lr must be greater than 0"),
    ({"paths": [{"optimizer": "sgd"}]}, 422, "paths.0.lr is required"),
    ({"paths": [{"optimizer": "newton", "lr": 0.1}]}, 422, "paths.0.optimizer must be"),
    ({"paths": [{"optimizer": "adam", "lr": 0.1, "momentum": 0.9}]}, 422, "momentum applies to momentum and nesterov"),
    ({"paths": [{"optimizer": "momentum", "lr": 0.1, "momentum": 1}]}, 422, "momentum must be less than 1"),
    ({"start": [1e5, 0]}, 422, "start.0 must be less than or equal to 10000"),
    ({"start": [1]}, 422, "start"),
    ({"grid": 10}, 422, "grid must be greater than or equal to 20"),
    ({"stochastic": {"batch_size": 0}}, 422, "stochastic.batch_size must be greater than or equal to 1"),
    ({"stochastic": {"n": 2}}, 422, "stochastic.n must be greater than or equal to 3"),
    ({"stochastic": {"batch_size": 50, "n": 20}}, 400, "batch size must be between 1 and N = 20"),
    ({"stochastic": {"schedule": "cosine"}}, 422, "stochastic.schedule must be"),
    ({"color": "red"}, 422, "color is not a setting here"),
])
def test_every_bad_input_is_refused_with_a_reason(client, change, status, words):
    body = {"function": "seed", "paths": [{"optimizer": "sgd", "lr": 0.9}], **change}
    response = client.post("/api/landscape/paths", json=body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
