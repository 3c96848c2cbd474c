"""The playground's API: the paths and verdicts are the library's own (descend, stochastic_descent,
judge), the surface is f on the grid, and every bad input is a 4xx that says why."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.colors import to_hex

from mlplab.app import AppSettings, create_app
from mlplab.app.api_landscape import VERDICT_STEPS
from mlplab.landscape import FUNCTIONS, FiniteSum, descend, get_function, judge, stochastic_descent
from mlplab.viz.landscape.plots import plot_contour
from mlplab.viz.landscape.scene import landscape_scene

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


def test_the_surface_is_f_on_the_grid_and_the_paths_are_drawn_above_it(client):
    data = post(client, function="seed", paths=[{"optimizer": "sgd", "lr": 0.9}], grid=41).json()
    x, y, z = np.array(data["x"]), np.array(data["y"]), np.array(data["z"], dtype=float)
    assert data["box"] == [[-8.0, 8.0], [-3.0, 3.0]]  # the seed's own box: the path stays inside it
    assert z.shape == (41, 41) and x[20] == y[20] == 0.0
    # f = x²/100 + y², by hand: 0 at the middle, 8²/100 + 3² = 9.64 at the corners, 4.49 at the start (-7, 2)
    assert z[20, 20] == 0.0 and z[0, 0] == z[-1, -1] == pytest.approx(9.64)
    assert (x[10], y[10], z[10, 10]) == (pytest.approx(-4), pytest.approx(-1.5), pytest.approx(0.16 + 2.25))
    assert z[20, 0] == pytest.approx(0.64)  # z[i, j] = f(x[j], y[i]): row 20 is y = 0, column 0 is x = -8
    path = data["paths"][0]
    assert data["lift"] == pytest.approx(0.03 * 9.64)  # 3 % of the height drawn, as the figure lifts it
    assert path["shown_values"][0] == pytest.approx(4.49) and path["lifted"][0] == pytest.approx(4.49 + 0.2892)
    assert data["minima"] == [[0.0, 0.0]] and data["minima_lifted"] == [pytest.approx(0.2892)]
    assert data["contour"]["levels"][-1] == pytest.approx(9.64)  # the top level: the largest f − f* drawn
    assert data["frames"] == list(range(31)) and path["color"] == "#e8384f"  # sgd's red, in every figure


def test_the_page_gets_the_figures_scene_and_draws_nothing_of_its_own(client):
    """What the browser draws is the scene the CLI's figures are drawn from: the same levels, band
    colours, paths, colours, lift, frames, notes; and the matplotlib contour draws those paths."""
    f = FUNCTIONS["seed"]
    specs = [("sgd", 1.5), ("momentum", 0.95), ("adam", 0.8)]
    data = post(client, function="seed", paths=[{"optimizer": o, "lr": lr} for o, lr in specs], grid=60).json()
    paths = [descend(f, o, lr, 30) for o, lr in specs]
    scene = landscape_scene(f, paths, grid=60)
    contour = data["contour"]
    np.testing.assert_allclose(contour["levels"], scene.levels, rtol=1e-15)
    levels = 10 ** (contour["start"] + contour["size"] * np.arange(len(scene.levels)))  # plotly's even levels
    np.testing.assert_allclose(levels, scene.levels, rtol=1e-12)
    np.testing.assert_allclose(10 ** (contour["start"] + contour["line_size"] * np.arange(9)), scene.line_levels,
                               rtol=1e-12)
    assert [c for _, c in contour["colorscale"][1:-1]] == scene.band_colors
    assert (contour["ticktext"], contour["label"]) == (scene.colorbar_ticks[1], "f − f* (log scale)")
    assert data["frames"] == scene.frames and data["lift"] == scene.lift and data["box"] == [list(b) for b in scene.box]

    figure = plot_contour(f, paths)  # the CLI's picture of the same three paths
    for sent, drawn, arrows in zip(data["paths"], scene.paths, figure["paths"], strict=True):
        np.testing.assert_array_equal(sent["shown"], drawn.points)
        np.testing.assert_array_equal(arrows.get_offsets(), np.array(sent["shown"])[:-1])  # an arrow per step
        assert sent["color"] == to_hex(arrows.get_facecolor()[0]) == drawn.color
        assert sent["label"] == arrows.get_label()
    texts = [t.get_text() for t in figure["figure"].axes[0].texts]
    note = data["paths"][0]["exit_note"]  # sgd at lr 1.5: y doubles and flips, out of [-3, 3] at step 1
    assert note["text"] == "left the frame\nat step 1" and note["text"] in texts
    # the first step (-7, 2) → (-6.79, -4) crosses y = -3 five sixths of the way; the note is a quarter of
    # the way from there to the middle (0, 0)
    assert data["paths"][0]["shown"][-1] == [pytest.approx(-7 + 5 / 6 * 0.21), -3.0]
    assert note["at"] == [pytest.approx(0.75 * (-7 + 5 / 6 * 0.21)), pytest.approx(-2.25)]
    assert [p["end"] is None for p in data["paths"]] == [True, False, False]
    figure["figure"].clf()


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
