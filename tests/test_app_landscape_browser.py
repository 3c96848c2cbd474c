"""The landscape page draws what the server sent, and nothing of its own: in headless Chromium, on a
390×844 phone and a 1920×1080 projector, the SVG plotly drew is read back and compared with the answer
of ``/api/landscape/paths`` (the scene the CLI's figures are drawn from)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.colors import to_rgba

import test_app_browser as shared

# the same browser and page as test_app_browser (pytest finds fixtures by name); no runs are needed here
browser, base_url, page = shared.browser, shared.base_url, shared.page

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(shared.CHROMIUM).exists(), reason=f"no Chromium at {shared.CHROMIUM}")]

SIZES = {"phone": (390, 844), "projector": (1920, 1080)}


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


def css_color(hex_color: str) -> str:
    """``#rrggbb[aa]`` as the browser reports a stroke or fill: ``rgb(r, g, b)`` or ``rgba(r, g, b, a)``
    (plotly keeps two decimals of the opacity)."""
    r, g, b, a = to_rgba(hex_color)
    rgb = f"{round(255 * r)}, {round(255 * g)}, {round(255 * b)}"
    return f"rgb({rgb})" if a == 1 else f"rgba({rgb}, {round(a, 2):g})"


@pytest.mark.parametrize("size", SIZES)
def test_the_page_draws_the_paths_and_the_contour_the_server_sent(page, base_url, size):
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    page.goto(base_url + "/landscape")
    page.wait_for_selector("#verdicts pre")
    page.click("#add-optimizer")
    page.wait_for_function("document.querySelectorAll('#verdicts pre').length === 2")
    page.fill(".opt-lr >> nth=0", "1.5")  # sgd leaves the seed's box at its first step
    page.wait_for_function("document.querySelector('#contour .annotation-text')?.textContent.includes('step 1')")
    sent = page.evaluate("mlplab.landscape.result")  # the answer of /api/landscape/paths, as it arrived
    assert [p["label"] for p in sent["paths"]] == ["sgd lr=1.5", "momentum lr=0.95"]

    # each path as an SVG trace: its line, a marker per point sent, the last one where the server put it
    drawn = page.evaluate("""() => {
        const gd = document.getElementById('contour');
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
        const traces = [...gd.querySelectorAll('.scatterlayer .trace')];
        return traces.map((t) => {
            const markers = [...t.querySelectorAll('.points path')];
            const last = markers.at(-1)?.getAttribute('transform').match(/translate\\(([^,]+),([^)]+)\\)/);
            return { lines: t.querySelectorAll('.js-line').length, markers: markers.length,
                     stroke: t.querySelector('.js-line')?.style.stroke,
                     last: last ? [xa.p2d(Number(last[1])), ya.p2d(Number(last[2]))] : null };
        });
    }""")
    for path, trace in zip(sent["paths"], drawn[:2], strict=True):
        assert trace["lines"] == 1 and trace["markers"] == len(path["shown"])
        assert trace["stroke"] == css_color(path["color"])  # the server's colour for this optimizer
        assert trace["last"] == [pytest.approx(v, abs=0.05) for v in path["shown"][-1]]
    assert sent["paths"][0]["shown"][-1][1] == -3.0  # on the frame's bottom edge
    ends = drawn[2]  # the end squares: only momentum's, sgd left the frame
    assert ends["markers"] == 1 and ends["last"] == [pytest.approx(v, abs=0.05) for v in sent["paths"][1]["end"]]

    # the contour bands in the figure's colours, exactly: one fill per band, no colour of plotly's own
    fills = page.evaluate("[...document.querySelectorAll('#contour .contourfill path')].map(e => e.style.fill)")
    bands = [c for _, c in sent["contour"]["colorscale"][1:-1]]
    assert set(fills) == {css_color(c) for c in bands} and len(set(bands)) == len(bands)
    ticks = page.evaluate("[...document.querySelectorAll('#contour .cbaxis text')].map(t => t.textContent)")
    assert ticks == sent["contour"]["ticktext"] == ["0.1", "1"]
    assert page.inner_text("#step-label") == f"step 30 of {sent['frames'][-1]}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling


def test_without_webgl_the_page_says_the_3d_view_needs_it_and_draws_the_rest(browser, base_url, page):
    """Plotly neither throws nor rejects without WebGL (it only logs a warning): the page asks the browser."""
    page.goto(base_url + "/landscape")
    page.wait_for_selector("#verdicts pre")
    assert page.is_hidden("#surface-note")  # this Chromium has WebGL: the 3-D view is drawn, no note
    assert page.evaluate("document.querySelectorAll('#surface canvas').length") > 0

    blind = browser.new_page()
    try:  # the same browser, with every WebGL context refused, as on a machine without it
        blind.add_init_script("""(() => {
            const real = HTMLCanvasElement.prototype.getContext;
            HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
                return /webgl/.test(kind) ? null : real.call(this, kind, ...rest);
            };
        })()""")
        blind.set_viewport_size({"width": 390, "height": 844})
        blind.goto(base_url + "/landscape")
        blind.wait_for_selector("#verdicts pre")
        assert blind.is_visible("#surface-note") and "needs WebGL" in blind.inner_text("#surface-note")
        assert blind.is_hidden("#surface")  # no empty box above the note
        assert blind.evaluate("document.querySelectorAll('#contour .contourfill path').length") > 0  # the rest is drawn
    finally:
        blind.close()
