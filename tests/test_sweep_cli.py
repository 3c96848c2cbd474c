"""`mlplab sweep` end to end: the printed result, the figures, --plan, and one line per mistake."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.sweep import PARTIAL, SUMMARY, rank_configurations, read_summary, varied_settings

TINY = ["--iters", "50", "--train-size", "500", "--test-size", "200", "--eval-every", "25", "--activation", "relu",
        "--quiet"]


def run(args):
    return CliRunner().invoke(main, ["sweep", *args], catch_exceptions=False)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_prints_counts_and_the_best_configurations_and_draws_the_figures(tmp_path):
    out = tmp_path / "grid"
    result = run([*TINY, "--lr", "0.3,1", "--hidden", "10,20", "--seeds", "2", "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = read_summary(out / SUMMARY)
    assert len(rows) == 8 and all(r["status"] == "completed" for r in rows)
    assert f"sweep       8 runs in {out}: 8 completed, 0 diverged, 0 failed (0 already complete, 8 run now)" \
        in result.stdout
    best = rank_configurations(rows)[0]
    assert best.label(varied_settings(rows)) in result.stdout.split("best", 1)[1].splitlines()[0]
    assert f"test {best.mean:.2%} ± {best.std:.2%} over 2 seeds" in result.stdout
    for name in ("sweep_accuracy_vs_lr", "sweep_heatmap", "sweep_curves", "sweep_best"):
        assert (out / f"{name}.png").stat().st_size > 10_000
    again = run([*TINY, "--lr", "0.3,1", "--hidden", "10,20", "--seeds", "2", "--no-figures", "--out", str(out)])
    assert "(8 already complete, 0 run now)" in again.stdout and again.exit_code == 0


def test_plan_lists_the_runs_and_an_estimate_and_runs_nothing(tmp_path):
    out = tmp_path / "planned"
    result = run([*TINY, "--lr", "0.01,0.1,1", "--hidden", "20,50", "--optimizer", "sgd,adam", "--seeds", "3",
                  "--plan", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("sweep plan  2 hidden × 2 optimizer × 3 lr × 3 seeds = 36 runs, 50 iterations each")
    runs = [line for line in lines if "-s0 " in line or "-s1 " in line or "-s2 " in line]
    assert len(runs) == 36 and all("~" in line for line in runs)
    workers = os.cpu_count()
    assert any(line.startswith("estimate    ~") and f"on {workers} local worker" in line for line in lines)
    assert not out.exists()


def test_random_search_plan_is_log_uniform_and_names_its_draws():
    result = run([*TINY, "--random", "4", "--lr", "1e-4:1", "--hidden", "20:200", "--plan"])
    assert result.exit_code == 0, result.output
    assert "4 random draws × 1 seed = 4 runs" in result.stdout
    assert "0.0001:1 (log-uniform)" in result.stdout and "20:200 (uniform)" in result.stdout
    assert sum(line.strip().split()[1].startswith(("r001-", "r002-", "r003-", "r004-"))
               for line in result.stdout.splitlines() if line.strip()[:1].isdigit()) == 4


@pytest.mark.parametrize(("args", "says"), [
    (["--lr", "abc"], "--lr: 'abc' is not a positive number"),
    (["--optimizer", "sgd,foo"], "--optimizer: unknown optimizer 'foo'"),
    (["--lr", "1e-4:1"], "only a random search can sample; add --random N"),
    (["--seeds", "abc"], "'abc' is not a valid integer"),
    (["--hidden", "20", "--heatmap", "lr"], "--heatmap 'lr' needs two different settings"),
    (["--scheduler", "tcp://127.0.0.1:{port}", "--connect-timeout", "1"],
     "cannot reach a Dask scheduler at tcp://127.0.0.1:{port} within 1 s"),
    (["--scheduler", "no-port-here"], "is not a scheduler address; give tcp://HOST:PORT"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"], "--workers is for local sweeps"),
    (["--data-dir", "/nonexistent/mnist"], "data folder /nonexistent/mnist does not exist"),
])
def test_a_mistake_is_one_clear_line_and_starts_nothing(tmp_path, args, says):
    port = closed_port()
    out = tmp_path / "never"
    result = run([*TINY, *(a.format(port=port) for a in args), "--out", str(out)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says.format(port=port) in lines[0], result.stderr
    assert not out.exists()


def test_missing_out_is_one_line():
    result = run([*TINY, "--lr", "0.1"])
    assert result.exit_code == 2 and "give --out DIR" in result.stderr


def running_in_group(pgid: int) -> list[str]:
    """The processes of group ``pgid`` still running (a zombie has ended: only its exit status is left)."""
    psutil = pytest.importorskip("psutil")
    running = []
    for p in psutil.process_iter(["pid", "name", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                running.append(f"{p.pid} {p.info['name']}")
        except ProcessLookupError:
            pass  # it ended while we looked
    return running


def start_long_sweep(out) -> subprocess.Popen:
    """`mlplab sweep` of two endless runs in its own process group, as in a terminal; returned once both
    workers are training."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "sweep", "--iters", "10000000", "--train-size", "1000", "--test-size", "200",
         "--lr", "0.1,0.2", "--workers", "2", "--quiet", "--no-figures", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell ignores it
    )
    deadline = time.monotonic() + 60
    while sum('"event": "loss"' in p.read_text() for p in (out / PARTIAL).glob("*/stream.jsonl")) < 2:
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(process.communicate()[1].decode())
        time.sleep(0.1)
    return process


def assert_group_ends(pgid: int, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds  # multiprocessing's resource tracker leaves just after the sweep
    while running_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running_in_group(pgid) == []


def test_ctrl_c_stops_the_workers_at_once_and_exits_130(tmp_path):
    """Ctrl-C in a terminal signals the whole process group: the sweep and its workers."""
    process = start_long_sweep(tmp_path / "grid")
    try:
        interrupted = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert time.monotonic() - interrupted < 4  # the runs had millions of iterations to go
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr
    assert b"interrupted; finished runs are kept in" in stderr
    assert_group_ends(process.pid)  # the workers went with the sweep


def test_the_workers_end_when_the_sweep_is_killed(tmp_path):
    """``kill -9`` of the sweep's process alone: nothing stops its workers but themselves."""
    process = start_long_sweep(tmp_path / "grid")
    try:
        process.kill()
        process.wait(timeout=60)  # not communicate(): the workers hold its output pipes until they end
        assert_group_ends(process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # only if the test failed: leave no worker behind
