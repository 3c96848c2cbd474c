"""Paths on a surface: an mlplab optimizer moving one 2-D point, step by step.

The point lives in a params dict ``{"w": array([x, y])}`` and is moved by the very
:mod:`mlplab.optim` objects that train the network (``optimizer.update(params, grads)`` in place), so
what the pictures show is what training does — only in two dimensions, where we can see it.

Defaults are the seed's: ``f = x**2/100 + y**2``, plain gradient descent with lr 0.9, 30 steps from
(−7, 2).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mlplab.errors import ConfigError
from mlplab.landscape.budget import check_time
from mlplab.landscape.functions import Function
from mlplab.landscape.schedules import Schedule
from mlplab.optim import Optimizer, make_optimizer

#: A point further than this from the origin counts as diverged: the arithmetic is no longer telling
#: us anything about the function (and the next steps overflow to inf).
BLOW_UP = 1e10

#: ``(w, t) → g``: the gradient the optimizer is given at step ``t`` (exact or a mini-batch estimate).
StepGradient = Callable[[np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class Path:
    """One run: the points visited and what was measured at each.

    Shapes, for ``n`` steps taken: ``points (n+1, 2)``, ``values (n+1,)``, ``gradients (n+1, 2)`` (the
    exact full gradient at each point), ``step_gradients (n, 2)`` (what the optimizer was given: the
    same as ``gradients[:-1]`` for full-batch descent, a noisy estimate for SGD), ``lrs (n,)``.
    ``diverged_at`` is the first step whose point was not finite or beyond :data:`BLOW_UP`; the path
    stops just before it.
    """

    function: Function
    optimizer: str
    hyperparameters: dict[str, float]
    points: np.ndarray
    values: np.ndarray
    gradients: np.ndarray
    step_gradients: np.ndarray
    lrs: np.ndarray
    requested_steps: int
    diverged_at: int | None = None
    label: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.points) - 1

    @property
    def start(self) -> np.ndarray:
        return self.points[0]

    @property
    def end(self) -> np.ndarray:
        return self.points[-1]

    @property
    def lr(self) -> float:
        return float(self.hyperparameters["lr"])

    def raise_if_diverged(self) -> None:
        """A :class:`ConfigError` with the step, the point and a smaller learning rate to try."""
        if self.diverged_at is None:
            return
        q = self.function.quadratic
        hint = f"try a smaller --lr, e.g. {self.lr / 4:.3g}"
        limit = q.stability_limit() if q is not None else float("inf")
        if self.optimizer == "sgd" and np.isfinite(limit) and self.lr >= limit:
            hint = (f"lr {self.lr:g} is above the stability limit 2/L = {limit:.4g}; "
                    f"use an --lr below it, e.g. {0.9 * limit:.3g}")
        raise ConfigError(
            f"the path diverged: at step {self.diverged_at} the point left every finite range "
            f"(|w| > {BLOW_UP:.0e} or inf/NaN) with {self.optimizer} lr={self.lr:g}; {hint}."
        )


def follow(
    function: Function,
    optimizer: Optimizer,
    steps: int,
    start: tuple[float, float] | np.ndarray,
    *,
    step_gradient: StepGradient | None = None,
    schedule: Schedule | None = None,
    label: str = "",
) -> Path:
    """Move ``start`` for ``steps`` steps with ``optimizer`` and record everything.

    ``step_gradient`` replaces the exact gradient (SGD uses it for mini-batch estimates);
    ``schedule`` sets ``optimizer.lr`` before each step.
    """
    if steps < 0:
        raise ConfigError(f"steps must be >= 0, got {steps}.")
    hyper = optimizer.hyperparameters()
    params = {"w": np.array(start, dtype=np.float64).reshape(2)}
    points = [params["w"].copy()]
    gradients = [function.gradient_at(params["w"])]
    values = [function.value_at(params["w"])]
    given, lrs = [], []
    diverged_at = None
    for t in range(steps):
        check_time()
        g = gradients[-1] if step_gradient is None else step_gradient(params["w"], t)
        if schedule is not None:
            optimizer.lr = float(schedule(t))
        lrs.append(optimizer.lr)
        with np.errstate(all="ignore"):
            optimizer.update(params, {"w": g})
        w = params["w"]
        grad, value = function.gradient_at(w), function.value_at(w)
        if not (np.all(np.isfinite(w)) and np.linalg.norm(w) <= BLOW_UP
                and np.isfinite(value) and np.all(np.isfinite(grad))):
            diverged_at = t + 1
            lrs.pop()
            break
        given.append(np.array(g, dtype=np.float64))
        points.append(w.copy())
        gradients.append(grad)
        values.append(value)
    return Path(
        function=function, optimizer=optimizer.name, hyperparameters=hyper,
        points=np.array(points), values=np.array(values), gradients=np.array(gradients),
        step_gradients=np.array(given).reshape(-1, 2), lrs=np.array(lrs),
        requested_steps=steps, diverged_at=diverged_at,
        label=label or f"{optimizer.name} lr={hyper['lr']:g}",
    )


def descend(
    function: Function,
    optimizer: str = "sgd",
    lr: float | None = None,
    steps: int = 30,
    start: tuple[float, float] | None = None,
    *,
    schedule: Schedule | None = None,
    **hyperparameters: float,
) -> Path:
    """Full-batch descent with the named optimizer (``"sgd"`` = plain gradient descent).

    ``lr`` and ``start`` default to the function's own suggestions (for ``seed``: 0.9 and (−7, 2)).

    >>> from mlplab.landscape import FUNCTIONS, descend
    >>> path = descend(FUNCTIONS["seed"])
    >>> path.end.round(4)
    array([-4.0592,  0.0025])
    """
    lr = function.lr if lr is None else lr
    start = function.start if start is None else start
    return follow(function, make_optimizer(optimizer, lr, **hyperparameters), steps, start,
                  schedule=schedule)


def paths_csv(paths: list[Path]) -> str:
    """Every point of every path as CSV: ``path,label,step,x,y,f,grad_x,grad_y,lr`` (lr of the step
    taken *from* that point; empty at the end)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["path", "label", "step", "x", "y", "f", "grad_x", "grad_y", "lr"])
    for k, p in enumerate(paths):
        for step in range(len(p.points)):
            lr = repr(float(p.lrs[step])) if step < len(p.lrs) else ""
            writer.writerow([k, p.label, step, *(repr(float(v)) for v in p.points[step]),
                             repr(float(p.values[step])), *(repr(float(v)) for v in p.gradients[step]), lr])
    return out.getvalue()
