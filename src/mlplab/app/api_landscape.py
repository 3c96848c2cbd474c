"""``/api/landscape``: the playground's numbers — a surface, optimizer paths on it, and their verdicts.

The function comes from :func:`mlplab.landscape.get_function` (a built-in name, or an expression read by
the whitelist parser: the text is parsed, never executed); paths from
:func:`~mlplab.landscape.descend`, or :func:`~mlplab.landscape.stochastic_descent` on a
:class:`~mlplab.landscape.FiniteSum` for SGD with mini-batch noise; the verdict from
:func:`~mlplab.landscape.judge`. What the picture shows — the grid and its box, the contour levels and
their colours, each path as drawn with its colour and lift, the replay's steps — is the
:class:`~mlplab.viz.landscape.scene.LandscapeScene` the CLI's figures are drawn from, so the browser
(plotly: contour, 3-D surface, a slider over the steps) only draws it and computes none of it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter
from fastapi.responses import Response

from mlplab.app.responses import answer
from mlplab.app.schemas import LandscapeRequest
from mlplab.landscape import FUNCTIONS, FiniteSum, Function, descend, get_function, judge, stochastic_descent
from mlplab.landscape.budget import time_limit
from mlplab.landscape.learning_rates import proposed_lrs
from mlplab.landscape.verdict import Verdict
from mlplab.viz.landscape.scene import LINE_EVERY, DrawnPath, LandscapeScene, landscape_scene, surface_colorscale

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
    scene = landscape_scene(function, found, grid=body.grid)  # a runaway path leaves the frame, as in the CLI
    verdicts = [judge(p, stochastic=objective is not None, max_extra_steps=VERDICT_STEPS) for p in found]
    return answer({
        "function": function_info(function), "start": list(start), "steps": body.steps,
        "stochastic": stochastic.model_dump() if stochastic is not None else None,
        **_scene_info(scene),
        "paths": [_path_info(drawn, verdict, scene) for drawn, verdict in zip(scene.paths, verdicts, strict=True)],
    })


def _scene_info(scene: LandscapeScene) -> dict[str, Any]:
    """The scene as the page draws it with plotly: the grid ``z[i][j] = f(x[j], y[i])`` (the surface),
    the contour, the minima inside the box, the lift of every 3-D point and the replay's steps."""
    return {"box": [list(b) for b in scene.box], "x": scene.x, "y": scene.y, "z": scene.z,
            "surface_colorscale": surface_colorscale(), "lift": scene.lift, "frames": scene.frames,
            "minima": scene.minima, "minima_lifted": scene.minima_lifted, "contour": _contour(scene)}


def _contour(scene: LandscapeScene) -> dict[str, Any]:
    """The figure's contour in plotly's terms. Plotly draws evenly spaced levels only, and the
    figure's are log-spaced: so the page contours ``log10`` of the gap, where the same levels are
    evenly spaced (``start`` to ``end`` by ``size``; lines every ``line_size``). With its colour range
    (``zmin``, ``zmax``) set to the first and the last level, plotly fills band ``k`` with its colour
    scale at ``(k + 1/2)/(levels − 1)``: the scale holds the figure's colour of each band exactly there
    (and below the first level, the first)."""
    levels = np.log10(scene.levels)
    size = (levels[-1] - levels[0]) / (len(levels) - 1)
    bands = scene.band_colors
    at = (np.arange(len(bands)) + 0.5) / len(bands)
    ticks, labels = scene.colorbar_ticks
    return {"levels": scene.levels, "z": np.log10(scene.shown), "start": levels[0], "end": levels[-1],
            "size": size, "line_size": LINE_EVERY * size,
            "colorscale": [[0.0, bands[0]], *([float(t), c] for t, c in zip(at, bands, strict=True)),
                           [1.0, bands[-1]]],
            "tickvals": np.log10(ticks), "ticktext": labels, "label": scene.colorbar_label}


def _path_info(drawn: DrawnPath, verdict: Verdict, scene: LandscapeScene) -> dict[str, Any]:
    # what is drawn, as in the CLI: the points inside the view, the last one where the path leaves it
    path, note = drawn.path, drawn.exit_note(scene.box)
    return {"label": path.label, "optimizer": path.optimizer, "color": drawn.color,
            "hyperparameters": path.hyperparameters,
            "shown": drawn.points, "shown_values": drawn.values, "lifted": drawn.lifted, "end": drawn.end,
            "left_at": drawn.left_at, "exit_note": None if note is None else {"text": note[0], "at": note[1]},
            "points": path.points, "values": path.values, "steps": path.steps, "diverged_at": path.diverged_at,
            "converged": verdict.converged, "headline": verdict.headline(), "distance": verdict.distance,
            "verdict": verdict.lines()}
