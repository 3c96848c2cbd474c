"""One colour palette: defined in mlplab.viz.palette (and the theme's roles), served to the pages as CSS
variables, read by the CSS and JS — which hold no colour of their own."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import matplotlib as mpl
import pytest

from mlplab.app import AppSettings, create_app
from mlplab.errors import ConfigError
from mlplab.optim import OPTIMIZERS
from mlplab.viz.palette import CYCLE, OPTIMIZER_COLORS, css_variables, cycle_colors, optimizer_color
from mlplab.viz.theme import THEMES, colors, theme_context

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

STATIC = Path(__file__).parents[1] / "src" / "mlplab" / "app" / "static"
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


@pytest.mark.parametrize("theme", THEMES)
def test_the_style_sheets_cycle_is_the_palettes(theme):
    with theme_context(theme):
        cycle = ["#" + c.lstrip("#").upper() for c in mpl.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert cycle == [c.upper() for c in CYCLE[theme]]
    assert cycle_colors(len(CYCLE[theme]) + 2, theme)[-2:] == list(CYCLE[theme][:2])


def test_every_optimizer_has_its_own_colour_and_none_is_yellow_or_green():
    assert set(OPTIMIZER_COLORS) == set(OPTIMIZERS)
    assert len(set(OPTIMIZER_COLORS.values())) == len(OPTIMIZER_COLORS)
    for name, colour in OPTIMIZER_COLORS.items():
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert not (g > r and g > b), f"{name} {colour} is green: it vanishes on viridis"
        assert not (r > 150 and g > 150 and b < 100), f"{name} {colour} is yellow: it vanishes on viridis"
        assert optimizer_color(name) == colour
    with pytest.raises(ConfigError, match="no colour for optimizer 'lion'"):  # a new optimizer needs its colour
        optimizer_color("lion")


def test_the_pages_colours_are_served_from_the_palette_and_written_nowhere_else():
    client = TestClient(create_app(AppSettings(runs_dir=Path("/tmp"), allowed_hosts=("testserver",))))
    answer = client.get("/palette.css")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/css")
    assert answer.text == css_variables()
    defined = set(re.findall(r"--([\w-]+):", answer.text))
    assert colors("dark")["train"] in answer.text and colors("light")["train"] in answer.text
    page = client.get("/").text
    assert page.index("/palette.css") < page.index("/static/app.css")
    for path in sorted(STATIC.glob("*.css")) + sorted(STATIC.glob("*.js")):
        text = path.read_text()
        assert HEX.findall(text) == [], f"{path.name} writes a colour of its own"
        used = set(re.findall(r"var\(--([\w-]+)", text)) | set(re.findall(r'css\("--([\w-]+)"\)', text))
        own = set(re.findall(r"--([\w-]+):", text))  # sizes and the like, defined by the file itself
        assert used - defined - own == set(), f"{path.name} uses undefined variables"
