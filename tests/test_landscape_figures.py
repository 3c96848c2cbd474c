"""The landscape figures draw exactly the computed numbers; the GIF has a frame per step; the HTML is
self-contained (plotly.js inlined, no script from the network)."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
from matplotlib.colors import to_hex
from PIL import Image

from mlplab.landscape import FUNCTIONS, descend, judge
from mlplab.landscape.compare import PRESETS, compare_optimizers
from mlplab.landscape.sgd_study import run_sgd_study
from mlplab.viz.landscape.animation import animate_paths
from mlplab.viz.landscape.compare import plot_compare_grid, plot_compare_overlay
from mlplab.viz.landscape.interactive import landscape_figure, landscape_html
from mlplab.viz.landscape.plots import plot_contour, plot_convergence, plot_surface
from mlplab.viz.landscape.scene import log_levels, plot_box
from mlplab.viz.landscape.sgd import plot_sgd_study


@pytest.fixture(scope="module")
def seed_path():
    return descend(FUNCTIONS["seed"])


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_contour_arrows_are_the_steps_and_levels_are_log_spaced(seed_path, theme):
    drawn = plot_contour(seed_path.function, [seed_path], theme=theme)
    arrows = drawn["paths"][0]
    np.testing.assert_array_equal(arrows.get_offsets(), seed_path.points[:-1])
    np.testing.assert_allclose(np.column_stack([arrows.U, arrows.V]), np.diff(seed_path.points, axis=0))
    levels = drawn["contour"].levels
    ratios = levels[1:] / levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # geometric: log-spaced
    assert drawn["colorbar"] is not None and drawn["minima"].get_xydata().tolist() == [[0.0, 0.0]]
    assert "after 30 steps" in drawn["end_label"].get_text()
    drawn["figure"].clf()


def test_the_figures_draw_the_scene_the_browser_is_sent():
    """plot_contour and plot_surface draw their scene (the numbers the web page gets): matplotlib's own
    contour levels and band colours, the colour bar's ticks, the lifted path on the surface."""
    paths = [descend(FUNCTIONS["seed"], "sgd", 1.5), descend(FUNCTIONS["seed"], "adam", 0.8)]
    drawn = plot_contour(paths[0].function, paths)
    scene = drawn["scene"]
    np.testing.assert_array_equal(drawn["contour"].levels, scene.levels)
    assert [to_hex(c, keep_alpha=True) for c in drawn["contour"].get_facecolor()] == scene.band_colors
    ticks, labels = scene.colorbar_ticks
    np.testing.assert_array_equal(drawn["colorbar"].get_ticks(), ticks)
    assert [t.get_text() for t in drawn["colorbar"].ax.get_yticklabels()] == labels == ["0.1", "1"]
    assert drawn["colorbar"].ax.get_ylabel() == scene.colorbar_label
    drawn["figure"].clf()
    surface = plot_surface(paths[0].function, paths)
    for line, p in zip(surface["paths"], surface["scene"].paths, strict=True):
        x, y, z = line.get_data_3d()
        np.testing.assert_array_equal(np.column_stack([x, y]), p.points)
        np.testing.assert_array_equal(z, p.lifted)
    assert len(surface["scene"].paths[0].points) == 2  # sgd at lr 1.5 leaves the frame at its first step
    surface["figure"].clf()


def test_box_holds_the_whole_path_and_levels_cover_the_gap():
    path = descend(FUNCTIONS["seed"], lr=1.02)  # unstable: |y| grows 1.04× per step, to 6.5 > 3
    (x0, x1), (y0, y1) = plot_box(path.function, [path])
    assert y1 - y0 > 12  # widened beyond the function's own y in [-3, 3]
    assert x0 <= path.points[:, 0].min() and x1 >= path.points[:, 0].max()
    assert y0 <= path.points[:, 1].min() and y1 >= path.points[:, 1].max()
    runaway = descend(FUNCTIONS["seed"], lr=1.05)  # |y| to 35: more than 3× the box, so it is cut instead
    (_, _), (y0, y1) = plot_box(runaway.function, [runaway])
    assert y1 - y0 < 7 and y0 <= -3 and y1 >= 3  # the function's box, plus the margin around the points kept
    levels = log_levels(np.array([0.0, 1e-3, 0.5, 10.0]))
    assert levels[0] > 0 and levels[-1] == 10.0


def test_surface_path_is_drawn_on_the_surface(seed_path):
    drawn = plot_surface(seed_path.function, [seed_path])
    x, y, z = drawn["paths"][0].get_data_3d()
    np.testing.assert_array_equal(np.column_stack([x, y]), seed_path.points)
    lift = z - seed_path.values
    np.testing.assert_allclose(lift, lift[0])  # a constant lift, visibly above the translucent surface
    assert 0.02 * 10 < lift[0] <= 0.03 * 10  # 3 % of the seed's f range (0 to 10)


def test_convergence_draws_the_closed_form_to_the_steps_needed(seed_path):
    verdict = judge(seed_path)
    drawn = plot_convergence(verdict)
    k, d = drawn["d_theory"].get_data()
    assert k[-1] >= verdict.steps_needed == 488
    q = seed_path.function.quadratic
    np.testing.assert_allclose(d, q.distances(0.9, k, seed_path.start))
    _, numeric = drawn["distance"].get_data()
    np.testing.assert_allclose(numeric, np.linalg.norm(seed_path.points, axis=1))
    assert "NOT converged" in drawn["figure"]._suptitle.get_text()


def test_sgd_figure_ellipse_is_the_predicted_covariance():
    study = run_sgd_study(FUNCTIONS["seed"], steps=30, runs=5, n=100, batch_sizes=(1, 100), draws=200)
    drawn = plot_sgd_study(study, theme="light")
    ellipse = [p for p in drawn["ensemble"].patches if type(p).__name__ == "Ellipse"][0]
    np.testing.assert_allclose(ellipse.center, study.full_batch.end)
    lam = np.linalg.eigvalsh(study.covariances[-1])
    np.testing.assert_allclose(sorted([ellipse.width, ellipse.height]), sorted(4 * np.sqrt(lam)))
    noise_lines = drawn["noise"].get_lines()
    measured_x = [line for line in noise_lines if line.get_label() == "measured, x"][0]
    np.testing.assert_allclose(measured_x.get_ydata(), [row.measured[0] for row in study.noise])


def test_compare_grid_has_one_panel_per_optimizer_titled_with_its_verdict():
    preset = PRESETS["textbook"]
    paths = compare_optimizers(FUNCTIONS["textbook"], preset.optimizers, 30, preset.start)
    verdicts = [judge(p, max_extra_steps=2000) for p in paths]
    grid = plot_compare_grid(paths, verdicts)
    titles = [ax.get_title() for ax in grid["axes"]]
    # Gradient descent on x²/20 + y² multiplies x by (1 − lr/10) and y by (1 − 2·lr) each step.
    lr, (x0, y0), steps = 0.95, preset.start, preset.steps
    distance = np.hypot(x0 * (1 - lr / 10) ** steps, y0 * (1 - 2 * lr) ** steps)
    assert titles[0] == f"sgd lr=0.95: NOT converged, {distance:.4f} from the minimum"
    assert [t.split(":")[0] for t in titles] == [p.label for p in paths]
    overlay = plot_compare_overlay(paths, verdicts, theme="light")
    assert len(overlay["gap"].get_lines()) == 4


def test_gif_has_a_frame_per_step_and_lingers_on_the_end(tmp_path):
    path = descend(FUNCTIONS["seed"], steps=6)
    out = animate_paths([path], tmp_path / "path.gif", fps=5, hold=4)
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == 7 and gif.info["loop"] == 0
        gif.seek(6)
        assert gif.info["duration"] == 200 * 5
    assert [p.name for p in tmp_path.iterdir()] == ["path.gif"]  # no temporary file left behind


def test_html_is_self_contained_and_has_a_slider_over_the_steps(seed_path):
    html = landscape_html([seed_path])
    assert not re.search(r"<script[^>]+src\s*=", html, flags=re.IGNORECASE)  # nothing fetched
    assert "<link" not in html.lower()
    assert len(html) > 1_000_000 and "Plotly.newPlot" in html  # plotly.js itself is inside
    frames = re.findall(r'"name":"(\d+)"', html.replace(" ", ""))
    assert {str(k) for k in range(31)} <= set(frames)
    figure = landscape_figure([seed_path])  # the page's data are the path's own numbers
    np.testing.assert_array_equal(np.column_stack([figure.data[1].x, figure.data[1].y]), seed_path.points)
    lift = np.asarray(figure.data[2].z) - seed_path.values
    np.testing.assert_allclose(lift, 0.03 * 9.64, rtol=0.02)  # as on plot_surface: 3 % of f's range (0 to 9.64)
    assert len(figure.layout.sliders[0].steps) == 31 and len(figure.frames) == 31


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs a chromium binary")
def test_html_renders_offline_in_a_browser(tmp_path, seed_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "landscape.html"
    page_file.write_text(landscape_html([seed_path]))
    requested = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                    args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
        page = browser.new_page()
        page.route("http*://**", lambda route: (requested.append(route.request.url), route.abort()))
        page.goto(page_file.as_uri())
        page.wait_for_function("document.querySelector('.js-plotly-plot') !== null", timeout=20_000)
        traces = page.evaluate("document.querySelector('.js-plotly-plot').data.length")
        browser.close()
    assert traces == 5 and requested == []  # surface, path outline, path, start, minimum; nothing from the network
