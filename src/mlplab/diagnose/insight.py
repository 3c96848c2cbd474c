"""One finding about a run: what is happening, the numbers that show it, and what to try.

What to try comes twice: ``suggestion``, a sentence for a person, and ``prescriptions``, the same as
settings a program can run (``{"lr": 0.71}``), computed from the run, best first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: ``error``: the run is broken (NaN loss); ``warning``: it trains badly; ``info``: worth knowing.
SEVERITIES = ("error", "warning", "info")


#: How a setting is spelled on the command line (``mlplab train --lr 0.71``).
OPTION_NAMES = {"lr": "--lr", "weight_init_std": "--weight-init-std", "activation": "--activation",
                "train_size": "--train-size", "iters": "--iters", "hidden": "--hidden"}


@dataclass(frozen=True)
class Prescription:
    """Concrete settings to change (``{"lr": 0.71}``) and ``why``: the measured numbers behind them."""

    settings: dict[str, Any]
    why: str

    def options(self) -> str:
        """The settings as ``mlplab train`` options: ``--lr 0.71 --weight-init-std he``."""
        return " ".join(f"{OPTION_NAMES[k]} {_option_value(v)}" for k, v in self.settings.items())

    def to_dict(self) -> dict[str, Any]:
        return {"settings": dict(self.settings), "why": self.why, "options": self.options()}


def _option_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Insight:
    """A rule's finding.

    ``rule`` is a stable id (``"lr-too-high"``); ``evidence`` are sentences with the numbers behind
    the finding, so a learner can check them in the figures; ``numbers`` holds the same numbers for
    programs and tests (``{"iteration": 12}``); ``suggestion`` says in words what to try, and
    ``prescriptions`` (filled in by :func:`mlplab.diagnose.prescribe.prescribe`) the settings, best
    first, at most three.
    """

    rule: str
    severity: str
    title: str
    evidence: tuple[str, ...]
    suggestion: str
    numbers: dict[str, Any] = field(default_factory=dict)
    prescriptions: tuple[Prescription, ...] = ()

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        d["prescriptions"] = [p.to_dict() for p in self.prescriptions]
        return d
