"""Local sweeps: one complete run folder per configuration, a correct summary, resuming, failures.

The runs are tiny (50 iterations on 500 images) so the whole file takes a few seconds; most of
that is starting the spawned worker processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from mlplab.errors import ConfigError
from mlplab.sweep import (
    ONE_THREAD,
    PARTIAL,
    SUMMARY,
    PlannedRun,
    RunJob,
    RunOutcome,
    SweepSpace,
    plan_runs,
    read_summary,
    run_job,
    run_local,
    run_sweep,
)
from mlplab.train import TrainConfig, load_run, train

TINY = TrainConfig(iters=50, train_size=500, test_size=200, eval_every=25, activation="relu")
DIVERGES = 1e30  # relu with this lr: the loss is inf or NaN at iteration 1, for every seed and width here
RUN_FILES = ("config.json", "history.json", "metrics.csv", "model.npz", "stream.jsonl")


def tiny_space(**values) -> SweepSpace:
    return SweepSpace(values={"lr": (0.5, DIVERGES), "hidden": ((10,), (20,)), **values}, base=TINY)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """One sweep of 2 learning rates × 2 widths (the large lr diverges), with 2 workers."""
    out = tmp_path_factory.mktemp("sweep") / "grid"
    runs = plan_runs(tiny_space())
    seen = []
    result = run_sweep(runs, out, workers=2, on_outcome=lambda outcome, row: seen.append((outcome, row)))
    return out, runs, result, seen


def test_every_configuration_has_a_complete_run_folder(grid):
    out, runs, result, _ = grid
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(r.name for r in runs)
    assert not (out / PARTIAL).exists()  # nothing left half-done
    for run in runs:
        for name in RUN_FILES:
            assert (out / run.name / name).is_file(), (run.name, name)
        loaded = load_run(out / run.name)  # the ordinary run-folder reader accepts it
        assert loaded.config == run.config
        assert loaded.history.status == ("diverged" if run.config.lr == DIVERGES else "completed")


def test_summary_ranks_the_saved_models(grid, mnist, saved_model_accuracy):
    """50 iterations, evaluations every 25: the final accuracy is measured after iteration 49, on model.npz."""
    out, runs, result, _ = grid
    (_, _), (x_test, t_test) = mnist
    for row in read_summary(out / SUMMARY):
        if row["status"] == "completed":
            assert json.loads((out / row["name"] / "history.json").read_text())["iterations"] == [0, 25, 49]
            saved = saved_model_accuracy(out / row["name"], x_test[:200], t_test[:200], "relu")
            assert row["final_test_acc"] == saved


def test_summary_rows_are_the_run_folders_numbers(grid):
    out, runs, result, seen = grid
    rows = read_summary(out / SUMMARY)
    assert rows == result.rows  # the CSV reads back to exactly what the sweep computed
    assert [r["name"] for r in rows] == [r.name for r in runs]  # plan order, whatever finished first
    for row, run in zip(rows, runs, strict=True):
        history = json.loads((out / run.name / "history.json").read_text())
        assert (row["lr"], row["hidden"], row["seed"], row["iters"]) == (run.config.lr, str(run.config.hidden[0]),
                                                                        run.config.seed, 50)
        assert row["status"] == history["status"]
        assert row["final_test_acc"] == history["test_acc"][-1]
        assert row["final_train_acc"] == history["train_acc"][-1]
        assert row["best_test_acc"] == max(history["test_acc"])
        assert row["iterations_done"] == len(history["loss"])
        assert row["seconds"] == round(history["seconds"], 3)
    assert sorted(o.name for o, _ in seen) == sorted(r.name for r in runs)  # one progress call per run


def test_a_diverging_configuration_is_recorded_as_failed_and_the_others_complete(grid):
    _, runs, result, _ = grid
    for row in result.rows:
        if row["lr"] == DIVERGES:
            assert row["status"] == "diverged"
            assert row["reason"].startswith(tuple(f"the loss became {x} at iteration 1" for x in ("inf", "nan")))
            assert row["iterations_done"] == 1
        else:
            assert row["status"] == "completed" and row["reason"] == ""
            assert row["iterations_done"] == 50
    assert result.counts() == {"completed": 2, "diverged": 2}


def test_a_sweep_run_is_bit_for_bit_the_in_process_run(grid):
    out, runs, _, _ = grid
    run = runs[0]
    alone = train(run.config)
    swept = load_run(out / run.name)
    for key, value in alone.network.params.items():
        np.testing.assert_array_equal(swept.network.params[key], value)
    assert swept.history.loss == alone.history.loss and swept.history.test_acc == alone.history.test_acc


def test_resuming_runs_nothing_twice(grid, tmp_path):
    out, runs, _, _ = grid
    stamps = {r.name: (out / r.name / "model.npz").stat().st_mtime_ns for r in runs}
    again = run_sweep(runs, out, workers=2)
    assert again.outcomes == {} and sorted(again.skipped) == sorted(stamps)  # nothing ran
    assert {r.name: (out / r.name / "model.npz").stat().st_mtime_ns for r in runs} == stamps
    assert again.rows == read_summary(out / SUMMARY)


def test_resuming_runs_exactly_the_missing_and_unfinished_runs(tmp_path):
    out = tmp_path / "sweep"
    runs = plan_runs(SweepSpace(values={"lr": (0.5, 1.0)}, seeds=(0, 1), base=TINY))
    run_sweep(runs[:2], out, workers=1)  # an earlier, partial sweep
    (out / runs[1].name / "history.json").unlink()  # as if its worker died before the end
    result = run_sweep(runs, out, workers=2)
    assert sorted(result.outcomes) == sorted(r.name for r in runs[1:])
    assert result.skipped == [runs[0].name]
    assert result.counts() == {"completed": 4}


def test_a_folder_holding_another_config_is_refused_before_anything_runs(grid, tmp_path):
    out, runs, _, _ = grid
    longer = [PlannedRun(r.name, r.settings, r.config.replace(iters=60)) for r in runs]
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(ConfigError, match=r"holds a run with iters=50 \(now 60\); use another --out"):
        run_sweep(longer, out, workers=2)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == stamps


def crash_on_lr_two(job: RunJob) -> RunOutcome:
    """A worker that is killed (as by the out-of-memory killer) when given lr=2."""
    if job.config.lr == 2.0:
        os.kill(os.getpid(), signal.SIGKILL)
    return run_job(job)


def test_a_killed_worker_and_a_raising_run_are_failed_with_their_reason_and_the_sweep_goes_on(tmp_path):
    out = tmp_path / "sweep"
    runs = plan_runs(SweepSpace(values={"lr": (0.5, 2.0, 1.0)}, base=TINY))
    bad = runs[2].config.replace(data_dir=str(tmp_path / "missing"))  # the run raises DataError
    runs[2] = PlannedRun(runs[2].name, runs[2].settings, bad)
    result = run_sweep(runs, out, workers=1, runner=crash_on_lr_two)  # one worker: the survivor must be replaced
    by_lr = {row["lr"]: row for row in result.rows}
    assert by_lr[0.5]["status"] == "completed"
    assert by_lr[2.0]["status"] == "failed"
    assert by_lr[2.0]["reason"].startswith("the worker process was killed by SIGKILL")
    assert by_lr[1.0]["status"] == "failed"
    assert by_lr[1.0]["reason"].startswith("DataError: data folder") and "missing" in by_lr[1.0]["reason"]
    assert not (out / runs[1].name).exists()  # the killed run left no folder to trust by mistake
    assert read_summary(out / SUMMARY) == result.rows
    again = run_sweep(runs, out, workers=1)  # resuming retries the failed runs only
    assert sorted(again.outcomes) == sorted(r.name for r in runs[1:])
    assert {row["lr"]: row["status"] for row in again.rows} == {0.5: "completed", 2.0: "completed", 1.0: "failed"}


def blas_report(job: RunJob) -> RunOutcome:
    """What a worker sees: its BLAS variables, the threads its BLAS libraries use, and the threads of
    the process that Python did not start (0: OpenBLAS did not even start idle helper threads).
    A job named ``die`` is killed instead."""
    import threading

    from threadpoolctl import threadpool_info

    if job.name == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    with open("/proc/self/status") as status:
        threads = next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
    report = {"env": {key: os.environ.get(key) for key in ONE_THREAD}, "pid": os.getpid(),
              "native_threads": threads - threading.active_count(),
              "blas": [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]}
    return RunOutcome(job.name, "completed", reason=json.dumps(report))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="counts the worker's threads in /proc")
def test_workers_and_their_replacements_run_with_one_blas_thread(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")  # the parent's own setting must not leak in
    outcomes = []
    jobs = [RunJob(name, TINY) for name in ("first", "die", "after")]  # "after" runs in the replacement worker
    run_local(jobs, outcomes.append, workers=1, runner=blas_report)
    reports = {o.name: json.loads(o.reason) for o in outcomes if o.status == "completed"}
    assert sorted(reports) == ["after", "first"]
    assert reports["first"]["pid"] != reports["after"]["pid"]
    for report in reports.values():
        assert report["blas"] and set(report["blas"]) == {1}, report  # NumPy's BLAS, asked how many it uses
        assert report["native_threads"] == 0, report
        assert report["env"] == {key: "1" for key in ONE_THREAD}
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"  # and the parent's environment is restored


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def killed_while_another_trains(job: RunJob) -> RunOutcome:
    """Train ``job`` after noting that it started; ``killed`` is killed (as by the out-of-memory killer)
    as soon as ``slow`` has started, and ``slow`` is still busy then."""
    marks = Path(job.folder).parent
    with open(marks / f"{job.name}.started", "a") as started:
        started.write(f"{os.getpid()}\n")
    if job.name == "killed":
        wait_for(marks / "slow.started")
        os.kill(os.getpid(), signal.SIGKILL)
    if job.name == "slow":
        wait_for(marks / "killed.started")
        time.sleep(0.5)
    return run_job(job)


def test_a_killed_worker_fails_only_its_job_and_the_others_finish_once(tmp_path):
    names = ("slow", "killed", "a", "b")
    jobs = [RunJob(name, TINY, folder=str(tmp_path / name)) for name in names]
    before = set(multiprocessing.active_children())
    outcomes: dict[str, RunOutcome] = {}
    run_local(jobs, lambda o: outcomes.setdefault(o.name, o), workers=2, runner=killed_while_another_trains)
    assert sorted(outcomes) == sorted(names)
    assert outcomes["killed"].status == "failed"
    assert outcomes["killed"].reason == ("the worker process was killed by SIGKILL while training this run "
                                         "(out of memory?); the run did not finish.")
    for name in ("slow", "a", "b"):
        history = json.loads((tmp_path / name / "history.json").read_text())
        assert outcomes[name].status == history["status"] == "completed"
        assert len(history["loss"]) == TINY.iters
    starts = {name: (tmp_path / f"{name}.started").read_text().split() for name in names}
    assert all(len(pids) == 1 for pids in starts.values()), starts  # nothing was run twice
    assert starts["slow"] != starts["killed"]
    assert set(multiprocessing.active_children()) <= before  # every worker was stopped and joined


def sleep_unless_quick(job: RunJob) -> RunOutcome:
    """``quick`` ends at once; any other job notes its pid and sleeps for a minute."""
    if job.name != "quick":
        Path(job.folder).write_text(str(os.getpid()))
        time.sleep(60)
    return RunOutcome(job.name, "completed")


def test_an_exception_in_the_sweep_stops_the_busy_workers_at_once(tmp_path):
    """The exception stands for Ctrl-C (tests/test_sweep_cli.py sends a real one to `mlplab sweep`)."""
    pid_file = tmp_path / "sleeper.pid"
    before = set(multiprocessing.active_children())

    raised = []

    def on_outcome(outcome: RunOutcome) -> None:
        wait_for(pid_file)  # the other worker is busy now
        raised.append(time.monotonic())
        raise RuntimeError("the disk is full")

    jobs = [RunJob("quick", TINY), RunJob("sleeper", TINY, folder=str(pid_file))]
    with pytest.raises(RuntimeError, match="the disk is full"):
        run_local(jobs, on_outcome, workers=2, runner=sleep_unless_quick)
    assert time.monotonic() - raised[0] < 3  # not the sleeper's 60 s
    assert set(multiprocessing.active_children()) <= before
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)  # the busy worker is gone, not only forgotten
