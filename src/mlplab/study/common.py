"""What every ch. 6 study shares: train several settings on the same seed, and a record of the numbers.

A study compares settings that differ in one thing only. All its runs use one seed, so they draw
the same mini-batches in the same order, and their initial weights are the same standard-normal
draws (scaled by each run's ``weight_init_std``): any difference in the curves comes from the
setting, not from luck. Each run is an ordinary run folder (``<study>/runs/<label>``), so
``mlplab plot``, ``mlplab plot … --overlay`` and the web app work on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.run_folder import atomic_write_text, prepare_run_dir
from mlplab.train.trainer import Dataset, load_dataset, train

#: The statement every study page and report makes about how its runs compare.
SAME_SEED_NOTE = ("All runs of this study share one seed: the same mini-batches in the same order and the "
                  "same standard-normal draws for the initial weights (scaled by each run's std), so the "
                  "curves differ only by the setting compared.")

STUDY_JSON = "study.json"


@dataclass
class StudyResult:
    """A finished study: its runs' histories (label → :class:`History`), the numbers it reports,
    the book's numbers for the same quantities, and study-specific data for the figures."""

    name: str
    folder: Path
    quick: bool
    histories: dict[str, History] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)
    book: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # arrays for the figures (not written to JSON)

    def write(self) -> Path:
        """``study.json``: name, mode, the numbers beside the book's, the run folders."""
        record = {"study": self.name, "quick": self.quick, "note": SAME_SEED_NOTE, "numbers": self.numbers,
                  "book": self.book, "runs": {label: str(run_folder(self.folder, label)) for label in self.histories}}
        path = self.folder / STUDY_JSON
        atomic_write_text(path, json.dumps(record, indent=2) + "\n")
        return path


def slug(label: str) -> str:
    """A folder name for a run label: ``"weight decay 0.1"`` → ``weight-decay-0.1``."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-").lower() or "run"


def run_folder(folder: Path, label: str) -> Path:
    return Path(folder) / "runs" / slug(label)


def train_settings(configs: Mapping[str, TrainConfig], folder: Path, data: Dataset | None = None,
                   ) -> dict[str, History]:
    """Train every ``label → config`` (they should share a seed) into ``folder/runs/<label>``.

    ``data`` defaults to MNIST cut as the first config says; it is loaded once for all runs.
    """
    folder = prepare_run_dir(folder)
    if data is None:
        data = load_dataset(next(iter(configs.values())))
    histories = {}
    for label, config in configs.items():
        result = train(config, data=data, run_dir=run_folder(folder, label), record_layer_stats=False)
        histories[label] = result.history
    return histories


def epochs_of(history: History, iters_per_epoch: int) -> list[float]:
    """The evaluation points in epochs (iteration / iterations per epoch)."""
    return [i / iters_per_epoch for i in history.iterations]
