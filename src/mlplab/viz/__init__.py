"""Pictures: themes and figure functions. Plot helpers take an optional ``ax`` and return what they drew."""

from mlplab.viz.theme import (
    DIVERGING_CMAP,
    FORMATS,
    THEMES,
    colors,
    figure_bytes,
    save_figure,
    theme_context,
)

__all__ = ["DIVERGING_CMAP", "FORMATS", "THEMES", "colors", "figure_bytes", "save_figure", "theme_context"]
