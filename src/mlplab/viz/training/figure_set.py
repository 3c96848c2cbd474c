"""Where a run's figures go and what a drawing wrote: plain records, no matplotlib behind them, so
the process that trained can read them without importing the drawing code."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

FIGURES_DIR = "figures"


@dataclass
class FigureSet:
    """What :func:`~mlplab.viz.training.run_figures.draw_run` wrote: ``paths[name]`` (one per format),
    what it skipped and why."""

    folder: Path
    paths: dict[str, list[Path]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0  # wall time
    cpu_seconds: float = 0.0  # CPU time of this process's drawing and of the worker processes
    worker_cpu_seconds: float = 0.0  # the worker processes' part of it
    processes: int = 1  # how many drew: this one and the workers
    started_early: bool = False  # the workers were started with the training (and drew while it ran)

    def png(self, name: str) -> Path | None:
        return next((p for p in self.paths.get(name, []) if p.suffix == ".png"), None)

    @property
    def n_files(self) -> int:
        return sum(len(v) for v in self.paths.values())


def figures_dir(run_dir: str | os.PathLike, at_eval: int | None = None) -> Path:
    """``RUN/figures`` for the final state, ``RUN/figures/eval_05`` for evaluation 5."""
    base = Path(run_dir) / FIGURES_DIR
    return base if at_eval is None else base / f"eval_{at_eval:02d}"
