"""``/api/explain/RUN`` and the Backprop page ``/backprop/RUN``: every stage of backprop for one test image.

The numbers are :func:`mlplab.explain.run.explain_run` on the app's cached run data (the same as
``mlplab explain RUN --json``); the page (``templates/backprop.html``, ``static/backprop.js``) only
draws them.
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mlplab.app.responses import answer
from mlplab.app.runs_folder import check_name
from mlplab.app.schemas import MAX_TEST_SIZE

router = APIRouter(tags=["explain"])


@router.get("/api/explain/{name:path}")
def explain(request: Request, name: str, index: int = Query(0, ge=0, le=MAX_TEST_SIZE - 1),
            at: int | None = Query(None, ge=-1_000_000, le=1_000_000, description="evaluation (0 first, -1 last)"),
            untrained: bool = Query(False, description="the network before its first step")) -> Response:
    """Every forward and backward stage for test image ``index``, each with its central-difference check,
    and one SGD step (the JSON of ``mlplab explain --json``)."""
    from mlplab.explain.run import explain_run

    data = request.app.state.run_data.get(request.app.state.runs.path(name))
    return answer(explain_run(data, index, at=at, untrained=untrained).to_dict())


@router.get("/backprop/{name:path}", include_in_schema=False)
def backprop_page(name: str) -> Response:
    from mlplab.app.server import render_page  # the shared page shell (server imports this module)

    check_name(name)
    return render_page("backprop")
