"""The Run page's "Try the fix": POST /api/runs/RUN/verify reruns the run's settings and the prescriptions
from the run's seed and answers the measured before → after, like ``mlplab diagnose RUN --verify``."""

from __future__ import annotations

import base64
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette asks for httpx2, which is not needed here
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mlplab.app import AppSettings, api_runs, create_app
from mlplab.train import TrainConfig, train

PNG = b"\x89PNG\r\n\x1a\n"
LR_300 = TrainConfig(lr=300.0, iters=200, eval_every=50, train_size=1000, test_size=200, seed=0)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    train(LR_300, run_dir=root / "lr300")
    with TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",)))) as c:
        yield c


def test_the_run_page_gets_prescriptions_as_settings(client):
    detail = client.get("/api/runs/lr300").json()
    (high,) = [i for i in detail["insights"] if i["rule"] == "lr-too-high"]
    first = high["prescriptions"][0]
    assert set(first["settings"]) == {"lr"} and first["settings"]["lr"] < 2
    assert first["options"] == f"--lr {first['settings']['lr']:g}" and "λ_max" in first["why"]


def test_try_the_fix_answers_the_measured_before_and_after_with_the_figure(client):
    response = client.post("/api/runs/lr300/verify", params={"rule": "lr-too-high"})
    assert response.status_code == 200, response.text
    v = response.json()
    assert v["fix"] is not None and v["fix"]["settings"]["lr"] < 2
    trial = v["tried"][0]["trial"]
    assert trial["test_acc"] > 0.6 > 0.2 > v["original"]["test_acc"]  # measured, not asserted by the rule
    assert "is a fix: test accuracy" in v["lines"][0] and "--lr 300 → --lr" in v["lines"][0]
    assert base64.b64decode(v["png"].split(",", 1)[1]).startswith(PNG)


def test_try_the_fix_refuses_unknown_findings_and_a_second_verification(client):
    response = client.post("/api/runs/lr300/verify", params={"rule": "overfitting"})
    assert response.status_code == 404 and "no finding 'overfitting'" in response.json()["error"]
    response = client.post("/api/runs/lr300/verify", params={"rule": "lr-too-high", "candidate": 2, "theme": "nope"})
    assert response.status_code in (400, 422)
    with api_runs._VERIFY_LOCK:  # a verification is running
        response = client.post("/api/runs/lr300/verify", params={"rule": "lr-too-high"})
    assert response.status_code == 409 and response.json()["error"].startswith("busy:")


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")
def test_try_the_fix_button_in_a_real_browser(client, tmp_path, serve_in_thread):
    """The Run page's diagnosis box: the options are buttons, and "Try the fix" shows the measured lines and
    the figure (the real server in a thread, a real headless Chromium)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    root = Path(client.app.state.runs.root)
    errors: list[str] = []
    with serve_in_thread(create_app(AppSettings(runs_dir=root))) as base_url:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base_url}/run/lr300")
            option = page.locator('button.option[data-verify="lr-too-high"]').first
            option.wait_for()
            assert option.inner_text().startswith("--lr ")
            page.locator('button.primary[data-verify="lr-too-high"]').click()
            result = page.locator('.verify-result[data-rule="lr-too-high"]')
            result.locator("img.verify-figure").wait_for(timeout=120_000)
            assert "is a fix: test accuracy" in result.inner_text()
            page.wait_for_function("document.querySelector('img.verify-figure').naturalWidth > 0")
            result.screenshot(path=str(tmp_path / "try_the_fix.png"))
            browser.close()
    assert errors == []
