"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): the real
server (uvicorn on a free 127.0.0.1 port), the real pages, clicks and live updates.

Set ``MLPLAB_SCREENSHOTS=docs/img`` to also save the screenshots there (the README's pictures).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from mlplab.app import AppSettings, create_app
from mlplab.train import TrainConfig, train

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"no Chromium at {CHROMIUM}; install Debian's chromium package to run the browser tests"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    config = TrainConfig(iters=401, lr=0.5, train_size=2000, test_size=600, eval_every=100, seed=0)
    train(config, run_dir=root / "finished")
    train(config.replace(lr=0.05, iters=201), run_dir=root / "slow-lr")
    return root


@pytest.fixture(scope="module")
def base_url(root, shared_browser):
    """The app served by uvicorn in a thread, as `mlplab serve` serves it (on the port of the previous browser
    module's server: the same address for plotly.js, which Chromium then has in its cache)."""
    with shared_browser.serve(create_app(AppSettings(runs_dir=root))) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory, shared_browser):
    """The Chromium of the browser test modules (a persistent context: a fresh user-data dir for the session)."""
    return shared_browser.context(lambda chromium: chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=CHROMIUM, args=ARGS, viewport={"width": 1600, "height": 1000}))


@pytest.fixture
def page(browser):
    page = browser.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: page.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page
    assert page.errors == []  # no script error, no failed request, on any page
    page.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folders = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("MLPLAB_SCREENSHOTS"):
        folders.append(Path(os.environ["MLPLAB_SCREENSHOTS"]))

    def save(page, name: str, full_page: bool = True, settle_ms: int = 0) -> None:
        """``settle_ms``: for the README's pictures only, time for the last redraw (a theme's colours, a
        chart's transition) to end; nothing is checked on the picture, so the tests themselves do not wait."""
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
        if len(folders) > 1:
            page.wait_for_timeout(settle_ms)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"app_{name}.png"), full_page=full_page)
    return save


def drawn_points(page, chart: str) -> int:
    """Markers of the first trace as drawn in the SVG (not the data handed to plotly)."""
    return page.evaluate(f"document.querySelectorAll('#{chart} .scatterlayer .trace:first-child .points path').length")


def test_runs_page_lists_the_runs_and_overlays_the_chosen(page, base_url, shots):
    page.goto(base_url + "/")
    row = page.locator("tr[data-name='finished']")
    row.wait_for()
    assert "completed" in row.inner_text() and "401 / 401" in row.inner_text()
    row.locator("input[type=checkbox]").check()
    page.locator("tr[data-name='slow-lr'] input[type=checkbox]").check()
    page.wait_for_function("document.getElementById('overlay-chart').data.length === 4")
    assert sorted(page.evaluate("document.getElementById('overlay-chart').data.map(t => t.name)")) == \
        ["finished", "finished test", "slow-lr", "slow-lr test"]  # train: the run's name, in the legend
    shots(page, "runs")


def test_train_page_shows_the_training_live_and_stops_it(page, base_url, root, shots):
    page.goto(base_url + "/train")
    page.wait_for_selector("#optimizer option", state="attached")
    page.fill("#hidden", "50")
    page.fill("#lr", "0.5")
    page.fill("#iters", "5000")
    page.fill("#seed", "1")
    page.click("details summary")  # more settings
    page.fill("#train_size", "3000")
    page.fill("#test_size", "1000")
    page.fill("#eval_every", "50")
    page.fill("#name", "live-demo")
    page.uncheck("#plots")
    page.click("#start")
    markers = "document.querySelectorAll('#acc-chart .scatterlayer .trace:first-child .points path').length"
    page.wait_for_function(f"{markers} >= 3", timeout=30_000)
    seen = drawn_points(page, "acc-chart")
    page.wait_for_function(f"{markers} >= {seen + 3}", timeout=30_000)  # the chart gains points live
    assert "iteration" in page.inner_text("#progress-text")
    shots(page, "train")
    page.click("#stop")
    page.wait_for_selector("#status .badge.stopped", timeout=30_000)
    assert page.is_enabled("#start") and page.is_disabled("#stop")
    assert "Open it" in page.inner_text("#done-note")
    history_file = root / "live-demo" / "history.json"  # written just after the stream's end event
    for _ in range(200):
        if history_file.exists():
            break
        page.wait_for_timeout(50)
    history = json.loads(history_file.read_text())
    assert history["status"] == "stopped" and history["iterations"][-1] < 4900
    # the last redraw: the chart ends with exactly one marker per recorded evaluation (waited for, then checked)
    evaluations = len(history["iterations"])
    with contextlib.suppress(playwright_api.TimeoutError):
        page.wait_for_function(f"{markers} === {evaluations}", timeout=10_000)
    assert drawn_points(page, "acc-chart") == evaluations


def test_a_bad_setting_is_shown_on_the_page_not_a_stuck_spinner(page, base_url):
    page.goto(base_url + "/train")
    page.wait_for_selector("#optimizer option", state="attached")
    page.fill("#iters", "0")
    page.click("#start")
    page.wait_for_selector("#error:not(.hidden)")
    assert "iters must be greater than or equal to 1" in page.inner_text("#error")
    assert page.is_enabled("#start") and page.inner_text("#start") == "Start training"
    page.errors.clear()  # the 422 itself is logged by the browser as a failed request


def test_the_textbook_preset_fills_the_books_settings(page, base_url):
    from mlplab.data.reference import BOOK_SETTINGS

    page.goto(base_url + "/train")
    page.wait_for_selector("#optimizer option", state="attached")
    page.fill("#iters", "7")
    page.fill("#lr", "0.5")
    page.click("[data-preset=textbook]")
    assert page.input_value("#iters") == str(BOOK_SETTINGS["iters"]) and page.input_value("#train_size") == ""
    assert float(page.input_value("#lr")) == BOOK_SETTINGS["lr"] and page.input_value("#hidden") == "50"


def test_run_page_confusion_cell_replay_and_hidden_unit(page, base_url, shots):
    page.goto(base_url + "/run/finished")
    cell = page.locator("table.confusion td:not(.diag):not(.zero)").first
    cell.wait_for()
    t, p = cell.get_attribute("data-t"), cell.get_attribute("data-p")
    cell.click()
    page.wait_for_function("document.getElementById('cell-img').naturalWidth > 0 && "
                           "!document.getElementById('cell-img').classList.contains('hidden')")
    assert f"True {t}, predicted {p}" in page.inner_text("#cell-note")
    assert page.locator("#insights").inner_text() != ""
    assert page.locator("details.help").count() >= 7  # a formula behind every panel
    page.locator(".unit-hotspot").nth(3).click()
    page.wait_for_function("document.getElementById('unit-img').naturalWidth > 0")
    shots(page, "run", settle_ms=300)
    # the accuracies shown are the saved model's: its evaluation after the last iteration (400)
    assert "(final model, after 401 iterations)" in page.inner_text("#summary")
    assert page.inner_text("#replay-label").startswith("final model (after 401 iterations) · train ")
    # replay: the first evaluation, then the pictures are those of iteration 0
    page.locator("#replay").evaluate("(s) => { s.value = '0'; s.dispatchEvent(new Event('input')); }")
    page.wait_for_function("document.getElementById('confusion-acc').textContent.includes('evaluation 0 ')")
    assert page.inner_text("#replay-label").startswith("evaluation 0 of 0–4 · iteration 0")
    assert page.evaluate("document.getElementById('acc-chart').layout.shapes[0].x0") == 0
    page.click("#theme-toggle")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    shots(page, "run_light", full_page=False, settle_ms=800)
    page.click("#theme-toggle")  # back to dark, for the next pages
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(17, 20, 24)"


def test_landscape_a_new_learning_rate_moves_the_path_and_a_click_moves_the_start(page, base_url, shots):
    page.goto(base_url + "/landscape")
    page.wait_for_selector("#verdicts pre")
    path = "document.getElementById('contour').data[1]"
    before = page.evaluate(f"[{path}.x.at(-1), {path}.y.at(-1)]")
    headline = page.inner_text(".verdict-head")
    assert "NOT converged" in headline
    page.fill(".opt-lr", "0.3")
    page.wait_for_function(f"{path}.x.at(-1) !== {before[0]}")
    after = page.evaluate(f"[{path}.x.at(-1), {path}.y.at(-1)]")
    assert after != before and page.inner_text(".verdict-head") != headline
    assert page.evaluate(f"{path}.name") == "sgd lr=0.3"
    box = page.locator("#contour .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.2 * box["height"])
    page.wait_for_function(f"{path}.x[0] > 0")  # the start moved to the right half
    assert float(page.input_value("#start-x")) > 0
    page.locator("#step").evaluate("(s) => { s.value = '5'; s.dispatchEvent(new Event('input')); }")
    assert page.evaluate(f"{path}.x.length") == 6 and page.inner_text("#step-label") == "step 5 of 30"
    page.click("#start-reset")  # back to the function's own start, (-7, 2)
    page.wait_for_function(f"{path}.x[0] === -7 && {path}.y[0] === 2")
    page.click("#add-optimizer")
    page.wait_for_function("document.getElementById('verdicts').querySelectorAll('pre').length === 2")
    page.locator("#step").evaluate("(s) => { s.value = s.max; s.dispatchEvent(new Event('input')); }")
    shots(page, "landscape", settle_ms=500)


def test_landscape_shows_why_an_expression_is_refused(page, base_url):
    page.goto(base_url + "/landscape")
    page.wait_for_selector("#verdicts pre")
    page.select_option("#function", "expression")
    page.fill("#expression", "__import__('os')")
    page.wait_for_selector("#error:not(.hidden)")
    assert "cannot use" in page.inner_text("#error")
    page.fill("#expression", "x**2 + y**2/10")
    page.wait_for_selector("#error.hidden", state="attached")
    # the refused expression cleared the plot: it is drawn again for this one
    page.wait_for_function("document.getElementById('contour').layout?.title.text.includes('x**2 + y**2/10')")
    page.errors.clear()  # the 400 itself is logged by the browser as a failed request


def test_a_damaged_run_is_shown_as_damaged_and_the_others_still_listed(page, base_url, root):
    import shutil

    shutil.copytree(root / "finished", root / "zz-damaged")
    (root / "zz-damaged" / "history.json").write_text("{}")
    (root / "zz-stream").mkdir()
    shutil.copy(root / "finished" / "config.json", root / "zz-stream" / "config.json")
    (root / "zz-stream" / "stream.jsonl").write_text("null\n")  # once made GET /api/runs a 500
    try:
        page.goto(base_url + "/")
        damaged = page.locator("tr[data-name='zz-damaged']")
        damaged.wait_for()
        assert "damaged" in damaged.inner_text() and "history.json is damaged" in damaged.inner_text()
        assert "completed" in page.locator("tr[data-name='finished']").inner_text()
        assert "incomplete" in page.locator("tr[data-name='zz-stream']").inner_text()
    finally:
        shutil.rmtree(root / "zz-damaged")
        shutil.rmtree(root / "zz-stream")


def test_the_ch6_settings_of_the_train_form_reach_config_json(page, base_url, root):
    page.goto(base_url + "/train")
    page.wait_for_selector("#optimizer option", state="attached")
    page.fill("#hidden", "30,30")
    page.fill("#iters", "20")
    page.fill("#seed", "2")
    page.click("details summary")  # more settings
    page.fill("#train_size", "600")
    page.fill("#test_size", "200")
    page.check("#batchnorm")
    page.fill("#dropout", "0.15")
    page.fill("#weight_decay", "0.1")
    page.fill("#validation", "100")
    page.fill("#name", "ch6-form")
    page.uncheck("#plots")
    page.click("#start")
    config_file = root / "ch6-form" / "config.json"
    page.wait_for_function("document.querySelector('#status .badge.completed') !== null", timeout=60_000)
    config = json.loads(config_file.read_text())
    settings = (config["batchnorm"], config["dropout"], config["weight_decay"], config["validation"])
    assert settings == (True, 0.15, 0.1, 100)
    assert json.loads((root / "ch6-form" / "history.json").read_text())["val_acc"]
    page.click("[data-preset=textbook]")  # the preset switches them off again
    assert not page.is_checked("#batchnorm") and page.input_value("#dropout") == "0"
    assert page.input_value("#validation") == ""
