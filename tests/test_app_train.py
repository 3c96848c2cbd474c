"""Training from the web app: the run folder equals a CLI run's, one training at a time ("busy"), Stop
and server shutdown keep everything, the live stream follows any run's stream.jsonl (also a terminal
run), and every bad setting is a 422 that names it — with no run folder left behind."""

from __future__ import annotations

import json
import os
import threading
import time
import warnings

import numpy as np
import pytest

from mlplab.app import AppSettings, create_app
from mlplab.app.api_train import TrainingManager
from mlplab.app.streaming import StreamFollower, last_start_offset
from mlplab.train import TrainConfig, train

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SMALL = {"iters": 30, "batch_size": 50, "hidden": [8], "train_size": 300, "test_size": 100, "eval_every": 10,
         "seed": 3, "plots": False}
#: A training that would run for minutes: the tests stop it.
LONG = {**SMALL, "iters": 200_000, "eval_every": 20, "name": None}


def make_client(root, **settings):
    return TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",), **settings)))


def events_of(client, name, until=None, timeout=30.0):
    """The stream's events (parsed ``data:`` lines) until it ends or ``until(events)`` is true."""
    events = []
    started = time.monotonic()
    with client.stream("GET", f"/api/runs/{name}/stream") as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: "):]))
                if until is not None and until(events):
                    break
            assert time.monotonic() - started < timeout, events
    return events


def wait_for_job(client, name):
    job = client.app.state.trainings.jobs[name]
    job.thread.join(60)
    assert not job.thread.is_alive()
    return job


def n_evals(events):
    return sum(e["event"] == "eval" for e in events)


def test_a_training_from_the_app_is_the_same_run_as_from_the_cli(tmp_path):
    with make_client(tmp_path / "runs") as client:
        answer = client.post("/api/train", json={**SMALL, "name": "web"})
        assert answer.status_code == 202 and answer.json()["name"] == "web"
        events = events_of(client, "web")
        wait_for_job(client, "web")
    # evaluations after iterations 0, 10, 20, then the saved model's after the last iteration (29)
    assert [e["event"] for e in events] == ["start", "eval", "eval", "eval", "loss", "eval", "end"]
    assert [e["iteration"] for e in events if e["event"] == "eval"] == [0, 10, 20, 29]
    assert events[-1]["status"] == "completed"
    web = tmp_path / "runs" / "web"
    cli = tmp_path / "cli"
    config = TrainConfig(**{k: v for k, v in SMALL.items() if k != "plots"})
    train(config, run_dir=cli)
    for name in ("config.json", "history.json", "metrics.csv", "model.npz", "snapshots.npz", "stream.jsonl",
                 "layer_stats.json"):
        assert (web / name).is_file() and (cli / name).is_file()
    web_history, cli_history = (json.loads((d / "history.json").read_text()) for d in (web, cli))
    assert web_history["loss"] == cli_history["loss"]  # same seed, same run, bit for bit
    assert web_history["test_acc"] == cli_history["test_acc"] == [e["test_acc"] for e in events if e["event"] == "eval"]
    with np.load(web / "model.npz") as a, np.load(cli / "model.npz") as b:
        for key in a.files:
            np.testing.assert_array_equal(a[key], b[key])


def test_a_browser_started_run_draws_the_same_figure_files_as_the_cli(tmp_path):
    """One figure pipeline: the web app's run writes every figure of ``FIGURES`` and the GIF — the layer-
    health figures included, which the web app once left out — and its report: exactly the set that
    test_cli_plots::test_train_writes_figures_and_report_also_when_the_run_diverged requires of
    `mlplab train` (so no second, CLI run with figures is drawn here for the comparison: half the time)."""
    from mlplab.viz.training.run_figures import FIGURES

    settings = {**SMALL, "plots": True, "name": "web"}
    with make_client(tmp_path / "runs") as client:
        assert client.post("/api/train", json=settings).status_code == 202
        assert wait_for_job(client, "web").status == "completed"
    web = tmp_path / "runs" / "web"
    assert sorted(p.name for p in (web / "figures").iterdir()) == \
        sorted({f"{name}.png" for name in FIGURES} | {"hidden_units.gif"})
    assert (web / "report.html").is_file()


def test_the_app_draws_figures_and_the_report_only_when_asked(tmp_path, monkeypatch):
    """As `mlplab train` does after training (drawing itself is tested with mlplab.viz; here: the wiring)."""
    drawn = []
    monkeypatch.setattr(TrainingManager, "_draw", lambda self, run_dir, drawing: drawn.append(run_dir))
    with make_client(tmp_path) as client:
        for name, plots in (("drawn", True), ("plain", False)):
            client.post("/api/train", json={**SMALL, "iters": 11, "name": name, "plots": plots})
            assert wait_for_job(client, name).status == "completed"
    assert drawn == [(tmp_path / "drawn").resolve()]


def test_a_second_training_is_busy_and_stop_ends_the_first(tmp_path):
    with make_client(tmp_path) as client:
        first = client.post("/api/train", json=LONG).json()["name"]
        second = client.post("/api/train", json=LONG)
        message = second.json()["error"]
        assert second.status_code == 409 and message.startswith("busy") and first in message
        assert "--max-trainings" in message
        events_of(client, first, until=lambda ev: n_evals(ev) >= 2)  # it is training
        listed = client.get("/api/train").json()
        assert listed["jobs"][0]["name"] == first and listed["jobs"][0]["active"]
        stopped = client.post(f"/api/train/{first}/stop", json={})
        assert stopped.status_code == 200 and stopped.json()["stopping"]
        events = events_of(client, first)
        job = wait_for_job(client, first)
        assert events[-1]["event"] == "end" and events[-1]["status"] == "stopped" == job.status
        history = json.loads((tmp_path / first / "history.json").read_text())
        assert history["status"] == "stopped" and (tmp_path / first / "model.npz").is_file()
        assert len(history["iterations"]) == n_evals(events)
        again = client.post("/api/train", json={**SMALL, "name": "after"})  # the slot is free again
        assert again.status_code == 202
        wait_for_job(client, "after")
    assert not any(tmp_path.glob(".*"))  # nothing half-written


def test_two_slots_allow_two_trainings(tmp_path):
    with make_client(tmp_path, max_trainings=2) as client:
        names = [client.post("/api/train", json={**LONG, "name": f"t{k}"}).json()["name"] for k in range(2)]
        assert names == ["t0", "t1"]
        assert client.post("/api/train", json=LONG).status_code == 409
        for name in names:
            client.post(f"/api/train/{name}/stop", json={})
            assert wait_for_job(client, name).status == "stopped"


def test_stopping_the_server_stops_trainings_and_keeps_what_they_recorded(tmp_path):
    with make_client(tmp_path) as client:
        name = client.post("/api/train", json=LONG).json()["name"]
        events_of(client, name, until=lambda ev: n_evals(ev) >= 2)
        job = client.app.state.trainings.jobs[name]
    # leaving the block ran the app's shutdown: the worker was stopped and joined
    assert not job.thread.is_alive() and job.status == "stopped"
    history = json.loads((tmp_path / name / "history.json").read_text())
    assert history["status"] == "stopped" and len(history["iterations"]) >= 2
    assert (tmp_path / name / "model.npz").is_file() and (tmp_path / name / "snapshots.npz").is_file()


def test_a_terminal_training_shows_up_live(tmp_path):
    """A run the server did not start (as with `mlplab train` in a terminal) is followed through its file."""
    stop = threading.Event()
    config = TrainConfig(**{k: v for k, v in LONG.items() if k not in ("plots", "name")})
    worker = threading.Thread(target=train, args=(config,),
                              kwargs={"run_dir": tmp_path / "term", "should_stop": stop.is_set})
    worker.start()
    try:
        while not (tmp_path / "term" / "config.json").exists():  # written once the data are loaded
            time.sleep(0.05)
        with make_client(tmp_path) as client:
            events = events_of(client, "term", until=lambda ev: n_evals(ev) >= 3)
            row = client.get("/api/runs").json()["runs"][0]
            assert row["name"] == "term" and row["live"] and row["status"] == "running"
            assert client.get("/api/runs/term").json()["live"]
            assert events[0]["event"] == "start" and events[0]["iters"] == 200_000
            stop.set()
            rest = events_of(client, "term")
    finally:
        stop.set()
        worker.join(60)
    assert rest[-1]["event"] == "end" and rest[-1]["status"] == "stopped"
    assert n_evals(rest) >= 3  # the stream replays the run from its start


def test_a_failed_training_reports_its_error_on_the_stream(tmp_path):
    (tmp_path / "empty-data").mkdir()
    with make_client(tmp_path / "runs", data_dir=str(tmp_path / "empty-data")) as client:
        name = client.post("/api/train", json={**SMALL, "name": "nodata"}).json()["name"]
        job = wait_for_job(client, name)
        events = events_of(client, name)
        assert job.status == "failed" and "train-images" in job.error
        assert events == [{"event": "error", "message": job.error}]
        assert client.get("/api/train").json()["jobs"][0]["error"] == job.error


def test_a_stream_without_an_end_that_stopped_growing_ends_as_stale(tmp_path):
    run = tmp_path / "dead"
    train(TrainConfig(**{k: v for k, v in SMALL.items() if k != "plots"}), run_dir=run)
    lines = (run / "stream.jsonl").read_text().splitlines()
    (run / "stream.jsonl").write_text("\n".join(lines[:-1]) + "\n")  # no end event
    old = time.time() - 3600
    os.utime(run / "stream.jsonl", (old, old))
    with make_client(tmp_path) as client:
        events = events_of(client, "dead", timeout=5)
    assert [e["event"] for e in events][-1] == "stale" and n_evals(events) == 4  # 0, 10, 20 and the final 29


def test_the_follower_starts_at_the_last_run_and_waits_for_whole_lines(tmp_path):
    first = b'{"event": "start", "iters": 1}\n{"event": "end"}\n'
    second = b'{"event": "start", "iters": 2}\n{"event": "eval", "iteration": 0}\n'
    assert last_start_offset(first + second) == len(first) and last_start_offset(b"") == 0
    path = tmp_path / "stream.jsonl"
    path.write_bytes(first + second + b'{"event": "lo')  # a line being written
    follower = StreamFollower(tmp_path)
    assert [e["event"] for e in follower.read()] == ["start", "eval"]
    assert follower.read() == []
    with path.open("ab") as f:
        f.write(b'ss", "iteration": 49, "loss": 2.0}\n')
    assert follower.read() == [{"event": "loss", "iteration": 49, "loss": 2.0}]


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize("change, words", [
    ({"iters": 0}, "iters must be greater than or equal to 1"),
    ({"iters": 200_001}, "iters must be less than or equal to 200000"),
    ({"iters": 2.5}, "iters must be a valid integer"),
    ({"batch_size": 0}, "batch_size must be greater than or equal to 1"),
    ({"batch_size": 10_001}, "batch_size must be less than or equal to 10000"),
    ({"lr": 0}, "lr must be greater than 0"),
    ({"lr": -1}, "lr must be greater than 0"),
    ({"lr": "fast"}, "lr must be a valid number"),
    ({"lr": 1e5}, "lr must be less than or equal to 10000"),
    ({"hidden": []}, "hidden"),
    ({"hidden": [0]}, "hidden.0 must be greater than or equal to 1"),
    ({"hidden": [5000]}, "hidden.0 must be less than or equal to 2048"),
    ({"hidden": [8, 8, 8, 8, 8]}, "hidden"),
    ({"activation": "swish"}, "activation must be 'sigmoid', 'relu' or 'tanh'"),
    ({"optimizer": "lbfgs"}, "optimizer must be"),
    ({"weight_init_std": 0}, "weight_init_std"),
    ({"weight_init_std": "huge"}, "weight_init_std"),
    ({"seed": -1}, "seed must be greater than or equal to 0"),
    ({"dtype": "float16"}, "dtype must be 'float32' or 'float64'"),
    ({"sampling": "random"}, "sampling must be"),
    ({"eval_every": 0}, "eval_every must be greater than or equal to 1"),
    ({"train_size": 0}, "train_size must be greater than or equal to 1"),
    ({"train_size": 60_001}, "train_size must be less than or equal to 60000"),
    ({"test_size": 10_001}, "test_size must be less than or equal to 10000"),
    ({"name": "../evil"}, "name may hold only letters"),
    ({"name": ".hidden"}, "name may hold only letters"),
    ({"name": "a" * 101}, "name may hold only letters"),
    ({"data_dir": "/etc"}, "data_dir is not a setting here"),
    ({"plots": "maybe"}, "plots must be a valid boolean"),
])
def test_every_bad_setting_is_a_422_naming_it(tmp_path, change, words):
    with make_client(tmp_path) as client:
        response = client.post("/api/train", json={**SMALL, **change})
        assert response.status_code == 422, response.text
        assert words in response.json()["error"]
        assert client.get("/api/train").json()["jobs"] == []
    assert list(tmp_path.iterdir()) == []  # no run folder was made


@pytest.mark.parametrize("body, headers, words", [
    ('{"lr": NaN}', {"content-type": "application/json"}, "lr must be a finite number"),
    ("not json", {"content-type": "application/json"}, "must be a JSON object"),
    ('{"iters": 10}', {"content-type": "text/plain"}, "must be a JSON object"),  # a cross-site form post
    ("[1, 2]", {"content-type": "application/json"}, "must be a JSON object"),
])
def test_bodies_that_are_not_json_objects_are_refused(tmp_path, body, headers, words):
    with make_client(tmp_path) as client:
        response = client.post("/api/train", content=body, headers=headers)
        assert response.status_code == 422 and words in response.json()["error"]


def test_a_taken_name_is_a_conflict_and_stopping_an_unknown_run_is_404(tmp_path):
    (tmp_path / "taken").mkdir()
    with make_client(tmp_path) as client:
        response = client.post("/api/train", json={**SMALL, "name": "taken"})
        assert response.status_code == 409 and "already exists" in response.json()["error"]
        response = client.post("/api/train/nobody/stop", json={})
        assert response.status_code == 404 and "Ctrl-C" in response.json()["error"]

