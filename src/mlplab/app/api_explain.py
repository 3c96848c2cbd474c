"""``/api/explain/RUN`` and the Backprop page ``/backprop/RUN``: every stage of backprop for one test image.

The numbers are :func:`mlplab.explain.run.explain_run` on the app's cached run data (the same as
``mlplab explain RUN --json``); the page (``templates/backprop.html``, ``static/backprop.js``) only
draws them. ``POST /api/explain/RUN/drawing?label=L`` does the same for a digit drawn on the Run page
(prepared by :func:`mlplab.data.handwriting.mnist_like`, as ``…/predict`` prepares it), with the label
the learner says it is.
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


@router.post("/api/explain/{name:path}/drawing")
async def explain_drawing(request: Request, name: str, label: int = Query(ge=0, le=99, description="the digit drawn"),
                          at: int | None = Query(None, ge=-1_000_000, le=1_000_000),
                          untrained: bool = Query(False)) -> Response:
    """Every stage of backprop for a drawn digit (the body of ``POST /api/runs/RUN/predict``) as digit ``label``."""
    from starlette.concurrency import run_in_threadpool

    from mlplab.app.api_predict import read_drawing
    from mlplab.app.api_runs import run_data
    from mlplab.data.handwriting import mnist_like
    from mlplab.explain.run import explain_run

    drawing = await read_drawing(request)
    if isinstance(drawing, Response):
        return drawing

    def explain() -> Response:
        data = run_data(request, name)
        image = mnist_like(drawing.image()).reshape(-1)  # (784,), an empty canvas is a 400
        return answer(explain_run(data, at=at, untrained=untrained, image=image, label=label).to_dict())
    return await run_in_threadpool(explain)


@router.get("/backprop/{name:path}", include_in_schema=False)
def backprop_page(name: str) -> Response:
    from mlplab.app.server import render_page  # the shared page shell (server imports this module)

    check_name(name)
    return render_page("backprop")
