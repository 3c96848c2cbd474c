"""Two sweeps into one folder (issue 13, item 5): the second is refused, naming the first, and deletes
nothing; a lock left behind by a dead sweep is taken over with a message."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.errors import ConfigError
from mlplab.sweep.lock import LOCK, sweep_lock

SRC = os.path.join(os.path.dirname(__file__), os.pardir, "src")
TINY = ["--iters", "20", "--train-size", "300", "--test-size", "100", "--eval-every", "10", "--hidden", "5",
        "--workers", "1", "--no-figures", "--quiet"]

HOLD = """
import sys, time
from mlplab.sweep.lock import sweep_lock
with sweep_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of ``tmp_path / "sweep"`` (as a running sweep does)."""
    folder = tmp_path / "sweep"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout.readline().strip() == "locked"
        yield folder, process
    finally:
        process.kill()
        process.wait()


def test_a_second_sweep_is_refused_and_names_the_first(holder):
    folder, process = holder
    in_progress = folder / ".partial" / "h5-sgd-lr0.1-b100-sigmoid-w0.01-s0"
    in_progress.mkdir(parents=True)
    (in_progress / "stream.jsonl").write_text("{}\n")
    result = subprocess.run([sys.executable, "-m", "mlplab", "sweep", *TINY, "--out", str(folder)],
                            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": SRC}, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(
        rf"Error: the sweep folder {re.escape(str(folder))} is in use by process {process.pid} "
        r"\(started \d\d:\d\d:\d\d\); wait for it to end, or choose another --out\.", lines[0]), lines
    assert (in_progress / "stream.jsonl").read_text() == "{}\n"  # the first sweep's run in progress is kept
    assert json.loads((folder / LOCK).read_text())["pid"] == process.pid


def test_the_library_refuses_too(holder):
    folder, process = holder
    with pytest.raises(ConfigError, match=f"in use by process {process.pid}"), sweep_lock(folder):
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid now belongs to no process
    folder = tmp_path / "sweep"
    folder.mkdir()
    (folder / LOCK).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(),
                                           "started": "2026-01-02 03:04:05"}))
    result = CliRunner().invoke(main, ["sweep", *TINY, "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert (f"note: took over the lock of {folder} left by process {dead.pid} (started 2026-01-02 03:04:05), "
            "which no longer runs.") in result.stderr
    assert "1 completed" in result.stdout
    assert not (folder / LOCK).exists()  # released at the end


def test_the_lock_is_released_and_can_be_taken_again(tmp_path):
    messages = []
    with sweep_lock(tmp_path, messages.append) as me:
        assert json.loads((tmp_path / LOCK).read_text())["pid"] == me.pid == os.getpid()
        with sweep_lock(tmp_path):  # the same thread asking again (the CLI around run_sweep) is no conflict
            pass
        assert (tmp_path / LOCK).exists()
    assert not (tmp_path / LOCK).exists()
    with sweep_lock(tmp_path, messages.append):
        pass
    assert messages == []  # nothing stale was found
