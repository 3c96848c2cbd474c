"""Run a planned sweep into one folder, resumably, locally or on a Dask cluster.

The sweep folder ``DIR/`` holds

- ``DIR/<run name>/`` — one ordinary run folder per run (what ``mlplab train`` writes);
- ``DIR/summary.csv`` — one row per finished run (see :mod:`mlplab.sweep.summary`), rewritten
  after every run so it is always current;
- ``DIR/sweep.json``  — the plan: every run's name and full config;
- ``DIR/.partial/``   — runs being trained. A run folder moves to ``DIR/<name>`` only when the run
  has ended, so ``DIR/<name>`` is never half-written and a killed sweep leaves nothing to trust
  by mistake.

Resuming: a run whose ``DIR/<name>`` is complete (status ``completed`` or ``diverged`` — a diverged
run diverges again, bit for bit, so re-running it would only cost time) and whose config equals
the planned one is skipped. A failed or missing run is run again. A folder holding a *different*
config is refused rather than overwritten.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplab.errors import ConfigError, RunFolderError
from mlplab.sweep.job import FINISHED, RunJob, RunOutcome, run_job
from mlplab.sweep.local import JobRunner, run_local
from mlplab.sweep.lock import sweep_lock
from mlplab.sweep.space import PlannedRun
from mlplab.sweep.summary import Row, read_history, run_row, write_summary
from mlplab.train.config import TrainConfig
from mlplab.train.run_folder import CONFIG, HISTORY, METRICS, MODEL, atomic_write_bytes, prepare_run_dir, write_json

SUMMARY = "summary.csv"
RECORD = "sweep.json"
PARTIAL = ".partial"
REQUIRED = (CONFIG, HISTORY, METRICS, MODEL)  # snapshots.npz is absent when a run diverged at once


@dataclass
class SweepResult:
    """What :func:`run_sweep` did: the plan, what was already done, what ran now, and the rows."""

    out_dir: Path
    runs: list[PlannedRun]
    skipped: list[str]
    outcomes: dict[str, RunOutcome] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> Counter:
        """``Counter({"completed": 10, "diverged": 1, "failed": 1})`` over the summary rows."""
        return Counter(row["status"] for row in self.rows)


def folder_state(run: PlannedRun, out_dir: Path) -> str:
    """``missing``, ``complete`` (skip it) or ``incomplete`` (run it again) — or refuse a stranger.

    Raises :class:`ConfigError` when ``DIR/<name>`` is not this run's folder: no config.json, or
    a config that differs from the planned one (e.g. the same folder with another ``--iters``).
    """
    folder = out_dir / run.name
    if not folder.exists():
        return "missing"
    try:
        recorded = TrainConfig.from_dict(json.loads((folder / CONFIG).read_text()))
    except (OSError, ValueError, TypeError):
        raise ConfigError(
            f"{folder} exists but is not a run folder of this sweep (no readable {CONFIG}); "
            "move it away or choose another --out."
        ) from None
    if recorded.to_dict() != run.config.to_dict():
        diffs = [f"{k}={v!r} (now {run.config.to_dict()[k]!r})" for k, v in recorded.to_dict().items()
                 if run.config.to_dict()[k] != v]
        raise ConfigError(
            f"{folder} holds a run with {', '.join(diffs)}; use another --out for a different sweep, "
            "or delete that folder to replace it."
        )
    history = read_history(folder)
    if history is not None and history.status in FINISHED and all((folder / f).exists() for f in REQUIRED):
        return "complete"
    return "incomplete"


def split_done(runs: Sequence[PlannedRun], out_dir: str | Path) -> tuple[list[PlannedRun], list[PlannedRun]]:
    """``(to_run, already_complete)``; reads only, so it can check a sweep before anything starts."""
    out_dir = Path(out_dir)
    todo, done = [], []
    for run in runs:
        (done if folder_state(run, out_dir) == "complete" else todo).append(run)
    return todo, done


def run_sweep(
    runs: Sequence[PlannedRun],
    out_dir: str | Path,
    *,
    workers: int | None = None,
    client: Any = None,
    on_outcome: Callable[[RunOutcome, Row], None] | None = None,
    runner: JobRunner = run_job,
    on_message: Callable[[str], None] | None = None,
) -> SweepResult:
    """Run every planned run not already complete in ``out_dir``; return the rows of all ended runs.

    ``client`` (a ``dask.distributed.Client``) runs the jobs on that cluster; otherwise they run in
    ``workers`` local processes (default: the number of cores). ``on_outcome(outcome, row)`` is
    called as each run ends (progress bars). ``runner`` replaces :func:`run_job` in local workers
    (tests use it to simulate a crash). The folder is locked while the sweep runs (see
    :mod:`mlplab.sweep.lock`): a second sweep into it is refused instead of deleting this one's runs
    in progress; ``on_message`` hears about a stale lock taken over.
    """
    names = [run.name for run in runs]
    if len(set(names)) != len(names):
        raise ConfigError("two runs of this sweep have the same name; give each setting distinct values.")
    split_done(runs, out_dir)  # refuses a folder of strangers before creating anything
    out_dir = prepare_run_dir(out_dir)
    with sweep_lock(out_dir, on_message):
        return _run_locked(runs, out_dir, workers=workers, client=client, on_outcome=on_outcome, runner=runner)


def _run_locked(runs: Sequence[PlannedRun], out_dir: Path, *, workers: int | None, client: Any,
                on_outcome: Callable[[RunOutcome, Row], None] | None, runner: JobRunner) -> SweepResult:
    started = time.perf_counter()
    names = [run.name for run in runs]
    todo, done = split_done(runs, out_dir)  # again, now that no other sweep can change the folder
    partial_root = out_dir / PARTIAL
    write_json(out_dir / RECORD, {
        "runs": [{"name": r.name, "config": r.config.to_dict()} for r in runs],
        "summary": SUMMARY,
    })
    for run in todo:  # leftovers of an earlier, interrupted attempt
        shutil.rmtree(out_dir / run.name, ignore_errors=True)
        shutil.rmtree(partial_root / run.name, ignore_errors=True)

    by_name = {run.name: run for run in runs}
    rows: dict[str, Row] = {r.name: run_row(r, read_history(out_dir / r.name)) for r in done}
    result = SweepResult(out_dir=out_dir, runs=list(runs), skipped=[r.name for r in done])

    def finish(outcome: RunOutcome) -> None:
        run = by_name[outcome.name]
        folder = _settle(outcome, partial_root / run.name, out_dir / run.name)
        rows[run.name] = run_row(run, read_history(folder) if folder else None, reason=outcome.reason)
        result.outcomes[run.name] = outcome
        result.rows = [rows[n] for n in names if n in rows]
        write_summary(out_dir / SUMMARY, result.rows)
        if on_outcome is not None:
            on_outcome(outcome, rows[run.name])

    result.rows = [rows[n] for n in names if n in rows]
    write_summary(out_dir / SUMMARY, result.rows)
    try:
        if todo:
            partial_root.mkdir(exist_ok=True)
            jobs = [RunJob(r.name, r.config, folder=str(partial_root / r.name)) for r in todo]
            if client is not None:
                from mlplab.sweep.distributed import run_dask

                run_dask(jobs, finish, client=client)
            else:
                n_workers = min(workers or os.cpu_count() or 1, len(jobs))
                run_local(jobs, finish, workers=n_workers, runner=runner)
    finally:
        result.seconds = time.perf_counter() - started
        _remove_if_empty(partial_root)
    return result


def _settle(outcome: RunOutcome, partial: Path, final: Path) -> Path | None:
    """Move an ended run's folder into place; return it, or ``None`` when the run left no history."""
    if outcome.files is not None:  # trained on a Dask worker: write the files it sent back
        try:
            partial.mkdir(parents=True, exist_ok=True)
            for name, data in outcome.files.items():
                atomic_write_bytes(partial / Path(name).name, data)
        except OSError as exc:
            raise RunFolderError(f"cannot write {partial} ({exc.strerror}); free some disk space and resume.") from None
    if not (partial / HISTORY).exists():
        shutil.rmtree(partial, ignore_errors=True)
        return None
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
    return final


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # missing, or holds the runs of an interrupted sweep (cleared when it resumes)
