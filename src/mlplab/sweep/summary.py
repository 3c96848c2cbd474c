"""What a sweep found: one row per run (``summary.csv``) and the best configurations.

A row holds the swept settings, the seed, how the run ended and its final accuracies (those of the
saved model: the trainer evaluates it after the last iteration, so runs are ranked on what they end with)::

    name, hidden, optimizer, lr, batch_size, activation, weight_init_std, weight_decay, dropout, batchnorm,
    seed, iters, status, final_train_acc, final_test_acc, best_test_acc, final_val_acc, best_val_acc,
    iterations_done, seconds, reason

With a validation split (``--validation N``), runs are ranked on ``final_val_acc``, the accuracy on
training images held out from training; the test accuracy is reported beside it but never used to
choose (choosing on the test set would make its accuracy an optimistic estimate: book §6.5.1).

``status`` is ``completed``, or a failure: ``diverged`` (the loss became NaN/inf; the run folder
is complete and says at which iteration), ``failed`` (the run raised or its worker died; ``reason``
says how), ``interrupted``/``stopped``. ``seconds`` is the training loop's wall time.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplab.errors import RunFolderError
from mlplab.sweep.space import NAMED_ONLY_IF_SET, SWEPT, PlannedRun, format_value
from mlplab.train import run_schema
from mlplab.train.history import History
from mlplab.train.run_folder import HISTORY, atomic_write_text

COLUMNS = (
    "name", *SWEPT, "seed", "iters", "status", "final_train_acc", "final_test_acc", "best_test_acc",
    "final_val_acc", "best_val_acc", "iterations_done", "seconds", "reason",
)

Row = dict[str, Any]


def read_history(folder: Path) -> History | None:
    """The run's history, or ``None`` if the folder has none (the run never got that far) or it is damaged."""
    try:
        return run_schema.parse_history(run_schema.read_file(Path(folder) / HISTORY), HISTORY)
    except RunFolderError:
        return None


def run_row(run: PlannedRun, history: History | None, reason: str = "") -> Row:
    """One summary row from the planned settings and what the run recorded (``None``: nothing)."""
    row: Row = {"name": run.name}
    row.update({n: typed_value(n, format_value(n, run.settings[n])) for n in SWEPT})
    row.update(seed=run.config.seed, iters=run.config.iters)
    if history is None:
        row.update(status="failed", final_train_acc=None, final_test_acc=None, best_test_acc=None,
                   final_val_acc=None, best_val_acc=None, iterations_done=0, seconds=None, reason=reason)
        return row
    row.update(
        status=history.status, final_train_acc=history.final_train_acc, final_test_acc=history.final_test_acc,
        best_test_acc=max(history.test_acc) if history.test_acc else None,
        final_val_acc=history.final_val_acc, best_val_acc=max(history.val_acc) if history.val_acc else None,
        iterations_done=len(history.loss),
        seconds=round(history.seconds, 3), reason=reason or history.message,
    )
    return row


def typed_value(name: str, text: str) -> Any:
    """A cell of summary.csv back to its type: ``lr`` float, sizes int, ``hidden`` stays ``"100x50"``."""
    if name in ("name", "hidden", "optimizer", "activation", "status", "reason"):
        return text
    if text == "":
        return None
    if name in ("lr", "final_train_acc", "final_test_acc", "best_test_acc", "final_val_acc", "best_val_acc",
                "seconds", "weight_decay", "dropout"):
        return float(text)
    if name == "batchnorm":
        return text == "True"
    if name in ("batch_size", "seed", "iters", "iterations_done"):
        return int(text)
    if name == "weight_init_std":
        try:
            return float(text)
        except ValueError:
            return text
    return text


def summary_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in COLUMNS})
    return out.getvalue()


def write_summary(path: Path, rows: Iterable[Row]) -> None:
    atomic_write_text(Path(path), summary_text(rows))


def read_summary(path: str | Path) -> list[Row]:
    """``summary.csv`` read back with typed values (``None`` for empty cells)."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [{k: typed_value(k, v) for k, v in row.items()} for row in csv.DictReader(f)]
    for row in rows:  # a summary written before the ch. 6 settings and validation existed
        for name in COLUMNS:
            row.setdefault(name, NAMED_ONLY_IF_SET.get(name))
    return rows


def varied_settings(rows: Sequence[Row]) -> tuple[str, ...]:
    """The swept settings that take more than one value among ``rows``, in :data:`SWEPT` order."""
    return tuple(n for n in SWEPT if len({r[n] for r in rows}) > 1)


def ranking_metric(rows: Sequence[Row]) -> str:
    """``final_val_acc`` when every completed run has a validation accuracy, else ``final_test_acc``."""
    done = [r for r in rows if r["status"] == "completed"]
    if done and all(r.get("final_val_acc") is not None for r in done):
        return "final_val_acc"
    return "final_test_acc"


@dataclass(frozen=True)
class Ranked:
    """A configuration (all seeds of one setting combination) and its final accuracy over seeds:
    on validation (``metric == "final_val_acc"``) when the runs held images out, else on test."""

    settings: dict[str, Any]
    mean: float
    std: float  # population std over the completed seeds (0 for one seed)
    low: float
    high: float
    completed: int
    failed: int
    metric: str = "final_test_acc"
    test_mean: float = float("nan")  # mean final test accuracy: reported, never used to rank

    def label(self, varied: Sequence[str] = SWEPT) -> str:
        """``hidden 100, adam, lr 0.001`` — the settings that vary in the sweep."""
        return ", ".join(setting_label(n, self.settings[n]) for n in varied) or "the one configuration"


def setting_label(name: str, value: Any) -> str:
    """``hidden 50``, ``lr 0.1``, ``adam``, ``batch 100``, ``init he`` — a setting's value for people."""
    if name in ("optimizer", "activation"):
        return str(value)
    if name == "batchnorm":
        return "batch norm" if value else "no batch norm"
    short = {"hidden": "hidden", "lr": "lr", "batch_size": "batch", "weight_init_std": "init",
             "weight_decay": "decay", "dropout": "dropout"}[name]
    return f"{short} {value:g}" if isinstance(value, float) else f"{short} {value}"


def rank_configurations(rows: Sequence[Row]) -> list[Ranked]:
    """Every configuration, best first by mean final validation accuracy over its completed seeds
    (mean final test accuracy when the runs had no validation split: :func:`ranking_metric`).

    A configuration none of whose seeds completed comes last (it has no accuracy to rank by).
    """
    metric = ranking_metric(rows)
    groups: dict[tuple, list[Row]] = {}
    for row in rows:
        groups.setdefault(tuple(row.get(n) for n in SWEPT), []).append(row)
    ranked = []
    for key, members in groups.items():
        done = [r for r in members if r["status"] == "completed" and r[metric] is not None]
        accs = [r[metric] for r in done]
        tests = [r["final_test_acc"] for r in done if r["final_test_acc"] is not None]
        ranked.append(Ranked(
            metric=metric, test_mean=statistics.fmean(tests) if tests else float("nan"),
            settings=dict(zip(SWEPT, key, strict=True)),
            mean=statistics.fmean(accs) if accs else float("nan"),
            std=statistics.pstdev(accs) if accs else float("nan"),
            low=min(accs, default=float("nan")), high=max(accs, default=float("nan")),
            completed=len(accs), failed=len(members) - len(accs),
        ))
    return sorted(ranked, key=lambda r: (r.completed == 0, -r.mean if r.completed else 0.0))


def load_curves(out_dir: str | Path, rows: Iterable[Row]) -> dict[str, tuple[list[int], list[float]]]:
    """Test accuracy after each evaluation, per run: ``{name: (iterations, test_acc)}``."""
    curves = {}
    for row in rows:
        history = read_history(Path(out_dir) / row["name"])
        if history is not None and history.iterations:
            curves[row["name"]] = (history.iterations, history.test_acc)
    return curves
