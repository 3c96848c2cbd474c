"""One finding about a run: what is happening, the numbers that show it, and what to try."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: ``error``: the run is broken (NaN loss); ``warning``: it trains badly; ``info``: worth knowing.
SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Insight:
    """A rule's finding.

    ``rule`` is a stable id (``"lr-too-high"``); ``evidence`` are sentences with the numbers behind
    the finding, so a learner can check them in the figures; ``numbers`` holds the same numbers for
    programs and tests (``{"iteration": 12}``); ``suggestion`` is one concrete thing to try.
    """

    rule: str
    severity: str
    title: str
    evidence: tuple[str, ...]
    suggestion: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence"] = list(self.evidence)
        return d
