"""Themes as matplotlib style sheets, applied in a context (never as global state).

Use::

    with theme_context("dark"):
        fig, ax = plt.subplots(layout="constrained")
        ...

The palettes are Okabe & Ito's colour-blind-safe colours; ``colors(theme)`` gives named roles so
every figure uses the same colour for the same meaning (train, test, reference, path, …).
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from mlplab.errors import ConfigError

THEMES = ("dark", "light")
FORMATS = ("png", "svg", "pdf")
STYLE_DIR = Path(__file__).parent

#: Symmetric diverging colormap for weights: blue negative, white/black zero, red positive.
DIVERGING_CMAP = "RdBu_r"

_ROLES = {
    "dark": {"train": "#56B4E9", "test": "#E69F00", "reference": "#9aa0a6", "loss": "#56B4E9",
             "smooth": "#F0E442", "path": "#F0E442", "start": "#009E73", "end": "#D55E00",
             "minimum": "#FFFFFF", "gap": "#CC79A7", "good": "#009E73", "bad": "#D55E00",
             "foreground": "#e6e6e6", "background": "#111418"},
    "light": {"train": "#0072B2", "test": "#D55E00", "reference": "#7f7f7f", "loss": "#0072B2",
              "smooth": "#E69F00", "path": "#D55E00", "start": "#009E73", "end": "#CC79A7",
              "minimum": "#000000", "gap": "#CC79A7", "good": "#009E73", "bad": "#D55E00",
              "foreground": "#222222", "background": "#ffffff"},
}


def check_theme(theme: str) -> str:
    if theme not in THEMES:
        raise ConfigError(f"unknown theme {theme!r}; choose one of: {', '.join(THEMES)}.")
    return theme


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


def figure_bytes(fig: Figure, fmt: str = "png") -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=check_format(fmt))
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | os.PathLike, *, close: bool = True) -> Path:
    """Save atomically (format from the suffix) and close the figure; returns the path."""
    from mlplab.train.run_folder import atomic_write_bytes

    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    data = figure_bytes(fig, fmt)
    atomic_write_bytes(path, data)
    if close:
        plt.close(fig)
    return path
