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
from mlplab.viz.training.curves import smooth_curve

__all__ = [
    "DIVERGING_CMAP", "FORMATS", "THEMES", "colors", "figure_bytes", "save_figure", "smooth_curve", "theme_context",
]
