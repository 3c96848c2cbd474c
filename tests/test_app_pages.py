"""The pages' new API (issue 17): deleting a run only inside the runs folder, sweep folders and their
figures, and every Train-form setting reaching ``config.json`` — each bad request a 4xx with a sentence."""

from __future__ import annotations

import json
import os
import time
import warnings

import pytest

from mlplab.app import AppSettings, create_app
from mlplab.sweep.summary import COLUMNS
from mlplab.train import TrainConfig, train
from mlplab.train.run_folder import CONFIG

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TINY = TrainConfig(iters=3, batch_size=20, hidden=(5,), train_size=100, test_size=50, eval_every=2, seed=0)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "runs"
    for name in ("keep", "gone"):
        train(TINY, run_dir=root / name)
    return root


@pytest.fixture
def client(root):
    return TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",))))


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]


def test_deleting_a_finished_run_removes_its_folder_and_only_it(client, root):
    assert client.delete("/api/runs/gone").json() == {"deleted": "gone"}
    assert not (root / "gone").exists() and (root / "keep" / CONFIG).is_file()
    assert [r["name"] for r in client.get("/api/runs").json()["runs"]] == ["keep"]
    assert "there is no run 'gone'" in error_of(client.delete("/api/runs/gone"), 404)


def test_a_symlink_is_never_followed_out_of_the_runs_folder(client, root, tmp_path):
    outside = tmp_path / "outside"
    train(TINY, run_dir=outside)
    os.symlink(outside, root / "link")
    assert "is a link" in error_of(client.delete("/api/runs/link"), 403)
    assert (outside / CONFIG).is_file() and (root / "link").is_symlink()


@pytest.mark.parametrize(("name", "status", "words"), [
    ("%2E%2E", 400, "is not a run name"),
    ("%2E%2E%2Fkeep", 400, "is not a run name"),
    (".hidden", 400, "is not a run name"),
    ("sweep/run", 403, "inside a sweep folder"),
    ("not-a-run", 404, "there is no run"),
])
def test_only_a_run_folder_directly_in_the_runs_folder_can_be_deleted(client, root, name, status, words):
    (root / "not-a-run").mkdir()  # a folder without config.json
    train(TINY, run_dir=root / "sweep" / "run")
    assert words in error_of(client.delete(f"/api/runs/{name}"), status)
    assert (root / "keep" / CONFIG).is_file() and (root / "sweep" / "run" / CONFIG).is_file()


def test_a_training_run_cannot_be_deleted(client, root):
    stream = root / "keep" / "stream.jsonl"  # a terminal run that is training: its stream grows, no end
    stream.write_text(json.dumps({"event": "start", "iters": 100}) + "\n")
    os.utime(stream, (time.time(), time.time()))
    assert "is training; stop it first" in error_of(client.delete("/api/runs/keep"), 409)
    assert (root / "keep" / CONFIG).is_file()


def write_sweep(folder, *, figures=("sweep_best.png",)):
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text(",".join(COLUMNS) + "\n" + ",".join(
        {"name": "lr-0.1", "lr": "0.1", "hidden": "50", "optimizer": "sgd", "batch_size": "100",
         "activation": "sigmoid", "weight_init_std": "0.01", "seed": "0", "iters": "10", "status": "completed",
         "final_test_acc": "0.5"}.get(c, "") for c in COLUMNS) + "\n")
    for name in figures:
        (folder / name).write_bytes(PNG + b"picture")


def test_sweep_folders_are_listed_with_their_rows_and_figures(client, root):
    write_sweep(root / "grid")
    sweeps = client.get("/api/sweeps").json()["sweeps"]
    assert [(s["name"], s["figures"], len(s["rows"]), s["rows"][0]["final_test_acc"]) for s in sweeps] == \
        [("grid", ["best"], 1, 0.5)]
    response = client.get("/api/sweeps/grid/figure/best")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG)


def test_bad_sweep_requests_are_refused_with_a_reason(client, root, tmp_path):
    write_sweep(root / "grid")
    write_sweep(tmp_path / "elsewhere", figures=("sweep_curves.png",))
    os.symlink(tmp_path / "elsewhere" / "sweep_curves.png", root / "grid" / "sweep_curves.png")
    assert "has no figure 'heatmap'" in error_of(client.get("/api/sweeps/grid/figure/heatmap"), 404)
    assert "no sweep folder 'keep'" in error_of(client.get("/api/sweeps/keep/figure/best"), 404)
    assert "outside the runs folder" in error_of(client.get("/api/sweeps/grid/figure/curves"), 403)
    assert error_of(client.get("/api/sweeps/..%2F..%2Fetc/figure/best"), 404)


SETTINGS = {"iters": 4, "batch_size": 20, "hidden": [6, 4], "train_size": 100, "test_size": 50, "eval_every": 2,
            "seed": 5, "plots": False, "lr": 0.05, "activation": "relu", "optimizer": "adam",
            "optimizer_options": {"beta1": 0.8, "beta2": 0.99}, "weight_init_std": "he", "dtype": "float64",
            "sampling": "shuffle", "batchnorm": True, "dropout": 0.2, "weight_decay": 0.001, "validation": 20}


def test_every_setting_of_the_train_form_reaches_config_json(client, root):
    response = client.post("/api/train", json={**SETTINGS, "name": "all-settings"})
    assert response.status_code == 202, response.text
    client.app.state.trainings.jobs["all-settings"].thread.join(60)
    config = json.loads((root / "all-settings" / CONFIG).read_text())
    expected = {k: v for k, v in SETTINGS.items() if k != "plots"}
    assert {k: config[k] for k in expected} == expected
    assert set(TrainConfig.__dataclass_fields__) - set(SETTINGS) == {"data_dir"}  # the form has them all


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"optimizer_options": {"momentum": 0.5}}, 422, "adam has no setting momentum; its settings are: beta1, beta2"),
    ({"optimizer_options": {"beta1": 2}}, 422, "optimizer_options.beta1 must be less than or equal to 1"),
    ({"optimizer_options": {"beta1": 1.0}}, 400, "beta1 must be in [0, 1), got 1.0"),
    ({"weight_init_std": "glorot"}, 422, "weight_init_std"),
    ({"dtype": "float16"}, 422, "dtype"),
])
def test_a_bad_optimizer_or_init_setting_is_one_sentence(client, root, change, status, words):
    assert words in error_of(client.post("/api/train", json={**SETTINGS, **change}), status)
    assert sorted(p.name for p in root.iterdir()) == ["gone", "keep"]  # no run folder left behind


def test_the_options_list_each_optimizers_settings(client):
    options = client.get("/api/options").json()
    assert options["optimizer_options"]["momentum"] == {"momentum": 0.9}
    assert options["optimizer_options"]["sgd"] == {}
    assert options["weight_inits"] == ["he", "xavier", "auto", "relu", "sigmoid"]  # the book's names too


def test_a_diverging_path_is_drawn_to_the_frames_edge_and_the_view_stays_on_the_function(client):
    body = {"function": "bowl", "steps": 30, "paths": [{"optimizer": "sgd", "lr": 1.5}]}  # lr·λ = 3 > 2
    answer = client.post("/api/landscape/paths", json=body).json()
    (x0, x1), (y0, y1) = answer["box"]
    path = answer["paths"][0]
    assert answer["box"] == answer["function"]["bounds"]  # not zoomed out to 10⁹
    shown = path["shown"]
    assert all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in shown)
    last = shown[-1]
    assert min(abs(last[0] - x0), abs(last[0] - x1), abs(last[1] - y0), abs(last[1] - y1)) < 1e-9  # on the edge
    assert path["left_at"] == len(shown) - 1 < len(path["points"]) - 1
    assert shown[:-1] == path["points"][: len(shown) - 1]  # the real steps up to there


def test_the_functions_come_with_a_proposed_lr_for_every_optimizer(client):
    functions = client.get("/api/landscape/functions").json()["functions"]
    rosenbrock = next(f for f in functions if f["name"] == "rosenbrock")
    assert set(rosenbrock["lrs"]) == set(client.get("/api/options").json()["optimizers"])
    assert rosenbrock["lrs"]["adam"] > 100 * rosenbrock["lrs"]["sgd"]
