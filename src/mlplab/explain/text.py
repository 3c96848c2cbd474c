"""The terminal view of ``mlplab explain``: each stage's name, shape, formula, a readable sample of its
numbers and its check. Every number is in the ``--json`` file; here a vector of up to 10 values is
shown whole, a larger array by its range and its largest entries (with their indices, so that
``∂L/∂W1[412, 7]`` can be found on the web page and in the JSON).
"""

from __future__ import annotations

import numpy as np

from mlplab.explain.run import RunExplanation
from mlplab.explain.stages import Explanation, Stage

#: A check at or above this is flagged (STYLE.md: relative error < 1e-6 in float64).
CHECK_TOLERANCE = 1e-6
#: Vectors up to this size are printed whole.
SHOW_ALL = 10


def number(v: float) -> str:
    """4 significant digits, e.g. ``0.5294``, ``-0.006372``, ``1.2e-05``."""
    return f"{float(v):.4g}"


def sample(value: np.ndarray, *, largest: int = 3) -> str:
    """A one-line sample of ``value``: all of it when small, else its range and its largest entries."""
    value = np.asarray(value)
    if value.ndim == 0:
        return number(value)
    flat = value.reshape(-1)
    if flat.size <= SHOW_ALL:
        return "[" + ", ".join(number(v) for v in flat) + "]"
    order = np.argsort(-np.abs(flat), kind="stable")[:largest]
    top = ", ".join(f"[{', '.join(str(int(i)) for i in np.unravel_index(k, value.shape))}] {number(flat[k])}"
                    for k in order)
    nonzero = int(np.count_nonzero(flat))
    zeros = "" if nonzero == flat.size else f"; {nonzero:,} of {flat.size:,} not 0"
    return f"min {number(flat.min())}, max {number(flat.max())}; largest |·| at {top}{zeros}"


def _check(stage: Stage) -> str:
    if stage.check is None:
        return "—"
    flag = "" if stage.check < CHECK_TOLERANCE else "  ← above 1e-6!"
    return f"{stage.check:.1e}{flag}"


def _stage_lines(stage: Stage, width: int) -> list[str]:
    shape = "(" + ", ".join(str(s) for s in stage.shape) + ("," if len(stage.shape) == 1 else "") + ")"
    head = f"  {stage.name:<9} {shape:<11} {stage.formula}"
    return [f"{head:<{width}}check {_check(stage)}", f"  {'':<9} {'':<11} {sample(stage.value)}"]


def explanation_lines(e: Explanation, width: int = 74) -> list[str]:
    """The stages, the SGD step and a verdict on the checks, as lines of text."""
    t = e.label
    y_t = float(e.stage("y").value.reshape(-1)[t])
    lines = [f"label t = {t}   prediction {e.prediction} (y[{e.prediction}] = "
             f"{number(e.stage('y').value.reshape(-1)[e.prediction])})   "
             f"L = −log y[{t}] = −log {number(y_t)} = {number(e.loss)}", "",
             "FORWARD   (check: the layer's backward against central differences of its forward)"]
    for stage in e.forward:
        lines += _stage_lines(stage, width)
    lines += ["", "BACKWARD  (check: against central differences of L itself)"]
    for stage in e.backward:
        lines += _stage_lines(stage, width)
    lines += ["", f"ONE SGD STEP on this image: W ← W − lr·∂L/∂W with lr = {e.lr:g}",
              f"  loss on this image {number(e.loss)} → {number(e.loss_after)}"]
    worst = max(e.checks.values(), default=0.0)
    verdict = "all below 1e-6" if worst < CHECK_TOLERANCE else "NOT all below 1e-6"
    lines += ["", f"{len(e.checks)} numerical checks (float64, central differences with h = {e.h:g}): "
              f"{verdict}; the largest relative error is {worst:.1e}."]
    return lines


def run_explanation_lines(r: RunExplanation) -> list[str]:
    """The heading (run, image, weights) and :func:`explanation_lines`."""
    return [f"run {r.run} · {r.network} · test image #{r.index} of {r.n_test} · weights: {r.weights}",
            *explanation_lines(r.explanation)]
