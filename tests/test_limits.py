"""Bounds before allocation (issue 13, item 2): every value from the issue ends in one sentence that says
how much memory (or time) it needs and how much the machine has — before anything is allocated — and
the estimate itself is checked against what NumPy really allocates."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.app import AppSettings, create_app
from mlplab.cli import main
from mlplab.cli.train import duration_note
from mlplab.errors import ConfigError
from mlplab.optim import OPTIMIZERS, make_optimizer
from mlplab.sweep.space import SweepSpace
from mlplab.train import TrainConfig, limits, train
from mlplab.train.limits import OPTIMIZER_SLOTS, available_memory, parameter_count, training_memory

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

GiB = 2**30


@pytest.fixture
def eight_gib(monkeypatch):
    """A machine with 8 GiB available, whatever this one has: the tests do not depend on it."""
    monkeypatch.setattr(limits, "available_memory", lambda: 8 * GiB)


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize("args, part", [(["--hidden", "10000000"], "the evaluation chunk"),
                                        (["--batch-size", "1000000000"], "a batch of 1,000,000,000")])
def test_train_refuses_a_run_larger_than_the_memory_available(tmp_path, eight_gib, args, part):
    result = CliRunner().invoke(main, ["train", *args, "--out", str(tmp_path / "run"), "--quiet"])
    line = one_error_line(result)
    assert "needs about" in line and "but only 8.0 GiB is available" in line and part in line
    assert not (tmp_path / "run").exists()  # refused before the run folder


def test_the_memory_is_read_from_the_machine():
    available = available_memory()
    assert available is None or 0 < available < 2**50


def test_the_library_refuses_too_before_building_the_network(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 2**20)  # 1 MiB
    rng = np.random.default_rng(0)
    data = ((rng.random((50, 4)), rng.integers(0, 3, 50)), (rng.random((10, 4)), rng.integers(0, 3, 10)))
    with pytest.raises(ConfigError, match=r"hidden 100000 .* needs about .* only 1\.0 MiB is available"):
        train(TrainConfig(hidden=(100_000,), iters=1), data=data)


def test_the_estimate_covers_what_numpy_allocates_in_a_real_run():
    """tracemalloc sees every NumPy buffer: the estimate must cover the peak, and not by a silly margin."""
    rng = np.random.default_rng(0)
    n, features, classes = 3000, 784, 10
    data = ((rng.random((n, features)).astype(np.float32), rng.integers(0, classes, n)),
            (rng.random((500, features)).astype(np.float32), rng.integers(0, classes, 500)))
    config = TrainConfig(hidden=(400, 200), batch_size=1000, iters=3, optimizer="adam", seed=0, eval_every=1)
    estimate = training_memory(config, rows=(n, 500), include_data=False).total
    tracemalloc.start()
    try:
        train(config, data=data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= estimate <= 4 * peak, (peak, estimate)


def test_the_textbook_run_needs_well_under_a_gib():
    assert training_memory(TrainConfig()).total < GiB / 2


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_slots_match_the_state_each_optimizer_keeps(name):
    params = {"W": np.ones((3, 4)), "b": np.ones(4)}
    optimizer = make_optimizer(name, 0.1)
    optimizer.update(params, {k: np.full_like(v, 0.5) for k, v in params.items()})
    kept = sum(a.nbytes for slot in optimizer.state().values() if isinstance(slot, dict)
               for a in slot.values() if isinstance(a, np.ndarray))
    assert kept == OPTIMIZER_SLOTS[name] * sum(v.nbytes for v in params.values())


def test_parameter_count_is_the_textbook_networks():
    assert parameter_count((784, 50, 10)) == 784 * 50 + 50 + 50 * 10 + 10 == 39_760


def test_a_huge_iters_is_allowed_but_says_how_long_it_would_take():
    assert duration_note(TrainConfig()) is None  # the textbook run: nothing to say, nothing measured
    note = duration_note(TrainConfig(iters=10**12))
    assert note.startswith("note: 1,000,000,000,000 iterations would take about ") and " years here" in note
    assert "Ctrl-C stops the run and keeps it" in note


def test_gradcheck_refuses_a_check_that_would_take_weeks():
    line = one_error_line(CliRunner().invoke(main, ["gradcheck", "--hidden", "100000"]))
    assert "would take at least" in line and "79,500,010 parameters" in line and "--hidden 50" in line


def test_gradcheck_refuses_a_network_larger_than_the_memory(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 2**20)
    line = one_error_line(CliRunner().invoke(main, ["gradcheck", "--hidden", "100"]))
    assert "gradcheck --hidden 100 needs about" in line and "1.0 MiB is available" in line


@pytest.mark.parametrize("args, counted", [(["--seeds", "1000000000"], "1 configuration × 1,000,000,000 seeds"),
                                           (["--random", "1000000000"], "1,000,000,000 configurations × 1 seed")])
def test_sweep_counts_runs_before_building_the_plan(args, counted):
    result = CliRunner().invoke(main, ["sweep", "--plan", *args])
    line = one_error_line(result)
    assert counted in line and "at most 10,000 are allowed" in line


def test_the_library_counts_the_runs_too():
    with pytest.raises(ConfigError, match="= 20,000 runs"):
        SweepSpace(values={"lr": (0.1, 1.0)}, seeds=tuple(range(10_000)))


def test_sweep_refuses_runs_that_do_not_fit_in_memory_together(eight_gib):
    result = CliRunner().invoke(main, ["sweep", "--plan", "--hidden", "100000,50", "--workers", "2"])
    line = one_error_line(result)
    assert "largest run (hidden 100000" in line and "2 at once" in line and "fewer --workers" in line


def test_the_web_app_shares_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 2**20)
    client = TestClient(create_app(AppSettings(runs_dir=tmp_path, allowed_hosts=("testserver",))))
    response = client.post("/api/train", json={"hidden": [50], "iters": 10})
    assert response.status_code == 400
    assert "needs about" in response.json()["error"] and "1.0 MiB is available" in response.json()["error"]
    assert list(tmp_path.iterdir()) == []  # no run folder left behind


def test_a_container_limit_is_read_from_its_cgroup(tmp_path):
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "memory.current").write_text("268435456\n")
    assert limits._cgroup_room(str(tmp_path)) == 768 * 2**20
    (tmp_path / "memory.max").write_text("max\n")
    assert limits._cgroup_room(str(tmp_path)) is None
    assert limits._cgroup_room(str(tmp_path / "missing")) is None
