"""Learning-rate schedules: ``lr_t`` as a function of the step ``t = 0, 1, 2, …``.

With a constant learning rate, SGD never settles: the gradient noise keeps kicking the point, and it
hovers at a noise floor around the minimum. Shrinking ``lr_t`` shrinks the kicks (but also the
progress), which is why Robbins & Monro ask for ``Σ lr_t = ∞`` and ``Σ lr_t² < ∞``.

- ``constant``: ``lr_t = lr``
- ``step``:     ``lr_t = lr · 0.5^⌊t / every⌋`` (halve every ``every`` steps; default a quarter of the run)
- ``inv-sqrt``: ``lr_t = lr / √(t + 1)``
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlplab.errors import ConfigError

Schedule = Callable[[int], float]
SCHEDULES = ("constant", "step", "inv-sqrt")


def step_every(steps: int) -> int:
    """The default interval of the ``step`` schedule: a quarter of the run (at least 1)."""
    return max(1, steps // 4)


def make_schedule(name: str, lr: float, steps: int, *, every: int | None = None) -> Schedule:
    """The schedule ``t → lr_t`` called ``name`` for a run of ``steps`` steps starting at ``lr``."""
    if name == "constant":
        return lambda t: lr
    if name == "step":
        every = every or step_every(steps)
        return lambda t: lr * 0.5 ** (t // every)
    if name == "inv-sqrt":
        return lambda t: lr / np.sqrt(t + 1.0)
    raise ConfigError(f"unknown schedule {name!r}; choose one of: {', '.join(SCHEDULES)}.")
