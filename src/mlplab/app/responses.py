"""How the API answers: HTTP statuses for a user's mistakes, and JSON that is always valid.

Every answer that is not a success carries ``{"error": "<one sentence: what is wrong and what to do>"}``,
which the pages show as it is. JSON has no NaN or infinity, yet a diverged run records them; they are
sent as ``null`` (a gap in a chart) instead of failing the whole answer.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from fastapi.responses import JSONResponse

from mlplab.errors import MlplabError
from mlplab.landscape.budget import TimeLimitError


class NotFoundError(MlplabError):
    """A run, a file of it or a page that does not exist: 404."""


class ForbiddenError(MlplabError):
    """A file that exists but is not served (a symlink out of the runs folder): 403."""


class BusyError(MlplabError):
    """The training slots are full, or the run name is taken: 409."""


def status_of(exc: MlplabError) -> int:
    """404 for what does not exist, 403 for what is not served, 409 for what conflicts, 503 for work past
    its time limit, 400 for every other bad value."""
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ForbiddenError):
        return 403
    if isinstance(exc, BusyError):
        return 409
    if isinstance(exc, TimeLimitError):
        return 503  # the request was fine but this server will not spend longer on it
    return 400


def finite(obj: Any) -> Any:
    """``obj`` with NumPy values made plain and every NaN/inf float replaced by ``None``."""
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite(obj.tolist())
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


class FiniteJSONResponse(JSONResponse):
    """A ``JSONResponse`` that never fails on NaN, infinity or NumPy numbers."""

    def render(self, content: Any) -> bytes:
        return json.dumps(finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def error_response(message: str, status: int) -> FiniteJSONResponse:
    return FiniteJSONResponse({"error": message}, status_code=status)


def answer(content: Any, status_code: int = 200) -> FiniteJSONResponse:
    """A JSON answer (NumPy arrays welcome, NaN sent as ``null``)."""
    return FiniteJSONResponse(content, status_code=status_code)
