"""`mlplab explain`: every stage of backprop for one image, against references that know nothing of mlplab's layers.

- each stage's numbers against the textbook's formulas computed here directly in NumPy (float64), for
  the 2-layer sigmoid network and for deeper ReLU and tanh ones;
- every numerical check below 1e-6; the central differences themselves against a closed form;
- the SGD step's loss after, recomputed here from W − lr·∂L/∂W;
- the untrained network against the trainer's first weights; ``--at K`` against ``snapshots.npz``;
- the CLI (exit 0, the JSON schema of issue 16, one error line for a mistake), the HTML section.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli.app import main
from mlplab.explain import central_differences, explain_image
from mlplab.explain.html import explanation_page, report_section
from mlplab.explain.run import explain_run, initial_network
from mlplab.nn import ACTIVATION_LAYERS, build_network
from mlplab.train import TrainConfig, load_snapshots, train

LR = 0.1


@pytest.fixture(scope="module")
def digit(mnist):
    (_, _), (x_test, t_test) = mnist
    return x_test[0].astype(np.float64), int(t_test[0])  # a 7


# ---- an independent forward and backward pass, written from the textbook (ch. 3-5) -------------------

def reference(params: dict[str, np.ndarray], activation: str, x: np.ndarray, t: int) -> dict[str, np.ndarray]:
    """Every stage by plain NumPy: the formulas of the textbook, with the derivatives written out."""
    f = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "relu": lambda a: np.maximum(a, 0), "tanh": np.tanh}[activation]
    df = {"sigmoid": lambda a: f(a) * (1 - f(a)), "relu": lambda a: (a > 0).astype(float),
          "tanh": lambda a: 1 - np.tanh(a) ** 2}[activation]
    n = len(params) // 2
    out = {"x": x[None, :]}
    z = x[None, :]
    for k in range(1, n + 1):
        a = z @ params[f"W{k}"] + params[f"b{k}"]
        out[f"a{k}"] = a
        if k < n:
            z = out[f"z{k}"] = f(a)
    e = np.exp(out[f"a{n}"] - out[f"a{n}"].max())
    y = out["y"] = e / e.sum()
    out["L"] = np.array(-np.log(y[0, t]))
    one_hot = np.eye(y.shape[1])[[t]]
    delta = y - one_hot  # ∂L/∂a_n
    for k in range(n, 0, -1):
        out[f"∂L/∂a{k}"] = delta
        below = out["x"] if k == 1 else out[f"z{k - 1}"]
        out[f"∂L/∂W{k}"] = np.outer(below, delta)
        out[f"∂L/∂b{k}"] = delta[0]
        if k > 1:
            out[f"∂L/∂z{k - 1}"] = delta @ params[f"W{k}"].T
            delta = out[f"∂L/∂z{k - 1}"] * df(out[f"a{k - 1}"])
    return out


def reference_loss(params: dict[str, np.ndarray], activation: str, x: np.ndarray, t: int) -> float:
    return float(reference(params, activation, x, t)["L"])


NETWORKS = [((784, 50, 10), "sigmoid"), ((784, 30, 20, 10), "relu"), ((784, 24, 16, 12, 10), "tanh")]


@pytest.fixture(scope="module", params=NETWORKS, ids=[f"{'-'.join(map(str, s))}-{a}" for s, a in NETWORKS])
def explained(request, digit):
    sizes, activation = request.param
    network = build_network(sizes, activation=activation, weight_init_std="auto", seed=1)
    x, t = digit
    return network, explain_image(network, x, t, lr=LR), x, t


def test_the_stages_are_the_textbooks_in_its_order(digit):
    x, t = digit
    e = explain_image(build_network((784, 50, 10), seed=0), x, t, check=False)
    assert [s.name for s in e.forward] == ["x", "a1", "z1", "a2", "y", "L"]
    assert [s.name for s in e.backward] == ["∂L/∂a2", "∂L/∂W2", "∂L/∂b2", "∂L/∂z1", "∂L/∂a1", "∂L/∂W1", "∂L/∂b1"]
    formulas = {s.name: s.formula for s in e.stages}
    assert formulas["a1"] == "a1 = x·W1 + b1" and formulas["∂L/∂a2"] == "∂L/∂a2 = y − t"
    assert formulas["∂L/∂W2"] == "∂L/∂W2 = z1ᵀ·(y − t)" and formulas["∂L/∂z1"] == "∂L/∂z1 = (y − t)·W2ᵀ"
    assert formulas["∂L/∂a1"] == "∂L/∂z1 ⊙ z1(1 − z1)".join(["∂L/∂a1 = ", ""])
    assert formulas["∂L/∂W1"] == "∂L/∂W1 = xᵀ·∂L/∂a1"
    assert {s.name: s.shape for s in e.stages if s.name in ("x", "a1", "a2", "L", "∂L/∂W1", "∂L/∂b1")} == \
        {"x": (1, 784), "a1": (1, 50), "a2": (1, 10), "L": (), "∂L/∂W1": (784, 50), "∂L/∂b1": (50,)}
    assert e.graph == ["x", "Affine1", "Sigmoid1", "Affine2", "SoftmaxWithLoss"]


def test_every_stage_equals_the_independent_numpy_computation(explained):
    network, e, x, t = explained
    expected = reference({k: v.astype(np.float64) for k, v in network.params.items()}, network.activation, x, t)
    assert {s.name for s in e.stages} == set(expected)
    for stage in e.stages:
        np.testing.assert_allclose(stage.value, expected[stage.name], rtol=1e-10, atol=1e-13, err_msg=stage.name)
    assert e.loss == pytest.approx(float(expected["L"]), rel=1e-12)
    assert e.prediction == int(np.argmax(expected["y"]))
    for key in network.params:
        np.testing.assert_allclose(e.grads[key], expected[f"∂L/∂{key}"], rtol=1e-10, atol=1e-13)


def test_every_numerical_check_is_below_1e_6(explained):
    _, e, _, _ = explained
    assert set(e.checks) == {s.name for s in e.stages} - {"x"}  # every stage but the data has a check
    assert all(0 <= err < 1e-6 for err in e.checks.values()), e.checks


def test_the_activations_derivative_is_the_layers_own(explained):
    network, e, x, t = explained
    for stage in e.backward:
        if stage.kind == "activation_grad":
            a = e.stage(stage.inputs[1]).value
            f = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}
            h = 1e-6  # the derivative of f at a, by central differences of f itself
            slope = (f[network.activation](a + h) - f[network.activation](a - h)) / (2 * h)
            np.testing.assert_allclose(stage.local, slope, atol=1e-8)
            assert stage.local_formula in stage.formula


def test_one_sgd_step_lowers_the_loss_by_the_amount_recomputed_here(explained):
    network, e, x, t = explained
    stepped = {k: v.astype(np.float64) - LR * e.grads[k] for k, v in network.params.items()}
    assert e.loss_after == pytest.approx(reference_loss(stepped, network.activation, x, t), rel=1e-12)
    assert e.loss_after < e.loss
    assert e.to_dict()["step"] == {"lr": LR, "loss_before": e.loss, "loss_after": e.loss_after,
                                   "formula": "W ← W − lr·∂L/∂W"}


def test_the_network_is_left_as_it_was(digit):
    network = build_network((784, 20, 10), seed=2)
    before = {k: v.copy() for k, v in network.params.items()}
    explain_image(network, *digit)
    for key, value in network.params.items():
        np.testing.assert_array_equal(value, before[key])


def test_every_activation_has_its_formulas():
    for cls in ACTIVATION_LAYERS.values():
        assert "{a}" in cls.formula and ("{a}" in cls.derivative or "{z}" in cls.derivative), cls.name


def test_central_differences_against_a_closed_form(rng):
    v = rng.standard_normal((4, 3))
    grad = central_differences(lambda: float(np.sum(np.sin(v) * v)), v)
    np.testing.assert_allclose(grad, np.cos(v) * v + np.sin(v), rtol=1e-7)
    u = np.array([0.0, 2.0, 0.0, -1.0])  # rows of W that meet a 0 input get exactly 0 without being perturbed
    W = rng.standard_normal((4, 3))
    g = central_differences(lambda: float(np.sum(np.tanh(u @ W))), W, rows=np.flatnonzero(u))
    np.testing.assert_allclose(g, np.outer(u, 1 - np.tanh(u @ W) ** 2), rtol=1e-7)
    assert not g[[0, 2]].any()


# ---- a run folder: --at, --untrained, the CLI ----------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("explain") / "run"
    train(TrainConfig(iters=600, train_size=5000, test_size=1000, eval_every=200, seed=0), run_dir=path)
    return path


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_untrained_is_the_network_the_trainer_started_from(tmp_path):
    config = TrainConfig(iters=1, lr=1e-12, train_size=200, test_size=100, hidden=(20,), seed=3)
    first = train(config).network  # one step of lr 1e-12 moves no float32 weight measurably
    rebuilt = initial_network(config, first.sizes)
    for key, value in first.params.items():
        np.testing.assert_allclose(rebuilt.params[key], value, atol=1e-7)


def test_cli_prints_every_stage_and_writes_the_json_of_issue_16(run_dir, tmp_path, mnist):
    out = tmp_path / "stages.json"
    result = invoke("explain", run_dir, "--index", 4, "--json", out)
    assert result.exit_code == 0, result.output
    for text in ("test image #4", "a1 = x·W1 + b1", "∂L/∂a1 = ∂L/∂z1 ⊙ z1(1 − z1)", "∂L/∂W1 = xᵀ·∂L/∂a1",
                 "ONE SGD STEP", "all below 1e-6"):
        assert text in result.output
    data = json.loads(out.read_text())
    assert {"index", "label", "prediction", "loss", "forward", "backward", "grads", "checks", "step"} <= set(data)
    assert data["index"] == 4 and set(data["step"]) >= {"lr", "loss_before", "loss_after"}
    for stage in data["forward"] + data["backward"]:
        assert {"name", "formula", "shape", "value"} <= set(stage)
        assert list(np.shape(stage["value"])) == stage["shape"]  # full arrays, as nested lists
    assert np.shape(data["grads"]["W1"]) == (784, 50) and np.shape(data["grads"]["b2"]) == (10,)
    assert set(data["checks"]) == {s["name"] for s in data["forward"] + data["backward"]} - {"x"}
    assert max(data["checks"].values()) < 1e-6
    (_, _), (x_test, t_test) = mnist
    assert data["label"] == int(t_test[4])
    np.testing.assert_array_equal(np.asarray(data["forward"][0]["value"])[0], x_test[4].astype(np.float64))


def test_cli_at_uses_the_snapshot_of_that_evaluation(run_dir, tmp_path):
    out = tmp_path / "at1.json"
    result = invoke("explain", run_dir, "--at", 1, "--json", out, "--no-check")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    snapshots = load_snapshots(run_dir)
    assert data["at"] == 1 and data["iteration"] == int(snapshots["iterations"][1]) == 200
    np.testing.assert_array_equal(np.asarray(data["params"]["W1"]), snapshots["W1"][1].astype(np.float64))
    assert "evaluation 1 (after iteration 200)" in result.output


def test_cli_untrained_and_html(run_dir, tmp_path):
    page = tmp_path / "stages.html"
    result = invoke("explain", run_dir, "--untrained", "--html", page, "--no-check")
    assert result.exit_code == 0, result.output
    assert "untrained (seed 0)" in result.output
    text = page.read_text()
    assert "<script" not in text and "∂L/∂W1 = xᵀ·∂L/∂a1" in text and "<svg" in text


@pytest.mark.parametrize("args, says", [(("--index", 5000), "between 0 and 999"), (("--at", 9), "between 0 and 3"),
                                        (("--untrained", "--at", 0), "not both")])
def test_cli_mistakes_are_one_line(run_dir, args, says):
    result = invoke("explain", run_dir, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0]


def test_report_section_explains_test_image_0(run_dir):
    from mlplab.viz.training.run_figures import load_run_data

    data = load_run_data(run_dir)
    html = report_section(data)
    assert html.startswith('<section id="backprop">') and "Test image #0" in html and "<script" not in html
    r = explain_run(data, 0, check=False)
    assert "<h1>" in explanation_page(r)


def test_report_html_has_the_backprop_section(run_dir):
    from mlplab.viz.report import build_report
    from mlplab.viz.training.run_figures import load_run_data

    page = build_report(load_run_data(run_dir), {})
    section = page[page.index('<section id="backprop">'):]
    assert "∂L/∂W1 = xᵀ·∂L/∂a1" in section and "One SGD step on this image" in section
    assert "http" not in section.lower() and "<script" not in section


# ---- the web app's answer and page (the browser test is test_explain_browser.py) ----------------------

@pytest.fixture(scope="module")
def client(run_dir):
    from fastapi.testclient import TestClient

    from mlplab.app import AppSettings, create_app

    with TestClient(create_app(AppSettings(runs_dir=run_dir.parent, allowed_hosts=("testserver",)))) as c:
        yield c


def test_api_answers_the_json_of_the_cli(client, run_dir):
    data = client.get("/api/explain/run?index=2&at=-1").json()  # evaluations 0, 200, 400 and the final 599
    assert data["index"] == 2 and data["at"] == 3 and data["run"] == "run"
    assert [s["name"] for s in data["backward"]][-2:] == ["∂L/∂W1", "∂L/∂b1"]
    assert max(data["checks"].values()) < 1e-6
    from mlplab.viz.training.run_figures import load_run_data

    cli = explain_run(load_run_data(run_dir), 2, at=-1, check=False).to_dict()
    assert data["grads"]["W2"] == cli["grads"]["W2"] and data["forward"][-1]["value"] == cli["forward"][-1]["value"]


@pytest.mark.parametrize("query, status, says", [("index=1000", 400, "between 0 and 999"),
                                                 ("at=7", 400, "between 0 and 3"),
                                                 ("index=-1", 422, "index")])
def test_api_mistakes_are_one_sentence(client, query, status, says):
    response = client.get(f"/api/explain/run?{query}")
    assert response.status_code == status and says in response.json()["error"]


def test_backprop_page_is_served_for_a_run_and_refuses_bad_names(client):
    page = client.get("/backprop/run")
    assert page.status_code == 200 and "/static/backprop.js" in page.text and "Backprop, step by step" in page.text
    assert client.get("/api/explain/nothing-here").status_code == 404
    assert client.get("/backprop/..%2Fetc").status_code in (400, 404)


def test_public_names_at_the_top():
    import mlplab

    assert mlplab.explain_image is explain_image and mlplab.explain_run is explain_run
