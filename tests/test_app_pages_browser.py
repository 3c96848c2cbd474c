"""Every page on a 390×844 phone and a 1920×1080 projector, and the classroom features of the pages
(issue 17), in headless Chromium with the fixtures of ``test_app_browser`` (same server, same browser).

``MLPLAB_SCREENSHOTS=docs/img`` saves the pictures for the README: ``app_<page>_phone.png`` and
``app_<page>_projector.png``, each the screen's first view (390×844 or 1920×1080).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import test_app_browser as shared
from mlplab.cli import main
from mlplab.train import TrainConfig, train

# the same server, browser, page and screenshots as test_app_browser (pytest finds fixtures by name)
browser, base_url, page, shots = shared.browser, shared.base_url, shared.page, shared.shots
CHROMIUM = shared.CHROMIUM

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")]

SIZES = {"phone": (390, 844), "projector": (1920, 1080)}
#: route, what appears once the page has drawn, and the screenshot's name
PAGES = [("/", "tr[data-name='finished']", "runs"), ("/run/finished", "table.confusion td", "run"),
         ("/train", "#optimizer option", "train"), ("/landscape", "#verdicts pre", "landscape")]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Two finished runs, one to delete, and a sweep folder made by `mlplab sweep`."""
    root = tmp_path_factory.mktemp("runs")
    config = TrainConfig(iters=401, lr=0.5, train_size=2000, test_size=600, eval_every=100, seed=0)
    train(config, run_dir=root / "finished")
    train(config.replace(lr=0.05, iters=201), run_dir=root / "slow-lr")
    train(config.replace(iters=21, eval_every=10), run_dir=root / "to-delete")
    result = CliRunner().invoke(main, ["sweep", "--lr", "0.1,0.5", "--hidden", "10,20", "--iters", "101",
                                       "--train-size", "1000", "--test-size", "300", "--eval-every", "50",
                                       "--workers", "1", "--quiet", "--out", str(root / "grid")])
    assert result.exit_code == 0, result.output
    return root


def fits(page) -> dict:
    """The page's width against the window's, and where the header's nav and theme button end."""
    return page.evaluate("""() => {
        const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
                               return [r.left, r.right, r.top, r.bottom]; };
        return { scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
                 nav: box('header.top nav'), theme: box('#theme-toggle'),
                 font: parseFloat(getComputedStyle(document.documentElement).fontSize) };
    }""")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("route", "ready", "name"), PAGES)
def test_every_page_fits_the_screen_without_sideways_scrolling(page, base_url, shots, route, ready, name, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base_url + route)
    page.wait_for_selector(ready, state="attached")
    if name == "runs":  # two runs overlaid, as a teacher would show them
        for run in ("finished", "slow-lr"):
            page.locator(f"tr[data-name='{run}'] input[type=checkbox]").check()
        page.wait_for_function("document.getElementById('overlay-loss').data?.length === 4")
    if name == "train":  # every setting in view: the optimizer's own, weight init, dtype, sampling
        page.select_option("#optimizer", "adam")
        page.click("details summary")
    if name == "landscape":  # three optimizers, each with the lr proposed for this function
        page.click("#add-optimizer")
        page.click("#add-optimizer")
        page.wait_for_function("document.querySelectorAll('#verdicts pre').length === 3")
    # every picture shown has arrived (the run page fetches its PNGs after the page has loaded)
    page.wait_for_function("[...document.images].every(i => i.classList.contains('hidden') || i.naturalWidth > 0)",
                           timeout=60_000)
    # every chart drawn and none with a responsive resize pending (plotly keeps _resolveResize until it ends)
    page.wait_for_function("[...document.querySelectorAll('.js-plotly-plot')]"
                           ".every(gd => gd._fullLayout && !gd._resolveResize)")
    seen = fits(page)
    assert seen["scroll"] <= seen["inner"], f"{route} is {seen['scroll']} px wide in a {width} px window"
    for part in ("nav", "theme"):
        left, right, top, bottom = seen[part]
        assert 0 <= left and right <= width and 0 <= top and bottom <= height, (part, seen[part])
    if size == "projector":
        assert seen["font"] >= 20  # readable from the back of a classroom
    for chart in page.locator(".js-plotly-plot").all():  # the mode bar never sits on a title
        title, bar = chart.locator(".gtitle"), chart.locator(".modebar")
        if title.count() and bar.count() and (title.first.text_content() or "").strip():
            t, b = title.first.bounding_box(), bar.first.bounding_box()
            if t and b:
                assert t["x"] + t["width"] <= b["x"] or t["y"] >= b["y"] + b["height"], (route, t, b)
    shots(page, f"{name}_{size}", full_page=False)  # what the phone or the projector shows


def test_a_setting_chosen_in_the_train_form_reaches_config_json(page, base_url, root):
    page.goto(base_url + "/train")
    page.wait_for_selector("#optimizer option", state="attached")
    page.fill("#iters", "40")
    page.fill("#seed", "7")
    page.select_option("#optimizer", "momentum")
    page.fill("#opt-momentum", "0.5")
    page.click("details summary")  # more settings
    page.select_option("#weight_init", "he")
    assert page.is_hidden("#weight_init_std")  # a name needs no number
    page.select_option("#dtype", "float64")
    page.select_option("#sampling", "shuffle")
    page.fill("#train_size", "500")
    page.fill("#test_size", "200")
    page.fill("#eval_every", "20")
    page.fill("#name", "form-settings")
    page.uncheck("#plots")
    page.click("#start")
    page.wait_for_selector("#done-note:not(.hidden)", timeout=60_000)
    config = json.loads((root / "form-settings" / "config.json").read_text())
    assert {k: config[k] for k in ("optimizer", "optimizer_options", "weight_init_std", "dtype", "sampling", "iters",
                                   "seed", "train_size", "test_size", "eval_every")} == {
        "optimizer": "momentum", "optimizer_options": {"momentum": 0.5}, "weight_init_std": "he",
        "dtype": "float64", "sampling": "shuffle", "iters": 40, "seed": 7, "train_size": 500, "test_size": 200,
        "eval_every": 20}


LR_CELLS = "#runs-body tr[data-name] td:nth-child(6)"


def names_in_table(page) -> list[str]:
    return page.eval_on_selector_all("#runs-body tr[data-name]", "rows => rows.map(r => r.dataset.name)")


def test_runs_sort_filter_overlay_delete_and_sweeps(page, base_url, root):
    page.goto(base_url + "/")
    page.wait_for_selector("tr[data-name='finished']")
    page.click("button.sort[data-key='lr']")
    lrs = page.eval_on_selector_all(LR_CELLS, "c => c.map(x => Number(x.textContent))")
    assert lrs == sorted(lrs) and len(set(lrs)) > 1
    page.click("button.sort[data-key='lr']")  # again: descending
    assert page.get_attribute("th[aria-sort='descending'] button", "data-key") == "lr"
    lrs = page.eval_on_selector_all(LR_CELLS, "c => c.map(x => Number(x.textContent))")
    assert lrs == sorted(lrs, reverse=True)
    page.fill("#filter", "grid/")
    assert names_in_table(page) and all(n.startswith("grid/") for n in names_in_table(page))
    assert page.locator("#runs-body button.delete").count() == 0  # a sweep's runs are not deleted here
    page.fill("#filter", "")
    for name in ("finished", "slow-lr"):
        page.locator(f"tr[data-name='{name}'] input[type=checkbox]").check()
    page.wait_for_function("document.getElementById('overlay-loss').data && "
                           "document.getElementById('overlay-loss').data.length === 4")
    assert page.evaluate("document.getElementById('overlay-chart').data.length") == 4
    # the sweep folder with the figures `mlplab sweep` drew
    page.wait_for_selector(".sweep[data-sweep='grid'] img")
    page.wait_for_function("[...document.querySelectorAll('.sweep img')].every(i => i.complete && i.naturalWidth > 0)")
    assert page.locator(".sweep img").count() >= 3
    # delete: "cancel" keeps the run, "OK" removes its folder
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("tr[data-name='to-delete'] button.delete")
    page.wait_for_timeout(300)
    assert (root / "to-delete").is_dir()
    messages = []
    page.once("dialog", lambda dialog: (messages.append(dialog.message), dialog.accept()))
    page.click("tr[data-name='to-delete'] button.delete")
    page.wait_for_selector("tr[data-name='to-delete']", state="detached")
    assert not (root / "to-delete").exists() and "to-delete" in messages[0]


def test_landscape_proposes_an_lr_per_optimizer_plays_and_clears_on_a_bad_expression(page, base_url):
    page.goto(base_url + "/landscape")
    page.wait_for_selector("#verdicts pre")
    page.click("#add-optimizer")  # momentum
    page.click("#add-optimizer")  # adam
    page.select_option("#function", "rosenbrock")
    page.wait_for_function("document.getElementById('contour').layout?.title.text.includes('rosenbrock')")
    page.wait_for_function("document.querySelectorAll('#verdicts pre').length === 3")
    lrs = page.eval_on_selector_all(".opt-lr", "inputs => inputs.map(i => Number(i.value))")
    names = page.eval_on_selector_all(".opt-name", "s => s.map(x => x.value)")
    assert names == ["sgd", "momentum", "adam"] and len(set(lrs)) == 3 and lrs[2] > 100 * lrs[0]
    adam = "document.getElementById('contour').data[3]"
    start, end = page.evaluate(f"[[{adam}.x[0], {adam}.y[0]], [{adam}.x.at(-1), {adam}.y.at(-1)]]")
    # Adam moves on Rosenbrock (with the old lr 0.001 it went 0.03 in 30 steps)
    assert abs(end[0] - start[0]) + abs(end[1] - start[1]) > 0.2
    page.fill("#steps", "60")
    page.wait_for_function("document.getElementById('step').max === '60'")
    # Play lasts 4 s of the page's clock whatever the number of steps, and skips the frames a slow computer
    # cannot draw in time. The test holds this page's clock (performance.now() and the frames' times) and moves
    # it itself: three frames are drawn, at known steps, instead of 4 s of redrawing the 3-D view at full frame
    # rate (5 s of CPU). Playwright's own clock would do it for the browser context, which later modules use too.
    page.evaluate("""() => {
        const now = performance.now.bind(performance), frame = window.requestAnimationFrame.bind(window);
        let t = now();
        performance.now = () => t;
        window.requestAnimationFrame = (callback) => frame(() => callback(t));
        window.moveClock = (ms) => { t += ms; };
    }""")
    step = "Number(document.getElementById('step').value)"
    page.click("#play")
    page.wait_for_function(f"{step} === 0")  # it restarted from 0
    page.evaluate("moveClock(1000)")
    page.wait_for_function(f"{step} === 15")  # a quarter of the 4 s: step 15 of 60
    assert "Pause" in page.inner_text("#play")
    page.evaluate("moveClock(3000)")
    page.wait_for_function("document.getElementById('play').textContent.includes('Play')", timeout=15_000)
    assert page.input_value("#step") == "60" and page.inner_text("#step-label") == "step 60 of 60"
    page.select_option("#function", "expression")
    page.fill("#expression", "x**2 + (")
    page.wait_for_selector("#error:not(.hidden)")
    page.wait_for_function("!document.querySelector('#contour .main-svg')")  # the old picture is gone
    assert page.inner_text("#verdicts") == ""
    page.errors.clear()  # the 400 itself is logged by the browser as a failed request


@pytest.mark.parametrize("size", SIZES)
def test_the_report_fits_the_screen_its_wide_backprop_table_scrolls_by_itself(page, root, size):
    from mlplab.viz.report import write_report

    width, height = SIZES[size]
    report = write_report(root / "finished", path=root / f"report-{size}.html")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(report.as_uri())
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling of the page
    table = page.evaluate("""() => { const t = document.querySelector('#backprop table');
        return { scroll: t.scrollWidth, client: t.clientWidth }; }""")
    assert table["client"] <= width and (size == "projector" or table["scroll"] > table["client"])
