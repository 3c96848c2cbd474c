"""Writing a run when things go wrong: a full disk, an unwritable place, a killed writer, Ctrl-C.

A full disk is simulated by making the writer raise ``OSError(ENOSPC)`` for one file, and (as root,
where ``mount`` is permitted) tested for real on a tiny tmpfs.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mlplab.cli import main
from mlplab.errors import RunFolderError
from mlplab.train import TrainConfig, load_run, run_folder, train
from mlplab.train.layer_stats import LAYER_STATS
from mlplab.train.run_folder import (
    HISTORY,
    METRICS,
    MODEL,
    SNAPSHOTS,
    clean_stale_temp_files,
    prepare_run_dir,
)

CONFIG = TrainConfig(iters=40, eval_every=10, train_size=300, test_size=100, seed=0, hidden=(20,))
SMALL = ["--iters", "30", "--train-size", "300", "--test-size", "100", "--no-plots", "--quiet", "--seed", "0"]
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
END_FILES = (HISTORY, MODEL, METRICS, SNAPSHOTS, LAYER_STATS)


def disk_full_for(monkeypatch, *names: str) -> None:
    """Make the atomic writer fail with ENOSPC for the files ``names`` (others are written)."""
    real = run_folder.atomic_write_bytes

    def write(path, data):
        if Path(path).name in names:
            raise ENOSPC
        real(path, data)

    monkeypatch.setattr(run_folder, "atomic_write_bytes", write)


@pytest.mark.parametrize("lost", END_FILES)
def test_one_failed_write_skips_nothing_else(tmp_path, monkeypatch, lost):
    disk_full_for(monkeypatch, lost)
    with pytest.raises(RunFolderError) as caught:
        train(CONFIG, run_dir=tmp_path / "run")
    message = str(caught.value)
    assert f"{lost} (No space left on device)" in message and "free some disk space" in message
    for name in END_FILES:
        assert (tmp_path / "run" / name).is_file() == (name != lost), name
    assert not list((tmp_path / "run").glob(".*.tmp"))  # nothing half-written left behind


def test_every_failed_file_is_named(tmp_path, monkeypatch):
    disk_full_for(monkeypatch, SNAPSHOTS, LAYER_STATS, METRICS)
    with pytest.raises(RunFolderError, match=r"3 file\(s\) could not be written") as caught:
        train(CONFIG, run_dir=tmp_path / "run")
    for name in (SNAPSHOTS, LAYER_STATS, METRICS):
        assert name in str(caught.value)
    run = load_run(tmp_path / "run")  # the essential files were written and read back
    assert run.history.status == "completed" and len(run.history.loss) == 40
    stream = (tmp_path / "run" / "stream.jsonl").read_text().splitlines()
    assert json.loads(stream[-1])["event"] == "end"


def test_disk_full_while_streaming_does_not_stop_the_training(tmp_path, monkeypatch):
    from mlplab.train import observers

    class FillsUp:  # the stream file: its fourth line finds the disk full
        def __init__(self, *args, **kwargs):
            self.file, self.lines = open(*args, **kwargs), 0  # noqa: SIM115 - closed below

        def write(self, text):
            self.lines += 1
            if self.lines > 3:
                raise ENOSPC
            return self.file.write(text)

        def flush(self):
            self.file.flush()

        def close(self):
            self.file.close()

    monkeypatch.setattr(observers, "open", FillsUp, raising=False)
    with pytest.raises(RunFolderError, match=r"1 file\(s\).*stream.jsonl \(No space left on device\)"):
        train(CONFIG, run_dir=tmp_path / "run")
    run = load_run(tmp_path / "run")
    assert run.history.status == "completed" and len(run.history.loss) == CONFIG.iters
    assert len((tmp_path / "run" / "stream.jsonl").read_text().splitlines()) == 3


def test_full_disk_in_the_cli_is_one_line(tmp_path, monkeypatch):
    disk_full_for(monkeypatch, SNAPSHOTS)
    result = CliRunner().invoke(main, ["train", *SMALL, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "snapshots.npz (No space left on device)" in result.output


@pytest.fixture
def tiny_disk(tmp_path):
    """A 200 kB tmpfs (needs root and permission to mount)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_real_full_disk_keeps_history_and_model(tiny_disk):
    # 784-20-10: model.npz ≈ 60 kB fits; its snapshots and layer statistics do not all fit
    with pytest.raises(RunFolderError, match=r"could not be written.*\(No space left on device\)") as caught:
        train(CONFIG.replace(eval_every=5), run_dir=tiny_disk / "run")
    missing = [name for name in END_FILES if not (tiny_disk / "run" / name).is_file()]
    assert missing and all(f"{name} (No space left on device)" in str(caught.value) for name in missing)
    run = load_run(tiny_disk / "run")
    assert run.history.status == "completed"
    assert run.network.params["W1"].shape == (784, 20)
    assert not list((tiny_disk / "run").glob(".*.tmp"))


def test_write_test_detects_a_full_disk(tiny_disk):
    with open(tiny_disk / "filler", "wb", buffering=0) as f:  # fill the disk to the last block
        try:
            while True:
                f.write(bytes(4096))
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    (tiny_disk / "empty").write_bytes(b"")  # an empty file still succeeds on this full disk
    with pytest.raises(RunFolderError, match="No space left on device.*choose another folder with --out"):
        prepare_run_dir(tiny_disk / "run")


# -- leftovers: nothing created before the checks, stale temporary files cleaned ----------------


def test_missing_data_dir_leaves_no_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train", *SMALL, "--data-dir", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "data folder" in result.output
    assert not (tmp_path / "runs").exists()


def test_unwritable_tensorboard_leaves_no_run_folder(tmp_path, monkeypatch):
    pytest.importorskip("tensorboard")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    result = CliRunner().invoke(main, ["train", *SMALL, "--tensorboard", str(tmp_path / "file" / "tb")])
    assert result.exit_code == 2 and "--tensorboard" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "runs").exists()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_are_removed_when_the_folder_is_next_written(tmp_path):
    run = tmp_path / "run"
    (run / "figures").mkdir(parents=True)
    stale = [run / f".model.npz.{dead_pid()}.abc123.tmp", run / "figures" / f".loss.png.{dead_pid()}.x9.tmp"]
    live = run / f".history.json.{os.getppid()}.k2.tmp"  # a writer still running
    old_style = run / ".metrics.csv.q8w7e6r5.tmp"  # no pid: removed once old
    for path in [*stale, live, old_style]:
        path.write_bytes(b"half")
    hour_ago = time.time() - 2 * run_folder.STALE_TEMP_SECONDS
    os.utime(old_style, (hour_ago, hour_ago))
    train(CONFIG.replace(iters=3), run_dir=run)
    assert not any(p.exists() for p in [*stale, old_style])
    assert live.exists()
    assert clean_stale_temp_files(run) == []


def test_plot_removes_a_killed_writers_temp_file(tmp_path, monkeypatch):
    import mlplab.viz.report

    # The page without its figures: drawing them in memory (tested in test_report) has nothing to do
    # with the temp file and was four fifths of this test's time.
    monkeypatch.setattr(mlplab.viz.report, "render_images", lambda *args, **kwargs: {})
    run = tmp_path / "run"
    train(CONFIG.replace(iters=11), run_dir=run)
    (run / "figures").mkdir()
    stale = run / "figures" / f".accuracy.png.{dead_pid()}.ab12.tmp"
    stale.write_bytes(b"half a png")
    result = CliRunner().invoke(main, ["plot", str(run), "--only", "accuracy", "--no-animation"])
    assert result.exit_code == 0, result.output
    assert not stale.exists() and (run / "figures" / "accuracy.png").is_file()
    page = run / f".report.html.{dead_pid()}.cd34.tmp"
    page.write_text("<html>half")
    assert CliRunner().invoke(main, ["report", str(run)]).exit_code == 0
    assert not page.exists() and (run / "report.html").is_file()


# -- gradcheck --tolerance, Ctrl-C ------------------------------------------------------------


@pytest.mark.parametrize("tolerance", ["nan", "-1", "0", "inf", "abc"])
def test_gradcheck_refuses_a_tolerance_that_is_not_positive(tolerance):
    result = CliRunner().invoke(main, ["gradcheck", "--samples", "1", "--tolerance", tolerance])
    assert result.exit_code == 2
    assert f"must be a positive number such as 1e-6, got {tolerance!r}" in result.output


def test_ctrl_c_in_any_command_is_one_line_and_exit_130(tmp_path, monkeypatch):
    import mlplab.viz.training.run_figures

    def interrupted(run_dir):
        raise KeyboardInterrupt

    train(CONFIG.replace(iters=3), run_dir=tmp_path / "run")
    monkeypatch.setattr(mlplab.viz.training.run_figures, "load_run_data", interrupted)
    result = CliRunner().invoke(main, ["plot", str(tmp_path / "run")])
    assert result.exit_code == 130
    assert result.stderr.strip() == "Interrupted (Ctrl-C)."


def test_ctrl_c_exits_130_and_keeps_the_run(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen(
        [sys.executable, "-m", "mlplab", "train", "--iters", "10000000", "--train-size", "1000",
         "--test-size", "200", "--no-plots", "--quiet", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # a background shell ignores it
    )
    try:
        deadline = time.monotonic() + 60
        stream = out / "stream.jsonl"
        while not (stream.is_file() and '"event": "loss"' in stream.read_text()):
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr
    history = json.loads((out / HISTORY).read_text())
    assert history["status"] == "interrupted" and len(history["loss"]) >= 50
    assert (out / MODEL).is_file()
    assert np.isfinite(history["loss"]).all()
