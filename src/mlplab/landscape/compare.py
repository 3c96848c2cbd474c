"""Optimizers side by side on one function, and the textbook's comparison as a preset.

"Deep Learning from Scratch" fig. 6-8 runs four optimizers for 30 steps on ``x**2/20 + y**2`` from
(−7, 2): SGD lr 0.95, Momentum lr 0.1, AdaGrad lr 1.5, Adam lr 0.3. ``PRESETS["textbook"]`` is that
figure; :func:`compare_optimizers` runs any list of ``(optimizer, lr)`` the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlplab.errors import ConfigError
from mlplab.landscape.functions import Function
from mlplab.landscape.paths import Path, descend
from mlplab.optim import OPTIMIZERS


@dataclass(frozen=True)
class Preset:
    function: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[tuple[str, float], ...]  # (name, lr)


PRESETS = {
    "textbook": Preset("textbook", (-7.0, 2.0), 30,
                       (("sgd", 0.95), ("momentum", 0.1), ("adagrad", 1.5), ("adam", 0.3))),
}


def parse_optimizer_list(text: str) -> tuple[tuple[str, float], ...]:
    """``"sgd:0.95,adam:0.3"`` → ``(("sgd", 0.95), ("adam", 0.3))``."""
    specs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, lr = part.partition(":")
        name = name.strip().lower()
        if name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {name!r} in {text!r}; choose from: {', '.join(OPTIMIZERS)}.")
        try:
            value = float(lr)
        except ValueError:
            raise ConfigError(f"{part!r} needs a learning rate, written name:lr, e.g. adam:0.3.") from None
        specs.append((name, value))
    if not specs:
        raise ConfigError(f"no optimizer in {text!r}; write e.g. sgd:0.95,momentum:0.1,adagrad:1.5,adam:0.3.")
    return tuple(specs)


def compare_optimizers(
    function: Function, optimizers: tuple[tuple[str, float], ...], steps: int = 30,
    start: tuple[float, float] | None = None,
) -> list[Path]:
    """One full-batch path per ``(optimizer, lr)``, all from the same start."""
    return [descend(function, name, lr, steps, start) for name, lr in optimizers]
