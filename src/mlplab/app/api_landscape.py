"""``/api/landscape``: the playground's numbers — a surface, optimizer paths on it, and their verdicts.

The function comes from :func:`mlplab.landscape.get_function` (a built-in name, or an expression read by
the whitelist parser: the text is parsed, never executed); paths from
:func:`~mlplab.landscape.descend`, or :func:`~mlplab.landscape.stochastic_descent` on a
:class:`~mlplab.landscape.FiniteSum` for SGD with mini-batch noise; the verdict from
:func:`~mlplab.landscape.judge`; the grid from :mod:`mlplab.viz.landscape.plots`. The browser draws them
with plotly (contour, 3-D surface, a slider over the steps).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import Response

from mlplab.app.responses import answer
from mlplab.app.schemas import LandscapeRequest
from mlplab.landscape import FUNCTIONS, FiniteSum, Function, Path, descend, get_function, judge, stochastic_descent
from mlplab.landscape.budget import time_limit
from mlplab.landscape.learning_rates import proposed_lrs
from mlplab.viz.landscape.plots import gap_floor, plot_box, points_in_frame, surface_grid

router = APIRouter(prefix="/api/landscape", tags=["landscape"])

#: How far the verdict may run a path on to count the steps it would need (the CLI allows 50 000;
#: here an answer must come back while the learner drags a slider).
VERDICT_STEPS = 10_000
#: Seconds of computing one request may take (the slowest accepted expression needs about 1 s).
REQUEST_SECONDS = 10.0


def function_info(function: Function) -> dict[str, Any]:
    return {"name": function.name, "label": function.label, "formula": function.formula, "note": function.note,
            "minima": [list(m) for m in function.minima], "f_min": function.f_min,
            "minima_note": function.minima_note, "bounds": [list(b) for b in function.bounds],
            "start": list(function.start), "lr": function.lr, "quadratic": function.quadratic is not None,
            "lrs": proposed_lrs(function)}


@router.get("/functions")
def functions() -> Response:
    """The built-in functions with their suggested start and learning rate."""
    return answer({"functions": [function_info(f) for f in FUNCTIONS.values()]})


@router.post("/paths")
def paths(body: LandscapeRequest) -> Response:
    """Run every requested optimizer from the same start and judge where each one ended.

    The work stops after :data:`REQUEST_SECONDS` (a 503 that says so): one request must not hold a
    classroom server's cores, whatever the expression costs.
    """
    with time_limit(REQUEST_SECONDS):
        return _paths(body)


def _paths(body: LandscapeRequest) -> Response:
    function = get_function(body.function)
    start = tuple(body.start) if body.start is not None else function.start
    stochastic = body.stochastic
    objective = None
    if stochastic is not None:
        objective = FiniteSum(function, n=stochastic.n, noise=stochastic.noise, seed=stochastic.seed)
    found = []
    for spec in body.paths:
        if objective is not None:
            path = stochastic_descent(objective, spec.optimizer, spec.lr, body.steps, stochastic.batch_size, start,
                                      seed=stochastic.seed, schedule=stochastic.schedule,
                                      sampling=stochastic.sampling, **spec.hyperparameters())
        else:
            path = descend(function, spec.optimizer, spec.lr, body.steps, start, **spec.hyperparameters())
        found.append(path)
    box = plot_box(function, found)  # a runaway path is drawn leaving the frame, as in the CLI
    X, Y, Z = surface_grid(function, box, n=body.grid)
    gap = Z - gap_floor(function, Z)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_gap = np.log10(np.maximum(gap, 1e-12))  # the contour's colour: decades above the minimum
    return answer({
        "function": function_info(function), "start": list(start), "box": [list(b) for b in box],
        "x": X[0], "y": Y[:, 0], "z": Z, "log_gap": log_gap, "steps": body.steps,
        "stochastic": stochastic.model_dump() if stochastic is not None else None,
        "paths": [_path_info(p, judge(p, stochastic=objective is not None, max_extra_steps=VERDICT_STEPS), box)
                  for p in found],
    })


def _path_info(path: Path, verdict: Any, box: Any) -> dict[str, Any]:
    # what is drawn, as in the CLI: the points inside the view, the last one where the path leaves it
    shown, left_at = points_in_frame(path, box)
    return {"label": path.label, "optimizer": path.optimizer, "hyperparameters": path.hyperparameters,
            "shown": shown, "shown_values": path.function(shown[:, 0], shown[:, 1]), "left_at": left_at,
            "points": path.points, "values": path.values, "steps": path.steps, "diverged_at": path.diverged_at,
            "converged": verdict.converged, "headline": verdict.headline(), "distance": verdict.distance,
            "verdict": verdict.lines()}
