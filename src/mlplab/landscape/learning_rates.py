"""A sensible learning rate for each optimizer on a given function, from the function itself.

Gradient descent and the momentum methods take steps of ``lr × gradient``, so what matters is the
curvature: along the steepest direction (Hessian eigenvalue ``λ_max``) a step is stable only while
``lr·λ_max`` stays below the optimizer's limit (:func:`~mlplab.landscape.stability.stability_limit`:
2 for SGD, ``2(1 + m)`` for momentum, ``2(1 + m)/(1 + 2m)`` for Nesterov). The proposal is
:data:`STABLE_SHARE` of that limit, with ``λ_max`` the largest eigenvalue met at the start and at
the minima (the path travels between them)::

    lr = STABLE_SHARE · limit / λ_max

AdaGrad, RMSprop and Adam divide each coordinate's step by the gradient's running size, so a step is
about ``lr`` long whatever the curvature (Adam: exactly ``lr`` on its first step). Their proposal is a
share of the function's plotting box instead — big enough to cross it in a few dozen steps, small
enough to settle in a valley — with the share of each rule given in :data:`BOX_SHARE`.
"""

from __future__ import annotations

import numpy as np

from mlplab.landscape.functions import Function
from mlplab.landscape.stability import hessian_at, stability_limit
from mlplab.optim import OPTIMIZERS, hyperparameter_defaults

#: The share of the stability limit proposed to SGD, momentum and Nesterov: half, so that the
#: steepest direction shrinks by a factor |1 − lr·λ| instead of bouncing on the edge of divergence.
STABLE_SHARE = 0.5
#: Adaptive optimizers: lr as a share of the box's longer side. RMSprop's first step is
#: lr/√(1 − ρ) = 10·lr (its average of g² starts at 0), AdaGrad's steps shrink as 1/√t.
BOX_SHARE = {"adam": 0.05, "rmsprop": 0.004, "adagrad": 0.1}


def curvature_scale(function: Function) -> float:
    """``λ_max``: the largest Hessian eigenvalue at the start and at the known minima (exact for a
    quadratic); ``nan`` when no positive curvature is found there."""
    if function.quadratic is not None:
        lam = float(np.max(function.quadratic.eigenvalues))
        return lam if lam > 0 else float("nan")
    points = [function.start, *function.minima]
    with np.errstate(all="ignore"):
        lams = [float(np.max(np.linalg.eigvalsh(hessian_at(function, np.asarray(p, float))))) for p in points]
    lams = [v for v in lams if np.isfinite(v) and v > 0]
    return max(lams) if lams else float("nan")


def proposed_lr(function: Function, optimizer: str, lam: float | None = None) -> float:
    """The learning rate proposed for ``optimizer`` on ``function`` (see the module's docstring)."""
    if optimizer in BOX_SHARE:
        (x0, x1), (y0, y1) = function.bounds
        return _round(BOX_SHARE[optimizer] * max(x1 - x0, y1 - y0))
    limit = stability_limit(optimizer, hyperparameter_defaults(optimizer))
    lam = curvature_scale(function) if lam is None else lam
    if limit is None or not np.isfinite(lam):
        return function.lr  # no curvature to go by (a plane, a maximum): the function's own default
    return _round(STABLE_SHARE * limit[0] / lam)


def proposed_lrs(function: Function) -> dict[str, float]:
    """``{optimizer: lr}`` for every optimizer of :data:`~mlplab.optim.OPTIMIZERS`."""
    lam = curvature_scale(function)
    return {name: proposed_lr(function, name, lam) for name in OPTIMIZERS}


def _round(lr: float) -> float:
    """Two significant digits: a number a learner can read and type (0.00048, not 0.000480769)."""
    return float(f"{lr:.2g}")
