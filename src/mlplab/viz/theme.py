"""Themes as matplotlib style sheets, applied in a context (never as global state).

Use::

    with theme_context("dark"):
        fig, ax = plt.subplots(layout="constrained")
        ...

The palettes are Okabe & Ito's colour-blind-safe colours; ``colors(theme)`` gives named roles so
every figure uses the same colour for the same meaning (train, test, reference, path, …).

``matplotlib.pyplot`` is imported only where a figure is closed: this module's colours and checks
serve processes that never draw (the one that writes a run's report), and pyplot costs 0.2 s to import.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib as mpl

from mlplab.errors import ConfigError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

THEMES = ("dark", "light")
FORMATS = ("png", "svg", "pdf")
STYLE_DIR = Path(__file__).parent

#: Resolution of every saved figure unless ``--dpi`` says otherwise: sharp on a slide or a projector.
DEFAULT_DPI = 150
#: zlib compression of the PNGs (0–9): see :func:`figure_bytes`.
PNG_COMPRESS_LEVEL = 3

#: One colour per optimizer, by name, the same in both themes and in every figure (CLI, notebooks,
#: the web playground through ``/api/options``). None is a viridis hue (dark purple, blue, teal, green,
#: yellow) and all read on white and on the dark background; on a contour or surface the path also
#: gets a :data:`PATH_OUTLINE`, so it reads on the yellow bands too. The textbook's four (fig. 6-8:
#: sgd, momentum, adagrad, adam) are the four most different.
OPTIMIZER_COLORS = {
    "sgd": "#e8384f",       # red
    "momentum": "#56b4e9",  # sky blue
    "nesterov": "#b388ff",  # lavender
    "adagrad": "#ff8c1a",   # orange
    "rmsprop": "#c49a6c",   # tan
    "adam": "#f26bce",      # pink
}
#: A path's dark outline (matplotlib path effect / plotly marker line) on the contour and surface.
PATH_OUTLINE = "#000000"

#: Symmetric diverging colormap for weights: blue negative, white/black zero, red positive.
DIVERGING_CMAP = "RdBu_r"

_ROLES = {
    "dark": {"train": "#56B4E9", "test": "#E69F00", "reference": "#9aa0a6", "loss": "#56B4E9",
             "smooth": "#F0E442", "path": "#F0E442", "start": "#009E73", "end": "#D55E00",
             "minimum": "#FFFFFF", "gap": "#CC79A7", "good": "#009E73", "bad": "#D55E00",
             "validation": "#009E73", "foreground": "#e6e6e6", "background": "#111418"},
    "light": {"train": "#0072B2", "test": "#D55E00", "reference": "#7f7f7f", "loss": "#0072B2",
              "smooth": "#E69F00", "path": "#D55E00", "start": "#009E73", "end": "#CC79A7",
              "minimum": "#000000", "gap": "#CC79A7", "good": "#009E73", "bad": "#D55E00",
              "validation": "#009E73", "foreground": "#222222", "background": "#ffffff"},
}


def check_theme(theme: str) -> str:
    if theme not in THEMES:
        raise ConfigError(f"unknown theme {theme!r}; choose one of: {', '.join(THEMES)}.")
    return theme


def optimizer_color(name: str) -> str:
    """The colour of optimizer ``name`` (``"adam"``, ``"sgd"``, …) in every figure."""
    if name not in OPTIMIZER_COLORS:
        raise ConfigError(f"no colour for optimizer {name!r}; add it to OPTIMIZER_COLORS "
                          f"(known: {', '.join(OPTIMIZER_COLORS)}).")
    return OPTIMIZER_COLORS[name]


def path_effects(width: float) -> list:
    """A dark outline under a line of ``width`` points, so it reads on every colormap level."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=width + 2.2, foreground=PATH_OUTLINE), patheffects.Normal()]


def colors(theme: str = "dark") -> dict[str, str]:
    """Named colours for the theme: ``train``, ``test``, ``reference``, ``path``, ``start``, …"""
    return dict(_ROLES[check_theme(theme)])


@contextlib.contextmanager
def theme_context(theme: str = "dark") -> Iterator[None]:
    """Apply the theme's style sheet inside a ``with`` block only."""
    with mpl.style.context(str(STYLE_DIR / f"{check_theme(theme)}.mplstyle")):
        yield


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown figure format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    return fmt


def check_dpi(dpi: float) -> float:
    if not 10 <= dpi <= 1200:
        raise ConfigError(f"dpi must be between 10 and 1200, got {dpi!r}; 150 suits a slide, 300 print.")
    return dpi


@contextlib.contextmanager
def figure_dpi(dpi: float | None = None) -> Iterator[None]:
    """Save every figure inside the block at ``dpi`` (the CLI's ``--dpi``; default :data:`DEFAULT_DPI`).

    A context, like the theme, so the commands that draw many figures (``train``, ``plot``, ``sweep``)
    pass it once instead of through every drawing function."""
    with mpl.rc_context({"savefig.dpi": check_dpi(DEFAULT_DPI if dpi is None else dpi)}):
        yield


def current_dpi() -> float:
    """The dpi a figure is saved at here: the one set by :func:`figure_dpi`, else :data:`DEFAULT_DPI`."""
    dpi = mpl.rcParams["savefig.dpi"]
    return DEFAULT_DPI if dpi == "figure" else float(dpi)


def figure_bytes(fig: Figure, fmt: str = "png", dpi: float | None = None) -> bytes:
    """The figure as ``fmt`` bytes at ``dpi`` (default: :func:`current_dpi`)."""
    buffer = io.BytesIO()
    fmt = check_format(fmt)
    # zlib level 3 instead of Pillow's 6: 6 % less drawing time for 9 % larger files (measured on a run's
    # figures, benchmarks/bench_figures.py); the pixels are the same
    dpi = current_dpi() if dpi is None else check_dpi(dpi)
    if fmt != "png":
        fig.savefig(buffer, format=fmt, dpi=dpi)
        return buffer.getvalue()
    with laid_out_once(fig, dpi):
        fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buffer.getvalue()


def drop_layout_engine(fig: Figure) -> None:
    """Leave the axes where they are and remove the figure's layout engine.

    ``None``, not ``"none"``: matplotlib's ``"none"`` is a placeholder engine, and ``savefig`` still
    draws a figure that has any engine twice (a first, invisible drawing to run the layout). The rc
    settings are pinned because ``None`` otherwise means "whatever matplotlibrc says".
    """
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)


@contextlib.contextmanager
def laid_out_once(fig: Figure, dpi: float) -> Iterator[None]:
    """Inside the block, ``fig`` has the layout its layout engine gives it at ``dpi``, and no engine.

    Why: saving a figure that has a layout engine (constrained layout) draws it twice, once with
    drawing switched off only to run the layout, then for real. Running the layout ourselves, at
    the dpi the PNG is rendered at, gives the same positions, hence the same pixels (a test compares
    them), without the first drawing (the predictions figure: 0.72 → 0.67 CPU-s, measured with
    ``benchmarks/bench_figures.py``). The engine is put back after, so the figure behaves as before.
    """
    engine = fig.get_layout_engine()
    if engine is None or not fig.axes:
        yield
        return
    original_dpi = fig.dpi
    try:
        fig.set_dpi(dpi)  # text is measured in pixels at the saving dpi, as the save's own layout would
        engine.execute(fig)
        drop_layout_engine(fig)
        fig.set_dpi(original_dpi)
        yield
    finally:
        fig.set_layout_engine(engine)
        fig.set_dpi(original_dpi)


def save_figure(fig: Figure, path: str | os.PathLike, *, close: bool = True, dpi: float | None = None) -> Path:
    """Save atomically (format from the suffix, ``dpi`` default :func:`current_dpi`) and close the
    figure; returns the path."""
    from mlplab.train.run_folder import atomic_write_bytes

    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    data = figure_bytes(fig, fmt, dpi)
    atomic_write_bytes(path, data)
    if close:
        import matplotlib.pyplot as plt  # here, not at the top: see the module docstring

        plt.close(fig)
    return path
