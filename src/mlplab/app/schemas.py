"""Every request the app accepts, with its bounds, declared once (pydantic models and limits).

The choices come from the library's registries (``OPTIMIZERS``, ``ACTIVATION_LAYERS``, ``FUNCTIONS``,
``SCHEDULES``…), so the forms and the checks never drift from what the library can do. The bounds keep
one request from tying up the laptop (a million hidden units, a ten-million-step path); values inside
them that still cannot work (say ``eval_every`` larger than ``iters`` is fine, ``lr = 0`` is not) are
refused by the library itself with its own message. A value outside them is answered with a 422 whose
message names the field, the bound and the value received (see :func:`validation_message`).

Types are strict: ``{"iters": true}`` or ``{"iters": "5"}`` is refused, not read as 1 or 5 — a number
field takes a JSON number, a flag takes ``true``/``false``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mlplab.data.reference import BOOK_SETTINGS
from mlplab.landscape.schedules import SCHEDULES
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS, hyperparameter_defaults
from mlplab.train.config import DTYPES, SAMPLINGS, WEIGHT_INITS

# Literal[("a", "b")] is Literal["a", "b"]: the registries' names become the allowed values.
Optimizer = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
Activation = Literal[tuple(ACTIVATION_LAYERS)]  # type: ignore[valid-type]
Dtype = Literal[DTYPES]  # type: ignore[valid-type]
Sampling = Literal[SAMPLINGS]  # type: ignore[valid-type]
WeightInit = Literal[WEIGHT_INITS]  # type: ignore[valid-type]
Schedule = Literal[SCHEDULES]  # type: ignore[valid-type]
Theme = Literal["dark", "light"]

MAX_ITERS = 200_000  # 20 textbook runs; the Stop button ends any of them early
MAX_HIDDEN = 2048
MAX_LAYERS = 4
MAX_BATCH = 10_000
MAX_TRAIN_SIZE = 60_000  # MNIST's training set
MAX_TEST_SIZE = 10_000
MAX_WEIGHT_DECAY = 10.0  # λ = 10 already flattens every weight (the book's over-fitting study uses 0.1)
MAX_LR = 10_000.0  # lr 1000 is a lesson of its own (issue 8: "too high")
MAX_STEPS = 2_000  # landscape steps: more than any picture can show
MAX_PATHS = 6
MAX_COORDINATE = 1e4
MAX_EXPRESSION = 200  # the same as mlplab.landscape.parser.MAX_LENGTH
MAX_GRID = 200
MAX_EXAMPLES = 100_000  # N of the SGD finite sum
MAX_CANVAS = 512  # a drawing's side in pixels (the Run page sends 280 × 280)
#: The largest drawing request: the base64 text of a MAX_CANVAS² image and a little JSON around it.
MAX_DRAWING_BYTES = 4 * (MAX_CANVAS * MAX_CANVAS // 3 + 1) + 1024
RUN_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$"

_strict = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)  # true is not 1, "5" is not 5


class TrainRequest(BaseModel):
    """The Train page's form: the settings of :class:`~mlplab.train.TrainConfig` (data folder excluded:
    the browser must not choose files on the server; ``mlplab serve --data-dir`` sets it)."""

    model_config = _strict

    iters: int = Field(10_000, ge=1, le=MAX_ITERS)
    batch_size: int = Field(100, ge=1, le=MAX_BATCH)
    lr: float = Field(0.1, gt=0, le=MAX_LR)
    hidden: list[Annotated[int, Field(ge=1, le=MAX_HIDDEN)]] = Field([50], min_length=1, max_length=MAX_LAYERS)
    activation: Activation = "sigmoid"  # type: ignore[valid-type]
    optimizer: Optimizer = "sgd"  # type: ignore[valid-type]
    weight_init_std: Annotated[float, Field(gt=0, le=10)] | WeightInit = 0.01  # type: ignore[valid-type]
    seed: int | None = Field(None, ge=0, le=2**32 - 1)
    dtype: Dtype = "float32"  # type: ignore[valid-type]
    sampling: Sampling = "replacement"  # type: ignore[valid-type]
    eval_every: int | None = Field(None, ge=1, le=MAX_ITERS)
    train_size: int | None = Field(None, ge=1, le=MAX_TRAIN_SIZE)
    test_size: int | None = Field(None, ge=1, le=MAX_TEST_SIZE)
    batchnorm: bool = False
    dropout: float = Field(0.0, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0, le=MAX_WEIGHT_DECAY)
    validation: int = Field(0, ge=0, lt=MAX_TRAIN_SIZE)
    # momentum, beta1, … (which ones: hyperparameter_defaults); each in [0, 1], the library checks the rest
    optimizer_options: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict, max_length=4)
    name: str | None = Field(None, pattern=RUN_NAME_PATTERN)
    plots: bool = True  # draw the figures and report.html at the end, as `mlplab train` does

    @model_validator(mode="after")
    def _options_apply(self) -> TrainRequest:
        known = hyperparameter_defaults(self.optimizer)
        unknown = sorted(set(self.optimizer_options) - set(known))
        if unknown:
            raise ValueError(f"optimizer_options: {self.optimizer} has no setting {', '.join(unknown)}; "
                             f"its settings are: {', '.join(known) or 'none besides lr'}")
        return self

    def config_fields(self) -> dict[str, Any]:
        """The fields that are :class:`TrainConfig` settings."""
        return self.model_dump(exclude={"name", "plots"})


class PathRequest(BaseModel):
    """One optimizer to run on the surface."""

    model_config = _strict

    optimizer: Optimizer = "sgd"  # type: ignore[valid-type]
    lr: float = Field(gt=0, le=1000)
    momentum: float | None = Field(None, ge=0, lt=1)

    @model_validator(mode="after")
    def _momentum_applies(self) -> PathRequest:
        if self.momentum is not None and self.optimizer not in ("momentum", "nesterov"):
            raise ValueError(f"momentum applies to momentum and nesterov only, not {self.optimizer}; leave it out")
        return self

    def hyperparameters(self) -> dict[str, float]:
        return {} if self.momentum is None else {"momentum": self.momentum}


class StochasticRequest(BaseModel):
    """SGD on a finite sum (see :mod:`mlplab.landscape.stochastic`): mini-batch noise made exact."""

    model_config = _strict

    batch_size: int = Field(10, ge=1, le=MAX_EXAMPLES)
    noise: float = Field(0.5, ge=0, le=1000)
    n: int = Field(1000, ge=3, le=MAX_EXAMPLES)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    schedule: Schedule = "constant"  # type: ignore[valid-type]
    sampling: Sampling = "replacement"  # type: ignore[valid-type]


Coordinate = Annotated[float, Field(ge=-MAX_COORDINATE, le=MAX_COORDINATE)]


class LandscapeRequest(BaseModel):
    """The playground: a function (a built-in name or an expression), optimizers, steps, start."""

    model_config = _strict

    function: str = Field("seed", min_length=1, max_length=MAX_EXPRESSION)
    paths: list[PathRequest] = Field(min_length=1, max_length=MAX_PATHS)
    steps: int = Field(30, ge=1, le=MAX_STEPS)
    start: list[Coordinate] | None = Field(None, min_length=2, max_length=2)  # [x, y]; a list: JSON has no tuples
    grid: int = Field(80, ge=20, le=MAX_GRID)
    stochastic: StochasticRequest | None = None


class DrawingRequest(BaseModel):
    """A digit drawn on the Run page: the canvas's ink, one byte a pixel (0 paper … 255 full ink), row by
    row, base64-encoded (a JSON list of 78 400 numbers would be four times longer)."""

    model_config = _strict

    width: int = Field(ge=8, le=MAX_CANVAS)
    height: int = Field(ge=8, le=MAX_CANVAS)
    ink: str = Field(min_length=1, max_length=4 * (MAX_CANVAS * MAX_CANVAS // 3 + 1))
    architecture: bool = True  # also draw the network for it (a PNG; the slow part)

    @field_validator("ink")
    @classmethod
    def _size_matches(cls, ink: str, info: ValidationInfo) -> str:
        if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", ink):
            raise ValueError("must be base64 text (letters, digits, '+', '/', '=' at the end)")
        expected = info.data.get("width", 0) * info.data.get("height", 0)
        n = len(ink) // 4 * 3 - (len(ink) - len(ink.rstrip("=")))  # bytes the base64 text decodes to
        if expected and (len(ink) % 4 or n != expected):
            raise ValueError(f"must hold width × height = {expected} bytes (base64), not {n}")
        return ink

    def image(self) -> Any:
        """The ink as a float64 array ``(height, width)`` in [0, 1]."""
        import base64

        import numpy as np

        raw = np.frombuffer(base64.b64decode(self.ink, validate=True), dtype=np.uint8)
        return raw.reshape(self.height, self.width) / 255.0


def limits() -> dict[str, Any]:
    """The bounds and choices, for the pages' forms (so the browser can say them before asking)."""
    return {
        "train": {"iters": [1, MAX_ITERS], "batch_size": [1, MAX_BATCH], "lr": [0, MAX_LR],
                  "hidden": [1, MAX_HIDDEN], "layers": [1, MAX_LAYERS], "train_size": [1, MAX_TRAIN_SIZE],
                  "test_size": [1, MAX_TEST_SIZE]},
        "landscape": {"steps": [1, MAX_STEPS], "paths": MAX_PATHS, "expression": MAX_EXPRESSION,
                      "coordinate": MAX_COORDINATE, "lr": [0, 1000]},
        "optimizers": list(OPTIMIZERS), "activations": list(ACTIVATION_LAYERS), "dtypes": list(DTYPES),
        "samplings": list(SAMPLINGS), "schedules": list(SCHEDULES), "weight_inits": list(WEIGHT_INITS),
        "optimizer_options": {name: hyperparameter_defaults(name) for name in OPTIMIZERS},
        "textbook": textbook_form(),
    }


def textbook_form() -> dict[str, Any]:
    """The Train page's "Textbook" preset, from :data:`mlplab.data.reference.BOOK_SETTINGS`.

    Blank sizes mean all of MNIST (and a blank evaluation interval, one epoch); the dtype is mlplab's
    default float32 (the book computes in float64; the run is the book's either way).
    """
    book = BOOK_SETTINGS
    return {"hidden": ",".join(map(str, book["hidden"])), "activation": book["activation"],
            "optimizer": book["optimizer"], "lr": book["lr"], "batch_size": book["batch_size"], "iters": book["iters"],
            "train_size": "", "test_size": "", "eval_every": "", "weight_init": "number",
            "weight_init_std": book["weight_init_std"], "dtype": "float32", "sampling": book["sampling"],
            **CH6_OFF}


#: The ch. 6 settings as the Train form shows them switched off (the book's ch. 4 run uses none of them).
CH6_OFF: dict[str, Any] = {"batchnorm": False, "dropout": 0, "weight_decay": 0, "validation": ""}


def validation_message(errors: list[dict[str, Any]]) -> str:
    """pydantic's errors as one sentence: ``"iters must be less than or equal to 200000, got 0"``."""
    parts = []
    for error in errors[:3]:
        # field names and list indices; not pydantic's names for the members of a union ("constrained-float")
        loc = [str(x) for x in error.get("loc", ())
               if x not in ("body", "query", "path") and re.fullmatch(r"\w+", str(x))]
        field = ".".join(loc) or "the request"
        msg = str(error.get("msg", "is not valid"))
        msg = re.sub(r"^(Input|String|List|Tuple|Dictionary) should( be)?", lambda m: "must" + (m[2] or ""), msg)
        msg = msg.replace("Value error, ", "").replace(" after validation", "")
        if error.get("type") == "missing":
            parts.append(f"{field} is required; give it a value")
        elif error.get("type") in ("json_invalid", "model_attributes_type"):
            parts.append("the request body must be a JSON object (Content-Type: application/json)")
        elif error.get("type") == "string_pattern_mismatch":
            parts.append(f"{field} may hold only letters, digits, '.', '_' and '-' and must not start with '.' "
                         f"or '-' (it names a folder in the runs folder), got {error.get('input')!r}")
        elif error.get("type") == "extra_forbidden":
            parts.append(f"{field} is not a setting here; remove it")
        else:
            received = error.get("input")
            shown = repr(received) if received is not None else "nothing"
            shown = shown if len(shown) <= 60 else shown[:57] + "…"
            parts.append(f"{field} {msg[0].lower() + msg[1:] if msg else msg}, got {shown}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more + "."
