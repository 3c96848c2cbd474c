"""The one colour palette of mlplab: figures (matplotlib), the web app's CSS and its JavaScript.

Every colour is defined once: the figures' named roles in :mod:`mlplab.viz.theme` (read here, not
copied), everything else here. The web app serves
:func:`css_variables` as ``/static/palette.css`` (CSS custom properties), and the JavaScript reads those
variables (``mlplab.css("--opt-adam")``) — so a colour changed here changes everywhere.

The base colours are Okabe & Ito's colour-blind-safe set.
"""

from __future__ import annotations

from mlplab.viz.theme import OPTIMIZER_COLORS, THEMES, colors, optimizer_color  # noqa: F401 - one map, in theme

#: Named roles for figures and the web app: the same colour for the same meaning everywhere. They are
#: the figure themes' roles (:func:`mlplab.viz.theme.colors`), read from there rather than copied.
ROLES: dict[str, dict[str, str]] = {theme: colors(theme) for theme in THEMES}

#: The colour cycle of each theme (also written in ``dark.mplstyle`` / ``light.mplstyle``, which a test
#: keeps equal to this: a style sheet cannot import Python).
CYCLE: dict[str, tuple[str, ...]] = {
    "dark": ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#0072B2", "#FFFFFF"),
    "light": ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000"),
}

#: Page colours of the web app (not used by figures), by theme.
UI: dict[str, dict[str, str]] = {
    "dark": {"bg": "#111418", "panel": "#1a1e24", "panel-2": "#222831", "fg": "#e6e6e6", "muted": "#a3aab4",
             "line": "#3a3f47", "accent": "#56B4E9", "warn": "#E69F00", "focus": "#F0E442",
             "input-bg": "#0d1014", "bp-neg": "#56b4e9", "bp-pos": "#e8602c", "bp-zero": "#1a1e24"},
    "light": {"bg": "#ffffff", "panel": "#f5f6f8", "panel-2": "#e9ecf0", "fg": "#1d1f22", "muted": "#555d66",
              "line": "#c9ced6", "accent": "#0072B2", "warn": "#a86a00", "focus": "#0072B2",
              "input-bg": "#ffffff", "bp-neg": "#0072b2", "bp-pos": "#d55e00", "bp-zero": "#f5f6f8"},
}

#: Where the page needs a darker shade than the figure role for contrast on a light background.
_UI_ROLE_OVERRIDES = {"light": {"good": "#007a58", "bad": "#b34700"}}


def cycle_colors(n: int, theme: str | None = None) -> list[str]:
    """``n`` colours from the theme's cycle, repeating when ``n`` exceeds its length; ``theme=None``:
    the cycle of the style in force (inside ``theme_context``), so a figure follows its theme.

    >>> cycle_colors(2, "dark")
    ['#56B4E9', '#E69F00']
    """
    if theme is None:
        import matplotlib as mpl

        cycle = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    else:
        cycle = CYCLE[theme]
    return [cycle[k % len(cycle)] for k in range(n)]


def _rgb_triplet(hex_color: str) -> str:
    h = hex_color.lstrip("#")
    return ", ".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4))


def css_variables() -> str:
    """The palette as CSS custom properties, one block per theme (served as ``/static/palette.css``)."""
    blocks = []
    for theme in THEMES:
        values = {**UI[theme], "train": ROLES[theme]["train"], "test": ROLES[theme]["test"],
                  "good": ROLES[theme]["good"], "bad": ROLES[theme]["bad"], "smooth": ROLES[theme]["smooth"],
                  "start": ROLES[theme]["start"], "minimum": ROLES[theme]["minimum"],
                  **_UI_ROLE_OVERRIDES.get(theme, {})}
        values["cell"] = _rgb_triplet(ROLES[theme]["train"])
        values.update({f"cycle-{k}": c for k, c in enumerate(CYCLE[theme])})
        values.update({f"opt-{name}": c for name, c in OPTIMIZER_COLORS.items()})
        selector = ':root, [data-theme="dark"]' if theme == "dark" else f'[data-theme="{theme}"]'
        body = "\n".join(f"  --{key}: {value};" for key, value in values.items())
        blocks.append(f"{selector} {{\n{body}\n}}")
    return "/* generated from mlplab.viz.palette — edit colours there */\n" + "\n".join(blocks) + "\n"
