"""``POST /api/runs/NAME/predict`` and ``GET …/weights``: a drawing through the run's network equals the
network's own forward pass on the prepared image, and every bad drawing gets a 4xx with one sentence."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import numpy as np
import pytest

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mlplab.app import AppSettings, create_app
from mlplab.app.schemas import MAX_DRAWING_BYTES
from mlplab.data.handwriting import mnist_like
from mlplab.train import TrainConfig, load_run, load_snapshots, train

TINY = TrainConfig(iters=61, batch_size=50, lr=0.5, hidden=(16,), train_size=500, test_size=200, eval_every=20,
                   seed=0)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    train(TINY, run_dir=root / "tiny")
    return root


@pytest.fixture(scope="module")
def client(root):
    with TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",)))) as c:
        yield c


def a_one(size: int = 280) -> np.ndarray:
    ink = np.zeros((size, size), dtype=np.uint8)
    ink[size // 7 : size * 6 // 7, size // 2 - 10 : size // 2 + 10] = 255
    return ink


def body(ink: np.ndarray, **extra) -> dict:
    return {"width": ink.shape[1], "height": ink.shape[0], "ink": base64.b64encode(ink.tobytes()).decode(), **extra}


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message.endswith((".", ")")) and len(message) > 20 and "\n" not in message
    return message


def forward(params: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """784-H-10 sigmoid/softmax written out with NumPy, independently of mlplab.nn."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    h = 1 / (1 + np.exp(-(x @ W1 + b1)))  # (784,) @ (784, H) -> (H,)
    a = h @ W2 + b2  # (H,) @ (H, 10) -> (10,)
    y = np.exp(a - a.max())
    return h, y / y.sum()


def test_a_drawing_is_the_networks_forward_pass_on_the_mnist_like_image(client, root):
    answer = client.post("/api/runs/tiny/predict", json=body(a_one())).json()
    image = mnist_like(a_one() / 255.0)
    assert np.allclose(answer["image"], image, atol=1e-4)
    x = np.asarray(answer["image"], dtype=np.float32).astype(np.float64).reshape(-1)
    h, y = forward(load_run(root / "tiny").network.params, np.asarray(image, np.float32).astype(np.float64).ravel())
    assert np.allclose(answer["probabilities"], y, atol=1e-5) and np.allclose(answer["hidden"][0], h, atol=1e-5)
    assert answer["predicted"] == int(np.argmax(y)) and answer["eval"] is None and x.size == 784
    assert answer["png"].startswith("data:image/png;base64,")
    assert base64.b64decode(answer["png"].split(",")[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_at_reads_the_drawing_with_the_weights_of_that_evaluation(client, root):
    answer = client.post("/api/runs/tiny/predict?at=0", json=body(a_one(), architecture=False)).json()
    snapshots = load_snapshots(root / "tiny")
    _, y = forward({k: snapshots[k][0] for k in ("W1", "b1", "W2", "b2")},
                   np.asarray(mnist_like(a_one() / 255.0), np.float32).astype(np.float64).ravel())
    assert np.allclose(answer["probabilities"], y, atol=1e-4)
    assert answer["eval"] == 0 and answer["iteration"] == 0 and "png" not in answer


@pytest.mark.parametrize(("change", "status", "words"), [
    ({"ink": base64.b64encode(bytes(280 * 280)).decode()}, 400, "the canvas is empty: draw a digit first."),
    ({"width": 100}, 422, "ink must hold width × height = 28000 bytes (base64), not 78400"),
    ({"width": "280"}, 422, "width must be a valid integer"),
    ({"width": 4}, 422, "width must be greater than or equal to 8"),
    ({"height": 5000}, 422, "height must be less than or equal to 512"),
    ({"ink": "not base64!"}, 422, "ink must be base64 text"),
    ({"ink": "AAA"}, 422, "ink must hold width × height"),
    ({"architecture": 1}, 422, "architecture must be a valid boolean"),
    ({"pixels": []}, 422, "pixels is not a setting here"),
])
def test_bad_drawings_are_refused_with_one_sentence(client, change, status, words):
    assert words in error_of(client.post("/api/runs/tiny/predict", json={**body(a_one()), **change}), status)


def test_huge_bodies_other_content_types_and_unknown_runs_are_refused(client):
    huge = client.post("/api/runs/tiny/predict", content=b"x" * (MAX_DRAWING_BYTES + 1),
                       headers={"Content-Type": "application/json"})
    assert "larger than" in error_of(huge, 413)
    assert "as JSON" in error_of(client.post("/api/runs/tiny/predict", data={"width": "280"}), 415)
    assert "there is no run" in error_of(client.post("/api/runs/nope/predict", json=body(a_one())), 404)
    assert "at_eval must be" in error_of(client.post("/api/runs/tiny/predict?at=99", json=body(a_one())), 400)


def test_explain_a_drawing_is_backprop_on_the_same_image_with_the_learners_label(client, root):
    answer = client.post("/api/explain/tiny/drawing?label=7", json=body(a_one()))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    _, y = forward(load_run(root / "tiny").network.params, mnist_like(a_one() / 255.0).ravel())
    assert data["index"] is None and data["label"] == 7 and data["prediction"] == int(np.argmax(y))
    assert data["loss"] == pytest.approx(-np.log(y[7]), rel=1e-4)  # cross-entropy against the label given
    assert max(data["checks"].values()) < 1e-6  # every stage checked by central differences, as for test images
    assert "label must be the digit you drew" in error_of(
        client.post("/api/explain/tiny/drawing?label=10", json=body(a_one())), 400)
    assert "the canvas is empty" in error_of(
        client.post("/api/explain/tiny/drawing?label=1", json=body(np.zeros((64, 64), np.uint8))), 400)


def test_the_weight_histograms_are_those_of_the_saved_weights(client, root):
    data = client.get("/api/runs/tiny/weights").json()
    params = load_run(root / "tiny").network.params
    edges = np.asarray(data["edges"])
    assert [layer["name"] for layer in data["layers"]] == ["W1", "W2"]
    for layer in data["layers"]:
        W = np.asarray(params[layer["name"]], dtype=np.float64)
        counts, _ = np.histogram(W, bins=edges)
        assert np.allclose(np.asarray(layer["density"]) * np.diff(edges) * W.size, counts)
        assert layer["std"] == pytest.approx(W.std(), rel=1e-6)
    assert edges[-1] == pytest.approx(max(np.abs(params["W1"]).max(), np.abs(params["W2"]).max()))
    first = client.get("/api/runs/tiny/weights?at=0").json()
    assert first["iteration"] == 0 and first["layers"][0]["std"] < data["layers"][0]["std"]  # the weights spread


def test_live_pictures_come_from_the_latest_evaluation_of_a_training_this_server_runs(root):
    """A run started here: while it trains, the pictures without ``at`` are those of its latest evaluation."""
    from mlplab.train import LatestEvaluation

    with TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",)))) as c:
        started = c.post("/api/train", json={"iters": 200_000, "batch_size": 50, "lr": 0.5, "hidden": [16],
                                             "train_size": 500, "test_size": 200, "eval_every": 50, "seed": 0,
                                             "name": "running", "plots": False})
        assert started.status_code == 202
        job = c.app.state.trainings.jobs["running"]
        try:
            for _ in range(600):
                if job.latest.latest is not None and job.latest.latest[1].n_evaluations >= 2:
                    break
                threading_wait(0.05)
            detail = c.get("/api/runs/running").json()
            assert detail["live"] and detail["live_pictures"] and not detail["complete"]
            weights = c.get("/api/runs/running/weights").json()
            assert weights["live"] and weights["eval"] is None and weights["iteration"] % 50 == 0
            assert c.get("/api/runs/running/figure/hidden_units.png").content[:4] == b"\x89PNG"
            network = c.get("/api/runs/running/network?digit=3").json()
            assert network["live"] and network["n_test"] == 200
            assert c.post("/api/runs/running/predict", json=body(a_one(), architecture=False)).json()["live"]
        finally:
            c.post("/api/train/running/stop")
            job.thread.join(30)
    assert isinstance(job.latest, LatestEvaluation)
    # after the run, the final pictures are the run folder's: no longer live
    with TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",)))) as c:
        assert c.get("/api/runs/running/weights").json()["live"] is False


def threading_wait(seconds: float) -> None:
    import threading

    threading.Event().wait(seconds)


def stroke_image(points: list[tuple[float, float]], size: int = 280, pen: float = 22.0) -> np.ndarray:
    """A pen stroke through ``points`` (fractions of the canvas) as the canvas draws it: round caps, ``pen`` wide."""
    yy, xx = np.mgrid[:size, :size] + 0.5
    ink = np.zeros((size, size), dtype=bool)
    pts = [(fx * size, fy * size) for fx, fy in points]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((xx - x0) * dx + (yy - y0) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
        ink |= np.hypot(xx - x0 - t * dx, yy - y0 - t * dy) <= pen / 2
    return (ink * 255).astype(np.uint8)


@pytest.mark.slow  # the textbook's run: 10 000 iterations on all of MNIST (a minute or two on a busy laptop)
def test_the_textbook_run_reads_a_drawn_one_and_zero(tmp_path):
    import math

    from mlplab.data.reference import BOOK_SETTINGS

    config = TrainConfig(**{k: v for k, v in BOOK_SETTINGS.items() if k != "data_dir"}, seed=0)
    result = train(config, run_dir=tmp_path / "textbook")
    assert result.history.test_acc[-1] > 0.93
    one = stroke_image([(0.5, 0.15 + 0.07 * k) for k in range(11)])
    zero = stroke_image([(0.5 + 0.25 * math.sin(2 * math.pi * k / 24), 0.5 - 0.35 * math.cos(2 * math.pi * k / 24))
                         for k in range(25)])
    with TestClient(create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=("testserver",)))) as c:
        for ink, digit in ((one, 1), (zero, 0)):
            answer = c.post("/api/runs/textbook/predict", json=body(ink, architecture=False)).json()
            assert answer["predicted"] == digit, answer["probabilities"]
