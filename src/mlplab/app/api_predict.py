"""``POST /api/runs/NAME/predict``: a digit drawn on the Run page, as the run's network sees it.

The page sends the canvas's ink (:class:`~mlplab.app.schemas.DrawingRequest`);
:func:`mlplab.data.handwriting.mnist_like` turns it into an MNIST digit (20×20 box, centre of mass at
(14, 14), area averaging); the network at evaluation ``at`` (none: the final model, or a training
run's latest evaluation) runs its forward pass, :func:`mlplab.viz.training.architecture.layer_activations`,
and :func:`mlplab.viz.training.architecture.plot_architecture` draws it. The answer carries the 28×28 image
the network saw, the probabilities, every hidden layer's activations and the drawing (a PNG data URL).

The body is read here, not by FastAPI, so that a huge one is refused (413) before it is parsed.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from mlplab.app.api_runs import At, ThemeQuery, _render_lock, _when, run_data
from mlplab.app.responses import answer, error_response
from mlplab.app.schemas import MAX_DRAWING_BYTES, DrawingRequest, Theme, validation_message

router = APIRouter(prefix="/api/runs", tags=["runs"])


async def _body(request: Request) -> bytes | Response:
    """The request body, or the error answer: not JSON (415), larger than :data:`MAX_DRAWING_BYTES` (413)."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return error_response("the drawing must be sent as JSON (Content-Type: application/json).", 415)
    declared = request.headers.get("content-length", "")
    too_large = error_response(f"the drawing is larger than {MAX_DRAWING_BYTES} bytes; send at most a "
                               "512 × 512 canvas.", 413)
    if declared.isdigit() and int(declared) > MAX_DRAWING_BYTES:
        return too_large
    body = bytearray()
    async for chunk in request.stream():  # a body sent without its length is cut off all the same
        body += chunk
        if len(body) > MAX_DRAWING_BYTES:
            return too_large
    return bytes(body)


async def read_drawing(request: Request) -> DrawingRequest | Response:
    """The :class:`DrawingRequest` in the body, or the error answer (413, 415, 422) to send instead."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        return DrawingRequest.model_validate_json(body)
    except ValidationError as exc:
        return error_response(validation_message(list(exc.errors())), 422)


@router.post("/{name:path}/predict")
async def predict(request: Request, name: str, at: int | None = At, theme: Theme = ThemeQuery) -> Response:
    """The drawn digit through run ``name``'s network: ``image`` (28×28 in [0, 1]), ``probabilities``,
    ``predicted``, ``hidden`` (one list per hidden layer) and, unless ``architecture`` is false, ``png``."""
    drawing = await read_drawing(request)
    if isinstance(drawing, Response):
        return drawing
    return await run_in_threadpool(_predict, request, name, at, theme, drawing)


def _predict(request: Request, name: str, at: int | None, theme: str, drawing: DrawingRequest) -> Response:
    import matplotlib.pyplot as plt

    from mlplab.data.handwriting import mnist_like
    from mlplab.nn.networks import network_from_params
    from mlplab.viz.theme import figure_bytes
    from mlplab.viz.training.architecture import layer_activations, plot_architecture

    data = run_data(request, name)
    k = data.eval_index(at)
    image = mnist_like(drawing.image())  # (28, 28); an empty canvas is a ConfigError: 400
    # the run's own scaling: MNIST pixels in [0, 1] (mlplab.data.load_mnist(normalize=True)), in its dtype
    x = image.reshape(-1).astype(data.x_test.dtype)  # (784,)
    params, sizes, activation = data.params_at(k), data.run.sizes, data.run.config.activation
    activations = layer_activations(network_from_params(params, sizes, activation), x)  # [x, h1, …, y]
    probabilities = activations[-1]
    result: dict[str, Any] = {
        "image": np.round(image, 4), "probabilities": probabilities, "predicted": int(np.argmax(probabilities)),
        "hidden": activations[1:-1], "activation": activation, **_when(data, k),
    }
    if drawing.architecture:
        with _render_lock(request):
            fig = plot_architecture(params, sizes, activation=activation, x=x, theme=theme)["figure"]
            try:
                png = figure_bytes(fig, "png")
            finally:
                plt.close(fig)
        result["png"] = "data:image/png;base64," + base64.b64encode(png).decode()
    return answer(result)


__all__ = ["read_drawing", "router"]
