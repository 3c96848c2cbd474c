"""Pictures: themes and figure functions. Plot helpers take an optional ``ax`` and return what they drew.

The names below are imported when first used (PEP 562), not with the package: importing
``mlplab.viz.training.drawing_processes`` to start the drawing processes must not cost the
training process the half second that importing matplotlib takes.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name → the module that defines it.
_EXPORTS = {
    "DIVERGING_CMAP": "mlplab.viz.theme", "FORMATS": "mlplab.viz.theme", "THEMES": "mlplab.viz.theme",
    "colors": "mlplab.viz.theme", "figure_bytes": "mlplab.viz.theme", "save_figure": "mlplab.viz.theme",
    "theme_context": "mlplab.viz.theme", "smooth_curve": "mlplab.viz.training.curves",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mlplab.viz' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
