"""The Backprop page in a real headless Chromium: reached from the run's page, stepped through every stage
forward and backward, a cell hovered and its formula read with the numbers put in, checked against the API.

Reuses the server, browser and screenshot fixtures of ``test_app_browser.py`` (same runs folder).
``MLPLAB_SCREENSHOTS=docs/img`` also saves ``app_backprop.png`` there (the README's picture).
"""

from __future__ import annotations

import json
import re

import pytest

from test_app_browser import CHROMIUM, base_url, browser, page, root, shots  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(),
                                                      reason=f"no Chromium at {CHROMIUM}")]

# ∂L/∂W1 of the 784-50-10 network: the two layers' stages, then the SGD step
STAGES = ["x", "a1", "z1", "a2", "y", "L", "∂L/∂a2", "∂L/∂W2", "∂L/∂b2", "∂L/∂z1", "∂L/∂a1", "∂L/∂W1", "∂L/∂b1",
          "W1 after one SGD step"]
NUMBER = r"−?[\d.]+(?:e[−+]?\d+)?"


def received(answer) -> dict:
    """The JSON of the page's own ``/api/explain/…`` request, caught with ``page.expect_response``: the numbers the
    page drew, for exactly the parameters it asked for (a second request would compute them all again)."""
    assert answer.value.ok, answer.value.status
    return answer.value.json()


def explain_url(server: str, query: str) -> object:
    """A predicate for ``page.expect_response``: the explain request of ``query`` (e.g. ``finished?index=0``)."""
    return lambda response: response.url == f"{server}/api/explain/{query}"


def hover(tab, indices, name: str = "main") -> str:
    """Move the mouse onto cell ``indices`` of the main map (or of input map ``name``); the formula shown."""
    tab.locator("#map canvas").first.scroll_into_view_if_needed()
    where = tab.evaluate(f"window.backprop.cellPosition({json.dumps(name)}, {json.dumps(indices)})")
    tab.mouse.move(where["x"], where["y"])
    return tab.inner_text("#hover")


def test_the_run_page_links_to_the_backprop_page(page, base_url):  # noqa: F811
    page.goto(base_url + "/run/finished")
    link = page.locator("#backprop-link")
    link.wait_for(state="visible")
    link.click()
    page.wait_for_url("**/backprop/finished**")
    page.wait_for_selector("#stage-name:not(:empty)", timeout=30_000)
    assert page.inner_text("#stage-name") == "x"


def test_step_through_every_stage_and_hover_a_cell(page, base_url, shots):  # noqa: F811
    with page.expect_response(explain_url(base_url, "finished?index=0"), timeout=60_000) as answer:
        page.goto(base_url + "/backprop/finished")
    data = received(answer)
    page.wait_for_selector("#stage-name:not(:empty)", timeout=30_000)
    seen = []
    for k, name in enumerate(STAGES):
        seen.append(page.inner_text("#stage-name"))
        assert page.inner_text("#step-label") == f"stage {k + 1} of {len(STAGES)}"
        stage = next((s for s in data["forward"] + data["backward"] if s["name"] == name), None)
        if stage is not None:
            assert page.inner_text("#stage-formula") == stage["formula"]
            node = page.locator(".bp-node.current")
            assert node.count() == 1 and int(node.get_attribute("data-node")) == stage["node"]
            if stage["check"] is not None:
                assert "check" in page.inner_text("#stage-check")
        if k < len(STAGES) - 1:
            page.click("#next")
    assert seen == STAGES and page.is_disabled("#next")

    # back to ∂L/∂W1 and read one cell's formula with its numbers: an inked pixel, a chosen hidden unit
    page.click("#prev")
    page.click("#prev")
    assert page.inner_text("#stage-name") == "∂L/∂W1"
    x = data["forward"][0]["value"][0]
    i = max(range(len(x)), key=lambda k: x[k])  # the brightest pixel
    j = 7
    text = hover(page, [i, j])
    match = re.fullmatch(rf"∂L/∂W1\[{i}, {j}\] = x\[{i}\] · ∂L/∂a1\[{j}\] = ({NUMBER}) × ({NUMBER}) = ({NUMBER})", text)
    assert match, text
    grad = data["grads"]["W1"][i][j]
    da1 = next(s for s in data["backward"] if s["name"] == "∂L/∂a1")["value"][0][j]
    as_float = [float(g.replace("−", "-")) for g in match.groups()]
    assert as_float == pytest.approx([x[i], da1, grad], rel=5e-3)
    shots(page, "backprop")

    # the derivative of the activation written out, on ∂L/∂a1
    page.click("#prev")
    assert page.inner_text("#stage-name") == "∂L/∂a1"
    text = hover(page, [0, 3])
    written = r"∂L/∂a1\[3\] = ∂L/∂z1\[3\] · z1\[3\]\(1 − z1\[3\]\)"
    assert re.fullmatch(rf"{written} = {NUMBER} × {NUMBER} = {NUMBER}", text), text

    # keyboard: Home goes back to x, End to the SGD step
    page.locator("body").press("Home")
    assert page.inner_text("#stage-name") == "x"
    page.locator("body").press("End")
    assert page.inner_text("#stage-name") == "W1 after one SGD step"
    assert "loss on it goes from" in page.inner_text("#stage-note")


def test_choose_another_image_and_the_weights_of_an_evaluation(page, base_url):  # noqa: F811
    page.goto(base_url + "/backprop/finished?step=5")
    page.wait_for_selector("#stage-name:not(:empty)", timeout=30_000)
    assert page.inner_text("#stage-name") == "L"
    page.fill("#index", "3")
    page.press("#index", "Enter")
    page.wait_for_function("document.getElementById('summary').textContent.includes('test image #3')", timeout=30_000)
    with page.expect_response(explain_url(base_url, "finished?index=3&at=1"), timeout=60_000) as answer:
        page.select_option("#weights", "at:1")
    page.wait_for_function("document.getElementById('summary').textContent.includes('evaluation 1')", timeout=30_000)
    expected = received(answer)
    assert page.inner_text("#stage-name") == "L"
    assert f"label {expected['label']}" in page.inner_text("#summary")
    assert "--index 3 --at 1" in page.text_content("#cli-line")  # inside the closed help box


def test_a_deeper_relu_network_has_its_own_stages_and_derivative(page, base_url, root):  # noqa: F811
    from mlplab.train import TrainConfig, train

    train(TrainConfig(iters=101, hidden=(30, 20), activation="relu", weight_init_std="he", train_size=1000,
                      test_size=200, eval_every=50, seed=0), run_dir=root / "deep-relu")
    with page.expect_response(explain_url(base_url, "deep-relu?index=1"), timeout=60_000) as answer:
        page.goto(base_url + "/backprop/deep-relu?index=1")
    data = received(answer)
    names = [s["name"] for s in data["forward"] + data["backward"]]
    page.wait_for_selector("#stage-name:not(:empty)", timeout=30_000)
    assert page.inner_text("#step-label") == f"stage 1 of {len(names) + 1}"
    page.locator("body").press("End")
    page.locator("body").press("ArrowLeft")
    page.locator("body").press("ArrowLeft")
    page.locator("body").press("ArrowLeft")
    assert page.inner_text("#stage-name") == "∂L/∂a1" == names[-3]
    assert page.inner_text("#stage-formula") == "∂L/∂a1 = ∂L/∂z1 ⊙ [a1 > 0]"
    a1 = next(s for s in data["forward"] if s["name"] == "a1")["value"][0]
    j = max(range(len(a1)), key=lambda k: a1[k])  # a unit that lets the gradient through
    text = hover(page, [0, j])
    assert re.fullmatch(rf"∂L/∂a1\[{j}\] = ∂L/∂z1\[{j}\] · \[a1\[{j}\] > 0\] = {NUMBER} × 1 = {NUMBER}", text), text
    assert [n.inner_text().split("\n")[0] for n in page.locator(".bp-node").all()] == [*data["graph"], "L"]
