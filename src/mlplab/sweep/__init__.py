"""Sweeps: many runs over a grid or a random draw of settings, locally or on a Dask cluster.

    space = SweepSpace(values={"lr": (0.01, 0.1, 1.0), "hidden": ((20,), (50,))},
                       seeds=(0, 1, 2), base=TrainConfig(iters=2000))
    result = run_sweep(plan_runs(space), "runs/lr-study", workers=2)
    rank_configurations(result.rows)[0]      # the best configuration, mean over seeds

Every run is an ordinary run folder, so every figure, the report and the web app work on it.
"""

from mlplab.sweep.estimate import estimate_runs, wall_seconds
from mlplab.sweep.job import RunJob, RunOutcome, run_job
from mlplab.sweep.local import ONE_THREAD, run_local
from mlplab.sweep.runner import PARTIAL, RECORD, SUMMARY, SweepResult, folder_state, run_sweep, split_done
from mlplab.sweep.space import (
    SWEPT,
    IntRange,
    LogRange,
    PlannedRun,
    SweepSpace,
    format_value,
    parse_values,
    plan_runs,
    run_name,
)
from mlplab.sweep.summary import (
    COLUMNS,
    Ranked,
    load_curves,
    rank_configurations,
    read_summary,
    varied_settings,
    write_summary,
)

__all__ = [
    "COLUMNS",
    "ONE_THREAD",
    "PARTIAL",
    "RECORD",
    "SUMMARY",
    "SWEPT",
    "IntRange",
    "LogRange",
    "PlannedRun",
    "Ranked",
    "RunJob",
    "RunOutcome",
    "SweepResult",
    "SweepSpace",
    "estimate_runs",
    "folder_state",
    "format_value",
    "load_curves",
    "parse_values",
    "plan_runs",
    "rank_configurations",
    "read_summary",
    "run_job",
    "run_local",
    "run_name",
    "run_sweep",
    "split_done",
    "varied_settings",
    "wall_seconds",
    "write_summary",
]
