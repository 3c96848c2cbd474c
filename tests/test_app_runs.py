"""The web app's run endpoints: what they send equals what the run folder recorded, and every bad
input gets a 4xx with a sentence (never a 500, never a path outside the runs folder)."""

from __future__ import annotations

import json
import math
import os
import shutil
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mlplab.app import AppSettings, create_app
from mlplab.app.api_runs import MAX_LOSS_POINTS, _curves
from mlplab.app.responses import finite
from mlplab.app.server import STATIC, TEMPLATES, plotly_js
from mlplab.diagnose import diagnose_run
from mlplab.nn.functions import softmax
from mlplab.optim import OPTIMIZERS
from mlplab.train import History, TrainConfig, load_run, load_snapshots, train
from mlplab.viz.training.curves import default_window, moving_average
from mlplab.viz.training.run_figures import FIGURES

TINY = TrainConfig(iters=61, batch_size=50, lr=0.5, hidden=(16,), train_size=500, test_size=200, eval_every=20,
                   seed=0)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A runs folder with a finished run, a nested one, a live one, a dead one, a broken one, one whose
    history holds a NaN, and a symlink that points outside."""
    root = tmp_path_factory.mktemp("runs")
    train(TINY, run_dir=root / "tiny")
    shutil.copytree(root / "tiny", root / "sweep" / "child")
    (root / "sweep" / "child" / "report.html").write_text("<html><body>report</body></html>")
    shutil.copytree(root / "tiny", root / "nan")
    history = json.loads((root / "nan" / "history.json").read_text())
    history["test_loss"][1] = float("nan")
    (root / "nan" / "history.json").write_text(json.dumps(history))  # json writes NaN, as a diverged run would
    for name in ("live", "dead"):
        (root / name).mkdir()
        shutil.copy(root / "tiny" / "config.json", root / name / "config.json")
        lines = (root / "tiny" / "stream.jsonl").read_text().splitlines()[:3]  # start, eval, loss: no end
        (root / name / "stream.jsonl").write_text("\n".join(lines) + "\n")
    old = time.time() - 3600
    os.utime(root / "dead" / "stream.jsonl", (old, old))
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{ this is not json")
    shutil.copytree(root / "tiny", root / "odd")
    (root / "odd" / "history.json").write_text("[1, 2]")  # valid JSON, not a history
    outside = tmp_path_factory.mktemp("outside")
    shutil.copytree(root / "tiny", outside / "secret")
    (root / "escape").symlink_to(outside / "secret")
    return root


@pytest.fixture(scope="module")
def client(root):
    with TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",)))) as c:
        yield c


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message.endswith((".", ")")) and len(message) > 20
    return message


# ------------------------------------------------------------------------------------------ listing


def test_the_list_has_every_run_folder_inside_the_root_and_what_each_recorded(client, root):
    rows = {row["name"]: row for row in client.get("/api/runs").json()["runs"]}
    assert set(rows) == {"tiny", "sweep/child", "nan", "live", "dead", "broken", "odd"}  # not the symlink
    history = json.loads((root / "tiny" / "history.json").read_text())
    tiny = rows["tiny"]
    assert (tiny["status"], tiny["live"]) == ("completed", False)
    assert tiny["test_acc"] == history["test_acc"][-1] and tiny["train_acc"] == history["train_acc"][-1]
    assert tiny["iterations_done"] == 61 and tiny["config"]["hidden"] == [16]
    assert (rows["live"]["live"], rows["live"]["status"]) == (True, "running")
    assert rows["live"]["test_acc"] == history["test_acc"][0]  # from the stream's first eval event
    assert (rows["dead"]["live"], rows["dead"]["status"]) == (False, "incomplete")
    assert "killed" in rows["dead"]["error"]
    assert "config.json is damaged" in rows["broken"]["error"]
    assert "history.json is damaged: it holds a JSON list, not an object" in rows["odd"]["error"]
    assert rows["broken"]["status"] == rows["odd"]["status"] == "damaged"
    detail = client.get("/api/runs/odd").json()
    assert not detail["complete"] and "damaged" in detail["error"]
    assert "re-run the training" in error_of(client.get("/api/runs/odd/confusion"), 400)


def test_an_empty_or_missing_runs_folder_lists_nothing(tmp_path):
    with TestClient(create_app(AppSettings(runs_dir=tmp_path / "none", allowed_hosts=("testserver",)))) as c:
        assert c.get("/api/runs").json()["runs"] == []


# ------------------------------------------------------------------------------------------ one run


def test_run_detail_curves_and_insights_are_the_recorded_ones(client, root):
    detail = client.get("/api/runs/tiny").json()
    history = json.loads((root / "tiny" / "history.json").read_text())
    curves = detail["curves"]
    for key in ("iterations", "train_acc", "test_acc", "train_loss", "test_loss"):
        assert curves[key] == history[key]
    assert curves["loss"] == history["loss"] and curves["loss_x"] == list(range(61))
    window = default_window(61)
    assert curves["window"] == window
    np.testing.assert_allclose(curves["smooth"], moving_average(np.array(history["loss"]), window))
    assert detail["evaluations"] == load_snapshots(root / "tiny")["iterations"].tolist() == [0, 20, 40, 60]
    assert detail["complete"] and not detail["live"] and detail["sizes"] == [784, 16, 10]
    assert detail["n_test"] == 200 and detail["report"] is False
    assert detail["insights"] == json.loads(json.dumps([i.to_dict() for i in diagnose_run(root / "tiny")]))
    assert set(detail["figures"]) >= set(FIGURES)


def test_long_loss_curves_are_thinned_to_real_samples():
    loss = list(np.linspace(3, 0.1, 10_001))
    curves = finite(_curves(History(loss=loss)))
    assert len(curves["loss"]) <= MAX_LOSS_POINTS
    assert all(loss[x] == y for x, y in zip(curves["loss_x"], curves["loss"], strict=True))  # values at their x


def test_a_nan_in_the_history_is_sent_as_null_not_a_500(client):
    response = client.get("/api/runs/nan")
    assert response.status_code == 200
    assert response.json()["curves"]["test_loss"][1] is None


def test_finite_makes_numpy_and_nan_json_safe():
    data = {"a": [1.0, math.nan, math.inf], "b": np.float32(2), "c": np.arange(2), "d": (np.int64(3), np.bool_(True))}
    assert finite(data) == {"a": [1.0, None, None], "b": 2.0, "c": [0, 1], "d": [3, True]}


def test_a_live_run_is_not_complete_and_says_it_is_live(client):
    detail = client.get("/api/runs/live").json()
    assert detail["live"] and not detail["complete"] and "curves" not in detail


def test_a_report_is_served_when_the_run_has_one(client):
    response = client.get("/api/runs/sweep/child/report.html")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "report" in response.text
    assert "mlplab report" in error_of(client.get("/api/runs/tiny/report.html"), 404)


# ------------------------------------------------------------------------------------------ pictures


def test_the_confusion_matrix_of_the_final_model_matches_the_last_evaluation(client, root):
    history = json.loads((root / "tiny" / "history.json").read_text())
    final = client.get("/api/runs/tiny/confusion").json()
    matrix = np.array(final["matrix"])
    assert matrix.shape == (10, 10) and matrix.sum() == final["n"] == 200
    # the last evaluation ran after the last iteration (60), so the final model is the evaluated one
    assert np.trace(matrix) / 200 == pytest.approx(history["test_acc"][-1], abs=1e-12)
    np.testing.assert_allclose(np.array(final["shares"]).sum(axis=1)[matrix.sum(axis=1) > 0], 1.0)
    assert (final["eval"], final["iteration"]) == (None, 60)


def test_replayed_confusion_matrices_follow_the_history(client, root):
    history = json.loads((root / "tiny" / "history.json").read_text())
    for k in range(4):
        at = client.get(f"/api/runs/tiny/confusion?at={k}").json()
        assert (at["eval"], at["iteration"]) == (k, history["iterations"][k])
        # snapshots are float16: a prediction or two may flip against the float32 evaluation
        assert at["accuracy"] == pytest.approx(history["test_acc"][k], abs=0.02)
    assert client.get("/api/runs/tiny/confusion?at=-1").json()["eval"] == 3


def test_a_cell_holds_exactly_the_digits_true_t_predicted_p(client, root, mnist):
    run = load_run(root / "tiny")
    _, (x_test, t_test) = mnist  # load_mnist(), loaded once per test process
    x_test, t_test = x_test[:200], t_test[:200]
    predicted = np.argmax(run.network.predict(x_test), axis=1)
    matrix = np.array(client.get("/api/runs/tiny/confusion").json()["matrix"])
    off = matrix - np.diag(np.diag(matrix))
    t, p = np.unravel_index(np.argmax(off), off.shape)
    cell = client.get(f"/api/runs/tiny/cell?true={t}&pred={p}&limit=200").json()
    assert cell["count"] == matrix[t, p] == len(cell["indices"]) > 0
    assert set(cell["indices"]) == set(np.flatnonzero((t_test == t) & (predicted == p)).tolist())
    probs = softmax(run.network.predict(x_test[cell["indices"]]).astype(np.float64))[:, p]
    np.testing.assert_allclose(cell["probability"], probs, rtol=1e-5)
    assert cell["probability"] == sorted(cell["probability"], reverse=True)  # most confident first
    limited = client.get(f"/api/runs/tiny/cell?true={t}&pred={p}&limit=1").json()
    assert limited["indices"] == cell["indices"][:1] and limited["count"] == cell["count"]
    picture = client.get(f"/api/runs/tiny/cell.png?true={t}&pred={p}&theme=light")
    assert picture.status_code == 200 and picture.content.startswith(PNG)


@pytest.mark.parametrize("query, status, words", [
    ("true=3&pred=3", 400, "diagonal"),
    ("true=10&pred=3", 400, "between 0 and 9"),
    ("true=-1&pred=3", 422, "true must be greater than or equal to 0"),
    ("pred=3", 422, "true is required"),
    ("true=a&pred=3", 422, "true must be a valid integer"),
    ("true=1&pred=2&at=9", 400, "between 0 and 3"),
    ("true=1&pred=2&limit=0", 422, "limit"),
])
def test_bad_cells_are_refused_with_a_reason(client, query, status, words):
    assert words in error_of(client.get(f"/api/runs/tiny/cell?{query}"), status)


def test_an_empty_cell_has_no_picture(client):
    matrix = np.array(client.get("/api/runs/tiny/confusion").json()["matrix"])
    t, p = map(int, np.argwhere(matrix == 0)[0])
    assert "count above 0" in error_of(client.get(f"/api/runs/tiny/cell.png?true={t}&pred={p}"), 404)


@pytest.mark.parametrize("name", ["hidden_units", "confusion", "accuracy", "layer_health"])
def test_figures_are_pngs(client, name):
    response = client.get(f"/api/runs/tiny/figure/{name}.png?at=-1&theme=light"
                          if name != "layer_health" else f"/api/runs/tiny/figure/{name}.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG)


@pytest.mark.parametrize("url, status, words", [
    ("/api/runs/tiny/figure/selfie.png", 404, "choose one of: accuracy"),
    ("/api/runs/tiny/figure/hidden_units.png?at=4", 400, "between 0 and 3"),
    ("/api/runs/tiny/figure/hidden_units.png?at=x", 422, "at must be a valid integer"),
    ("/api/runs/tiny/figure/hidden_units.png?theme=blue", 422, "theme must be 'dark' or 'light'"),
    ("/api/runs/broken/figure/hidden_units.png", 400, "has not finished writing"),
    ("/api/runs/live/figure/hidden_units.png", 400, "wait for it to end"),
])
def test_bad_figure_requests_are_refused_with_a_reason(client, url, status, words):
    assert words in error_of(client.get(url), status)


def test_the_network_view_is_the_forward_pass_of_the_chosen_digit(client, root, mnist):
    run = load_run(root / "tiny")
    _, (x_test, t_test) = mnist  # load_mnist(), loaded once per test process
    data = client.get("/api/runs/tiny/network?digit=5").json()
    expected = softmax(run.network.predict(x_test[5:6].astype(np.float64)))[0]
    np.testing.assert_allclose(data["probabilities"], expected, rtol=1e-5)
    assert data["predicted"] == int(np.argmax(expected)) and data["label"] == int(t_test[5])
    assert data["png"].startswith("data:image/png;base64,")
    assert [u["unit"] for u in data["units"]] == list(range(16)) == list(range(data["hidden_size"]))
    for u in data["units"]:  # hot spots lie on the picture, in its right half (the hidden column)
        assert 0.3 < u["x"] < 1 and 0 < u["y"] < 1 and 0 < u["r"] < 0.05
    assert len({round(u["y"], 4) for u in data["units"]}) == 16  # one place per unit
    replay = client.get("/api/runs/tiny/network?digit=5&at=0").json()
    assert replay["eval"] == 0 and replay["probabilities"] != data["probabilities"]


@pytest.mark.parametrize("query, status, words", [
    ("digit=200", 400, "between 0 and 199"),
    ("digit=-1", 422, "digit must be greater than or equal to 0"),
    ("digit=10000", 422, "less than or equal to 9999"),
    ("at=-5", 400, "between 0 and 3"),
])
def test_bad_network_requests_are_refused(client, query, status, words):
    assert words in error_of(client.get(f"/api/runs/tiny/network?{query}"), status)


def test_a_hidden_unit_picture_and_its_bounds(client):
    response = client.get("/api/runs/tiny/unit/15.png?at=2")
    assert response.status_code == 200 and response.content.startswith(PNG)
    assert "between 0 and 15" in error_of(client.get("/api/runs/tiny/unit/16.png"), 400)
    assert "unit must be greater than or equal to 0" in error_of(client.get("/api/runs/tiny/unit/-1.png"), 422)


# ------------------------------------------------------------------------------------------ names


@pytest.mark.parametrize("url, status, words", [
    ("/api/runs/..%2F..%2Fetc", 400, "is not a run name"),
    ("/api/runs/.hidden", 400, "is not a run name"),
    ("/api/runs/a/b/c", 400, "at most 2 parts"),
    ("/api/runs/a%20b", 400, "is not a run name"),
    ("/api/runs/escape", 400, "outside the runs folder"),
    ("/api/runs/escape/confusion", 400, "outside the runs folder"),
    ("/api/runs/nope", 404, "there is no run 'nope'"),
    ("/api/runs/nope/stream", 404, "there is no run"),
    ("/run/..%2Fsecret", 400, "is not a run name"),
])
def test_run_names_cannot_leave_the_runs_folder(client, url, status, words):
    assert words in error_of(client.get(url), status)


# ------------------------------------------------------------------------------------------ pages


@pytest.mark.parametrize("url, script", [("/", "runs.js"), ("/train", "train.js"), ("/landscape", "landscape.js"),
                                         ("/run/sweep/child", "run.js")])
def test_pages_are_served_with_their_scripts(client, url, script):
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert f'src="/static/{script}"' in response.text and 'src="/vendor/plotly.min.js"' in response.text


def test_everything_is_served_locally_no_cdn(client):
    assert client.get("/vendor/plotly.min.js").content == plotly_js().read_bytes()
    for path in [*STATIC.iterdir(), *TEMPLATES.iterdir()]:
        text = path.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path.name
    for path in STATIC.iterdir():
        assert client.get(f"/static/{path.name}").status_code == 200


@pytest.mark.parametrize("url", ["/static/..%2Fserver.py", "/static/.secret", "/static/nope.js", "/api/nothing"])
def test_unknown_files_and_endpoints_are_404_with_a_message(client, url):
    error_of(client.get(url), 404)


def test_a_wrong_method_is_405_with_a_message(client):
    assert "GET is not allowed on '/api/train/x/stop'" in error_of(client.get("/api/train/x/stop"), 405)


def test_options_come_from_the_library_registries(client, root):
    options = client.get("/api/options").json()
    assert options["optimizers"] == list(OPTIMIZERS) and options["runs_dir"] == str(root.resolve())
    assert options["train"]["iters"] == [1, 200_000] and options["max_trainings"] == 1


def test_the_textbook_preset_is_a_run_the_book_is_compared_with(client):
    """The Train page fills its form from options["textbook"]; blank fields are left out of the request."""
    from mlplab.app.schemas import TrainRequest
    from mlplab.data.reference import book_differences
    from mlplab.train import TrainConfig

    form = client.get("/api/options").json()["textbook"]
    request = {k: v for k, v in form.items() if v != ""}
    request["hidden"] = [int(h) for h in request["hidden"].split(",")]
    if request.pop("weight_init") != "number":  # as train.js: the menu's choice, or the number field
        request["weight_init_std"] = form["weight_init"]
    config = TrainConfig(**TrainRequest(**request).config_fields())
    assert book_differences(config, (784, *config.hidden, 10)) == []


def test_requests_for_another_host_name_are_refused(root):
    app = create_app(AppSettings(runs_dir=root))  # the default: loopback names only
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        assert c.get("/api/runs").status_code == 200
        assert c.get("/api/runs", headers={"host": "evil.example"}).status_code == 400  # DNS rebinding
