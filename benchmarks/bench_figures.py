"""Benchmark: what each job at the end of ``mlplab train`` costs, in CPU-seconds of a warm process.

These are the numbers behind :data:`mlplab.viz.training.drawing_processes.COST`, the table that
shares the figures between the drawing processes; rerun this after changing a figure and update the
table if a job moved by more than a tenth of a second. The report's text (the diagnosis and
backprop, step by step) is measured too: it is computed beside the drawing.

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (users' machines do not set them):
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_figures.py [RUN_DIR] [--repeat 3]``.
Without RUN_DIR it trains the default run (seed 0, no figures) into a temporary folder first.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("agg")

from mlplab.train import TrainConfig, train  # noqa: E402
from mlplab.viz.report import report_sections  # noqa: E402
from mlplab.viz.training.drawing_processes import COST, _get_ready  # noqa: E402
from mlplab.viz.training.run_figures import ANIMATION, FIGURES, draw_run, load_run_data  # noqa: E402


def job_seconds(run_dir: Path, job: str, repeat: int) -> float:
    """The least CPU time of ``repeat`` drawings of one job (other programs only ever add to it)."""
    data = load_run_data(run_dir)
    best = float("inf")
    for _ in range(repeat):
        data._probabilities.clear()  # each drawing pays for its own forward pass, as in a fresh process
        started = time.process_time()
        if job == "report_text":
            report_sections(run_dir, data)
        else:
            draw_run(run_dir, names=[job] if job in FIGURES else [], animation=job == ANIMATION, data=data)
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    unset = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    if unset:
        print(f"warning: {', '.join(unset)} set; users' machines do not set them (run with env -u ...)")
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus")
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = args.run_dir
        if run_dir is None:
            run_dir = Path(tmp) / "run"
            train(TrainConfig(seed=0), run_dir=run_dir)
        _get_ready()  # as a drawing process is when its first job comes
        rows = [(job, job_seconds(run_dir, job, args.repeat)) for job in (*FIGURES, ANIMATION, "report_text")]
    print(f"\n{'job':24s} {'CPU-s':>6s} {'table':>6s}")
    for job, seconds in sorted(rows, key=lambda r: -r[1]):
        table = COST.get(job)
        print(f"{job:24s} {seconds:6.2f} {'' if table is None else f'{table:6.2f}'}")
    print(f"{'all':24s} {sum(s for _, s in rows):6.2f}")


if __name__ == "__main__":
    main()
