"""Draw a digit and live pictures on the Run page (issue 17), in headless Chromium with the fixtures of
``test_app_browser`` (same server, same browser): strokes drawn with the pointer on a phone and on a
projector are read by the run's network, and a training run's summary and pictures move with the stream.

``MLPLAB_SCREENSHOTS=docs/img`` saves ``app_draw_phone.png`` and ``app_draw_projector.png`` for the README.
"""

from __future__ import annotations

import json
import math
import os
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import test_app_browser as shared
from mlplab.train import TrainConfig, train

browser, base_url, page = shared.browser, shared.base_url, shared.page
CHROMIUM = shared.CHROMIUM

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")]

SIZES = {"phone": (390, 844), "projector": (1920, 1080)}
#: A short run of the textbook's network (784-50-10, sigmoid, batch 100) that reaches about 90 %.
READER = TrainConfig(iters=600, train_size=5000, test_size=1000, lr=0.5, eval_every=200, seed=0)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    result = train(READER, run_dir=root / "reader")
    assert result.history.test_acc[-1] > 0.85
    return root


def stroke(page, points: list[tuple[float, float]]) -> None:
    """Draw through ``points`` (fractions of the canvas) with the mouse: pointerdown, moves, pointerup."""
    box = page.locator("#draw-canvas").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for x, y in at[1:]:
        page.mouse.move(x, y, steps=3)
    page.mouse.up()


def read_digit(page) -> int:
    """The digit the page shows once every stroke has been answered, the network drawing included."""
    page.wait_for_function("document.getElementById('draw-canvas').dataset.settled === 'true'", timeout=30_000)
    page.wait_for_function("document.getElementById('draw-network').complete")
    return int(page.evaluate("document.getElementById('draw-canvas').dataset.predicted"))


def clear(page) -> None:
    page.click("#draw-clear")
    page.evaluate("delete document.getElementById('draw-canvas').dataset.settled")


@pytest.mark.parametrize("size", SIZES)
def test_a_drawn_one_and_zero_are_read_by_the_trained_network(page, base_url, panel_shots, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base_url + "/run/reader")
    page.wait_for_selector("table.confusion td", state="attached")
    page.locator("#draw-canvas").scroll_into_view_if_needed()
    box = page.locator("#draw-canvas").bounding_box()
    assert box["width"] >= 250 and box["x"] >= 0 and box["x"] + box["width"] <= width  # usable with a thumb
    assert page.evaluate("getComputedStyle(document.getElementById('draw-canvas')).touchAction") == "none"

    stroke(page, [(0.5, 0.15 + 0.07 * k) for k in range(11)])  # a "1": a vertical line
    assert read_digit(page) == 1
    # the 28×28 image the network saw: the stroke, centred, 20 pixels tall
    seen = page.evaluate("""() => {
        const d = document.getElementById('draw-seen').getContext('2d').getImageData(0, 0, 28, 28).data;
        const rows = [];
        for (let r = 0; r < 28; r++) { let s = 0; for (let c = 0; c < 28; c++) s += d[4 * (28 * r + c)]; rows.push(s); }
        return rows; }""")
    inked = [r for r, total in enumerate(seen) if total > 0]
    assert inked[0] in (4, 5) and inked[-1] in (23, 24)
    probabilities = page.evaluate("document.getElementById('draw-probs').data[0].y")
    assert len(probabilities) == 10 and abs(sum(probabilities) - 1) < 1e-6
    assert len(page.evaluate("document.getElementById('draw-hidden').data[0].y")) == 50
    assert "reads a 1" in page.inner_text("#draw-note")

    clear(page)
    stroke(page, [(0.5 + 0.25 * math.sin(2 * math.pi * k / 24), 0.5 - 0.35 * math.cos(2 * math.pi * k / 24))
                  for k in range(26)])  # a "0": an ellipse
    assert read_digit(page) == 0
    # the answer's two bar charts drawn, one SVG bar per number, before the page's width is measured
    page.wait_for_function("""['draw-probs', 'draw-hidden'].every((id) => {
        const gd = document.getElementById(id);
        const values = (gd.data || []).reduce((n, trace) => n + trace.y.length, 0);
        return values > 0 && gd.querySelectorAll('.bars .point').length === values; })""")
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    page.locator("#draw-panel").scroll_into_view_if_needed()
    page.evaluate("document.getElementById('draw-panel').scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -70)")  # below the sticky header
    panel_shots(page, f"draw_{size}")
    if size == "projector":  # "Explain it": backprop, step by step, for the drawing
        page.click("#draw-explain")
        page.wait_for_url("**/backprop/reader?drawing=1")
        page.wait_for_function("document.getElementById('summary')?.textContent.includes('your drawing (as a 0): ')",
                               timeout=60_000)  # the answer: "… · your drawing (as a 0): label 0, prediction 0, …"
        assert "largest relative error" in page.inner_text("#summary")
        page.fill("#drawn-label", "6")
        page.dispatch_event("#drawn-label", "change")
        page.wait_for_function("document.getElementById('summary').textContent.includes('your drawing (as a 6): ')",
                               timeout=60_000)


@pytest.fixture(scope="module")
def panel_shots(tmp_path_factory):
    """Like ``shots``, but the screen as scrolled (the draw panel), not the page's top."""
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("MLPLAB_SCREENSHOTS"):
        folders.append(Path(os.environ["MLPLAB_SCREENSHOTS"]))

    def save(page, name: str) -> None:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"app_{name}.png"))
    return save


def test_drawing_on_an_empty_canvas_is_a_clear_400(base_url):
    body = json.dumps({"width": 280, "height": 280, "ink": "AAAA" * (280 * 280 // 3) + "AA=="}).encode()
    request = urllib.request.Request(base_url + "/api/runs/reader/predict", data=body,
                                     headers={"Content-Type": "application/json", "Host": "127.0.0.1"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 400
    assert json.loads(caught.value.read())["error"] == "the canvas is empty: draw a digit first."


def test_a_training_runs_summary_and_pictures_change_between_two_evaluations(page, base_url, panel_shots):
    settings = {"iters": 40_000, "batch_size": 100, "lr": 0.5, "hidden": [50], "train_size": 5000,
                "test_size": 1000, "eval_every": 400, "seed": 3, "name": "live-pictures", "plots": False}
    request = urllib.request.Request(base_url + "/api/train", data=json.dumps(settings).encode(),
                                     headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(request, timeout=30).status == 202
    try:
        for _ in range(300):  # the run folder exists once the data is loaded
            try:
                urllib.request.urlopen(base_url + "/api/runs/live-pictures", timeout=30)
                break
            except urllib.error.HTTPError:
                threading.Event().wait(0.1)
        page.goto(base_url + "/run/live-pictures")
        page.wait_for_selector("#finished.is-live", state="attached", timeout=30_000)
        assert page.is_hidden("#replay")  # only what the latest evaluation can draw

        def seen() -> tuple[int, str, str, float]:
            # complete: the picture of the current src has loaded (until then the previous one is still shown)
            page.wait_for_function("(i => i.complete && i.naturalWidth > 0)(document.getElementById('units-img'))",
                                   timeout=30_000)
            done = int(page.inner_text("#summary").split(" of 40000 iterations")[0].split(" · ")[-1])
            pixels = page.evaluate("""() => { const img = document.getElementById('units-img');
                const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;
                const g = c.getContext('2d'); g.drawImage(img, 0, 0);
                return g.getImageData(0, 0, c.width, c.height).data.reduce((a, v, i) => a + v * (i % 7 + 1), 0); }""")
            return (done, page.evaluate("document.getElementById('units-img').src"),
                    page.evaluate("document.getElementById('weights-chart').layout.title.text"), pixels)

        first = seen()
        page.wait_for_function(f"document.getElementById('weights-chart').layout.title.text !== {json.dumps(first[2])}"
                               f" && document.getElementById('units-img').src !== {json.dumps(first[1])}",
                               timeout=60_000)
        second = seen()
        assert second[0] > first[0]  # the summary counts the stream's iterations
        assert second[3] != first[3]  # a new hidden-units picture: the weights of a later evaluation
        assert "training" in second[2]
        assert "iteration" in page.inner_text("#live-note")
        page.evaluate("document.getElementById('units-img').scrollIntoView({block: 'center'})")
        panel_shots(page, "run_live")
    finally:
        stop = urllib.request.Request(base_url + "/api/train/live-pictures/stop", data=b"", method="POST")
        urllib.request.urlopen(stop, timeout=30)
    page.wait_for_selector("#status .badge.stopped", timeout=60_000)
    page.wait_for_selector("#finished:not(.is-live) #replay", timeout=60_000)
    # the replay starts at the final model, with every evaluation recorded in snapshots.npz
    assert page.evaluate("(() => { const r = document.getElementById('replay'); return r.value === r.max && "
                         "Number(r.max) > 1; })()")
