"""The processes that draw a run's figures: how the work is shared, what a process has ready, and
that drawing there writes the same bytes as drawing here."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from mlplab.train import TrainConfig, train
from mlplab.viz.training import drawing_processes
from mlplab.viz.training.drawing_processes import (
    COST,
    PROCESS_START,
    DrawingProcesses,
    default_workers,
    split_jobs,
)
from mlplab.viz.training.run_figures import ANIMATION, FIGURES, draw_run

SRC = Path(__file__).resolve().parents[1] / "src"  # this tree's code, in a subprocess too

ALL_JOBS = [*FIGURES, ANIMATION]


def test_every_job_has_a_measured_cost():
    assert set(COST) == set(ALL_JOBS)


def test_jobs_are_shared_by_cost_and_one_forward_pass_serves_three_figures():
    mine, theirs = split_jobs(ALL_JOBS, [0.0, PROCESS_START])
    assert sorted(mine + theirs) == sorted(ALL_JOBS)
    finish = sum(COST[j] for j in mine), PROCESS_START + sum(COST[j] for j in theirs)
    assert abs(finish[0] - finish[1]) <= max(COST.values())  # neither waits long for the other
    together = next(group for group in (mine, theirs) if "confusion" in group)
    assert {"mistakes", "predictions"} <= set(together)


def test_processes_that_are_ready_draw_everything_and_this_one_nothing():
    mine, *theirs = split_jobs(ALL_JOBS, [float("inf"), 0.0, 0.0])
    assert mine == []
    assert sorted(theirs[0] + theirs[1]) == sorted(ALL_JOBS)
    assert theirs[0] and theirs[1]


def test_a_small_set_is_drawn_in_one_process():
    assert split_jobs(["accuracy"], [0.0, PROCESS_START]) == [["accuracy"], []]
    assert default_workers(["accuracy", "loss"]) == 1


@pytest.mark.parametrize(("idle", "expected"), [(2.0, 2), (1.6, 2), (1.2, 1), (0.0, 1)])
def test_a_second_process_only_when_two_cores_are_idle(monkeypatch, idle, expected):
    monkeypatch.setattr(drawing_processes, "idle_cores", lambda **_: idle)
    assert default_workers(ALL_JOBS) == expected


def test_no_process_is_started_for_a_training_on_a_busy_machine(monkeypatch):
    monkeypatch.setattr(drawing_processes, "idle_cores", lambda **_: 1.0)
    assert drawing_processes.drawing_for_training() is None


def test_idle_cores_are_measured_not_guessed():
    """While this process sleeps, a process that spins takes one core: the measure sees it."""
    import subprocess

    cores = len(os.sched_getaffinity(0))
    # the most idle of two windows without the spinner, the least idle of two with it: the other
    # tests running beside this one (xdist) then cannot hide the spinner's core, and a measure that
    # did not see it would still give two numbers alike
    quiet = max(drawing_processes.idle_cores(0.2) for _ in range(2))
    assert 0.0 <= quiet <= cores + 1e-9
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        busy = min(drawing_processes.idle_cores(0.2) for _ in range(2))
    finally:
        spinner.kill()
        spinner.wait()
    assert busy <= quiet - 0.5 or quiet < 1.0  # one core less (unless the machine was full already)


def test_idle_cores_since_a_sample_do_not_count_this_processs_own_work(monkeypatch):
    """Two cores for 1 s (200 ticks at 100 Hz): 120 busy ticks, of which this process spent 0.8 s
    (80 ticks) loading data. Other programs used 40 ticks, a fifth of a core each second: 1.6 idle."""
    hz = os.sysconf("SC_CLK_TCK")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    before = drawing_processes.CpuSample(machine=[0, 0, 0, 0, 0], own=10.0, wall=time.perf_counter() - 5)
    busy, idle = 1.2 * hz, 0.8 * hz  # user ticks, idle ticks over the second
    monkeypatch.setattr(drawing_processes, "_cpu_times", lambda: [int(busy), 0, 0, int(idle), 0])
    monkeypatch.setattr(time, "process_time", lambda: 10.8)
    assert drawing_processes.idle_cores(since=before) == pytest.approx(2 * (0.8 + 0.8) / 2.0)


def test_idle_cores_since_a_sample_sleep_only_what_the_window_lacks(monkeypatch):
    slept = []
    monkeypatch.setattr(time, "sleep", slept.append)
    drawing_processes.idle_cores(0.1, since=drawing_processes.CpuSample(None, 0.0, time.perf_counter() - 1.0))
    assert slept == []  # a 1 s window (the data loading) needs no top-up
    drawing_processes.idle_cores(0.1, since=drawing_processes.cpu_sample())
    assert len(slept) == 1 and 0.05 < slept[0] <= 0.1


def _what_this_process_has() -> tuple[bool, int, int]:
    from threadpoolctl import threadpool_info

    return ("matplotlib.pyplot" in sys.modules, max(info["num_threads"] for info in threadpool_info()),
            os.getpriority(os.PRIO_PROCESS, 0))


def test_a_drawing_process_is_ready_before_it_is_asked_uses_one_blas_thread_and_steps_back():
    with DrawingProcesses(1) as processes:
        assert processes.ready_cpu_seconds() > 0
        imported, threads, niceness = processes.submit(_what_this_process_has).result()
    assert imported  # matplotlib was imported while getting ready, not when the first figure is asked for
    assert threads == 1
    assert niceness == min(os.getpriority(os.PRIO_PROCESS, 0) + drawing_processes.NICENESS, 19)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    train(TrainConfig(iters=120, train_size=1000, test_size=1000, eval_every=40, seed=0), run_dir=run_dir)
    return run_dir


def test_processes_started_before_the_drawing_write_the_same_bytes(tiny_run, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy, ignore=shutil.ignore_patterns("figures"))
    names = ("accuracy", "loss", "hidden_units", "confusion", "mistakes")
    here = draw_run(tiny_run, names=names, workers=1)
    with DrawingProcesses(2) as processes:
        there = draw_run(copy, names=names, processes=processes)
    assert list(there.paths) == list(here.paths) == [*names, ANIMATION]
    for name in here.paths:
        assert there.paths[name][0].read_bytes() == here.paths[name][0].read_bytes(), name
    assert there.skipped == here.skipped == {}
    assert there.worker_cpu_seconds > 0


def test_the_gradient_check_is_drawn_while_training_and_collected_not_redrawn(tmp_path):
    from mlplab.viz.training.drawing_processes import DrawWhileTraining

    config = TrainConfig(iters=120, train_size=1000, test_size=1000, eval_every=40, seed=0)
    with DrawingProcesses(1) as processes:
        early = DrawWhileTraining(processes, "dark", ("png",))
        train(config, run_dir=tmp_path / "run", observers=[early])
        paths, skipped, _ = early.future.result()  # drawn from config.json alone, as the run started
        assert skipped == {} and [p.name for p in paths["gradcheck"]] == ["gradcheck.png"]
        written = paths["gradcheck"][0].stat().st_mtime_ns
        figures = draw_run(tmp_path / "run", names=("gradcheck", "accuracy"), processes=processes,
                           drawn_at_start=early.future)
    assert list(figures.paths) == ["accuracy", "gradcheck", ANIMATION] or set(figures.paths) == {
        "accuracy", "gradcheck", ANIMATION}
    assert figures.paths["gradcheck"][0].stat().st_mtime_ns == written  # collected, not drawn again
    # and it is the picture a single process draws for the run
    shutil.copytree(tmp_path / "run", tmp_path / "copy", ignore=shutil.ignore_patterns("figures"))
    here = draw_run(tmp_path / "copy", names=("gradcheck",), animation=False, workers=1)
    assert here.paths["gradcheck"][0].read_bytes() == figures.paths["gradcheck"][0].read_bytes()


def test_reading_the_test_set_ahead_leaves_its_files_in_the_process_cache(tiny_run):
    """What a drawing process does while the run trains: afterwards the figures' load reads no file."""
    from mlplab.data import mnist
    from mlplab.train.run_folder import load_run
    from mlplab.train.trainer import load_test_set
    from mlplab.viz.training.run_figures import read_test_set

    mnist._read_checked.cache_clear()
    read_test_set(tiny_run)
    assert mnist._read_checked.cache_info().misses == 2  # the test images and labels, nothing else
    x, t = load_test_set(load_run(tiny_run).config)
    assert mnist._read_checked.cache_info().misses == 2 and x.shape == (1000, 784) and t.shape == (1000,)


def test_the_process_that_hands_out_the_figures_and_writes_the_report_never_loads_pyplot(tmp_path):
    """The training process only hands the figures to the drawing processes and writes the report:
    importing matplotlib.pyplot there would cost it 0.3 CPU-s while they draw."""
    import subprocess

    script = tmp_path / "hand_out.py"
    script.write_text(
        "import sys\n"
        "from mlplab.train import TrainConfig, train\n"
        "from mlplab.viz.report import draw_run_and_report\n"
        "from mlplab.viz.training.drawing_processes import DrawingProcesses, DrawWhileTraining\n"
        "if __name__ == '__main__':\n"
        f"    run = {str(tmp_path / 'run')!r}\n"
        "    with DrawingProcesses(1) as processes:\n"
        "        early = DrawWhileTraining(processes, 'dark', ('png',))\n"
        "        config = TrainConfig(iters=60, train_size=500, test_size=500, eval_every=30, seed=0)\n"
        "        train(config, run_dir=run, observers=[early])\n"
        "        figures, page = draw_run_and_report(run, drawing=early)\n"
        "    print(len(figures.paths), figures.skipped, page.is_file(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["12", "{}", "True", "False"]


def test_units_keep_the_forward_pass_bundle_together_and_come_costliest_first():
    units = drawing_processes.job_units(ALL_JOBS)
    assert sorted(j for u in units for j in u) == sorted(ALL_JOBS)
    bundle = [u for u in units if "confusion" in u]
    assert bundle == [["confusion", "mistakes", "predictions"]]
    costs = [sum(drawing_processes.cost(j) for j in u) for u in units]
    assert costs == sorted(costs, reverse=True)


def test_a_drawing_process_reads_a_run_once_and_again_when_a_file_changes(tiny_run, monkeypatch):
    from mlplab.viz.training import run_figures

    reads = []
    real = run_figures.load_run_data
    monkeypatch.setattr(run_figures, "load_run_data", lambda d: reads.append(d) or real(d))
    run_figures._LAST_READ.clear()
    first = run_figures._run_data_here(tiny_run)
    assert run_figures._run_data_here(tiny_run) is first and len(reads) == 1
    history = tiny_run / "history.json"
    history.write_text(history.read_text() + " ")  # a changed file: read again, not the stale copy
    assert run_figures._run_data_here(tiny_run) is not first and len(reads) == 2
