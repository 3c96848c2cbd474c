"""A sweep on a real Dask cluster: a scheduler and two workers started as separate processes with
the ``dask scheduler`` / ``dask worker`` commands on 127.0.0.1. Its run folders must equal, bit for
bit, those of the same sweep run locally (only wall-clock times may differ)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.sweep import SUMMARY, SweepSpace, plan_runs, read_summary, run_sweep
from mlplab.train import TrainConfig

pytest.importorskip("dask.distributed")

DASK = Path(sys.executable).with_name("dask")
ARGS = ["--iters", "50", "--train-size", "500", "--test-size", "200", "--eval-every", "25", "--activation", "relu",
        "--lr", "0.5,1e30", "--hidden", "10,20", "--seeds", "2", "--quiet", "--no-figures"]
TIMING = {"seconds", "eval_seconds"}  # wall-clock fields: the only ones allowed to differ


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """``tcp://127.0.0.1:PORT`` of a scheduler with two one-thread workers, each its own process."""
    if not DASK.exists():
        pytest.skip(f"no dask command next to {sys.executable}")
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "wb")  # noqa: SIM115 - closed at teardown
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    processes = [subprocess.Popen([str(DASK), "scheduler", "--scheduler-file", str(address_file), "--port", "0",
                                   *common], stdout=log, stderr=subprocess.STDOUT)]
    try:
        address = _wait_for_address(address_file, processes[0])
        for k in range(2):
            processes.append(subprocess.Popen(
                [str(DASK), "worker", address, "--nthreads", "1", "--name", f"worker-{k}",
                 "--local-directory", str(folder), *common], stdout=log, stderr=subprocess.STDOUT))
        from dask.distributed import Client

        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):  # workers first, then the scheduler
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def _wait_for_address(path: Path, process: subprocess.Popen, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with code {process.returncode}")
        try:
            return json.loads(path.read_text())["address"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    raise RuntimeError("dask scheduler did not write its address in time")


def _without_timing(record):
    if isinstance(record, dict):
        return {k: _without_timing(v) for k, v in record.items() if k not in TIMING}
    return record


def test_a_dask_sweep_equals_the_local_sweep_bit_for_bit(scheduler, tmp_path):
    on_dask, local = tmp_path / "dask", tmp_path / "local"
    result = CliRunner().invoke(main, ["sweep", *ARGS, "--scheduler", scheduler, "--out", str(on_dask)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "8 runs in" in result.stdout and "4 completed, 4 diverged, 0 failed" in result.stdout
    assert CliRunner().invoke(main, ["sweep", *ARGS, "--workers", "2", "--out", str(local)]).exit_code == 0

    dask_rows, local_rows = read_summary(on_dask / SUMMARY), read_summary(local / SUMMARY)
    assert [_without_timing(r) for r in dask_rows] == [_without_timing(r) for r in local_rows]
    for row in local_rows:
        a, b = on_dask / row["name"], local / row["name"]
        assert sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir())
        assert json.loads((a / "config.json").read_text()) == json.loads((b / "config.json").read_text())
        assert _without_timing(json.loads((a / "history.json").read_text())) == \
            _without_timing(json.loads((b / "history.json").read_text()))
        for name in ("model.npz", "snapshots.npz"):
            if (b / name).exists():
                with np.load(a / name) as x, np.load(b / name) as y:
                    assert x.files == y.files
                    for key in x.files:
                        np.testing.assert_array_equal(x[key], y[key], err_msg=f"{row['name']}/{name}:{key}")


def test_both_dask_workers_train_and_the_files_come_back(scheduler, tmp_path):
    from mlplab.sweep.distributed import connect

    # evaluated at 0, 25 and 49, as the sweeps above (once per epoch, every 5 iterations of 500 images, was 11
    # evaluations a run with their layer statistics, for a test of where the runs go and what comes back)
    runs = plan_runs(SweepSpace(values={"lr": (0.3, 0.5, 1.0)}, seeds=(0, 1),
                                base=TrainConfig(iters=50, train_size=500, test_size=200, eval_every=25,
                                                 activation="relu")))
    client = connect(scheduler, timeout=10)
    try:
        result = run_sweep(runs, tmp_path / "sweep", client=client)
    finally:
        client.close()
    assert result.counts() == {"completed": 6}
    assert len({o.worker for o in result.outcomes.values()}) == 2  # two worker processes shared the runs
    for run in runs:  # the bytes shipped back became ordinary run folders on this machine
        assert (tmp_path / "sweep" / run.name / "model.npz").is_file()
        assert (tmp_path / "sweep" / run.name / "stream.jsonl").read_text().count('"event": "end"') == 1
