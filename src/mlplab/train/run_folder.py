"""The run folder: the one contract between training, pictures, report, web app and exports.

A run folder holds

- ``config.json``   – the :class:`TrainConfig` (with the seed actually used) and the network sizes;
- ``history.json``  – the :class:`History` (``iterations``, ``train_acc``, ``test_acc``, ``loss``, …);
- ``metrics.csv``   – one row per evaluation;
- ``model.npz``     – the final parameters ``W1, b1, …``;
- ``snapshots.npz`` – every parameter at every evaluation, as float16 (for replays and animations);
- ``stream.jsonl``  – events appended while training, so a live viewer can follow a run;
- ``layer_stats.json`` – per-layer norms, update ratios, activation statistics and histograms at
  every evaluation (:mod:`mlplab.train.layer_stats`, read by :mod:`mlplab.diagnose`);
- ``figures/`` and ``report.html`` – drawn afterwards by :mod:`mlplab.viz` from the files above.

Files are written atomically (to a temporary name, then renamed), so a reader never sees half a file.
A temporary file left by a killed process is removed the next time the folder is written
(:func:`clean_stale_temp_files`). At the end of a run the essential files come first and each is
written on its own (:func:`save_results`): a full disk may cost the snapshots, never the history.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import RunFolderError
from mlplab.nn.networks import LayerNet, network_from_params
from mlplab.train import run_schema
from mlplab.train.config import TrainConfig
from mlplab.train.history import History

CONFIG = "config.json"
HISTORY = "history.json"
METRICS = "metrics.csv"
MODEL = "model.npz"
SNAPSHOTS = "snapshots.npz"
STREAM = "stream.jsonl"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one.

    The temporary name ``.<name>.<pid>.<random>.tmp`` carries the writer's process id, so a later
    writer can tell a dead process's leftover from a file another process is writing right now.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # a full disk may only say so here, not at write()
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: ``.<name>.<pid>.<random>.tmp``: a temporary file of :func:`atomic_write_bytes`.
TEMP_NAME = re.compile(r"\..+\.(\d+)\.[^.]+\.tmp")
#: A temporary file without a process id (older mlplab) counts as stale after this many seconds.
STALE_TEMP_SECONDS = 3600.0


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def clean_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files a killed writer left in ``folder`` and its ``figures/``; return them.

    A file whose writer process is still alive is kept (it is being written now).
    """
    removed = []
    for directory in (Path(folder), Path(folder) / "figures"):
        try:
            candidates = [p for p in directory.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
        except OSError:
            continue
        for temp in candidates:
            match = TEMP_NAME.fullmatch(temp.name)
            try:
                if match:
                    stale = int(match.group(1)) != os.getpid() and not _process_alive(int(match.group(1)))
                else:
                    stale = time.time() - temp.stat().st_mtime > STALE_TEMP_SECONDS
                if stale:
                    temp.unlink()
                    removed.append(temp)
            except OSError:
                continue  # gone meanwhile, or not ours to remove
    return removed


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def new_run_dir(root: str | os.PathLike = "runs", prefix: str = "") -> Path:
    """A fresh ``root/<prefix><YYYYmmdd-HHMMSS>`` folder (with ``-2``, ``-3``… if that name is taken)."""
    root = Path(root)
    stamp = prefix + datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate, n = root / stamp, 1
    while candidate.exists():
        n += 1
        candidate = root / f"{stamp}-{n}"
    return prepare_run_dir(candidate)


#: Bytes written (and synced) to test a folder before a run: a full disk accepts an empty file but
#: refuses this. A finished 784-50-10 run writes about 0.6 MB, mostly model and snapshots.
PROBE_BYTES = 64 * 1024


def check_writable(folder: Path, fix: str, what: str = "folder") -> None:
    """Write, sync and remove :data:`PROBE_BYTES` in ``folder``; a :class:`RunFolderError` ending in ``fix``
    if the folder cannot be created or written (permissions, read-only, full disk)."""
    probe = folder / f".write-test.{os.getpid()}.probe.tmp"  # a killed probe is cleaned like any temp file
    try:
        folder.mkdir(parents=True, exist_ok=True)
        try:
            with open(probe, "wb") as f:
                f.write(bytes(PROBE_BYTES))
                f.flush()
                os.fsync(f.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise RunFolderError(f"cannot write the {what} {folder} ({reason(exc)}); {fix}.") from None


def prepare_run_dir(path: str | os.PathLike) -> Path:
    """Create the folder (and parents) and check that it can be written, before any training.

    Temporary files a killed run left here are removed.
    """
    path = Path(path)
    check_writable(path, "free some space or choose another folder with --out", "output folder")
    clean_stale_temp_files(path)
    return path


def reason(exc: OSError) -> str:
    """An ``OSError`` in words: ``No space left on device``."""
    if exc.strerror:
        return exc.strerror
    return os.strerror(exc.errno) if exc.errno else (str(exc) or type(exc).__name__)


def write_config(run_dir: Path, record: dict[str, Any]) -> None:
    """Write ``config.json`` at the start of a run (a failure is a :class:`RunFolderError`)."""
    try:
        write_json(Path(run_dir) / CONFIG, record)
    except OSError as exc:
        raise RunFolderError(f"cannot write {Path(run_dir) / CONFIG} ({reason(exc)}); "
                             "free some space or choose another folder with --out.") from None


def config_record(config: TrainConfig, network: LayerNet, *, n_train: int | None = None,
                  n_test: int | None = None) -> dict[str, Any]:
    """What ``config.json`` holds: the settings plus what they produced (sizes, seed used) and the
    number of training and test rows the run used (so nothing reloads the data to count them)."""
    record = {**config.to_dict(), "sizes": list(network.sizes), "network": network.describe()}
    if n_train is not None:
        record["n_train"] = int(n_train)
    if n_test is not None:
        record["n_test"] = int(n_test)
    return record


def write_metrics_csv(path: Path, history: History) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    validation = bool(history.val_acc)  # the two validation columns only for a run with a split
    writer.writerow(["eval", "iteration", "train_acc", "test_acc", "train_loss", "test_loss", "seconds",
                     *(["val_acc", "val_loss"] if validation else [])])
    for k, it in enumerate(history.iterations):
        writer.writerow([
            k, it, history.train_acc[k], history.test_acc[k],
            history.train_loss[k], history.test_loss[k], round(history.eval_seconds[k], 4),
            *([history.val_acc[k], history.val_loss[k]] if validation else []),
        ])
    atomic_write_text(path, out.getvalue())


def save_results(run_dir: Path, history: History, network: LayerNet) -> list[str]:
    """Write history, model and metrics, each on its own; return ``"file (reason)"`` for each that failed.

    Called at the end of a run, however it ended. The essential files come first, and a failed write
    (a full disk) does not stop the next one: a smaller file may still fit.
    """
    run_dir = Path(run_dir)
    writes = {
        HISTORY: lambda path: write_json(path, history.to_dict()),
        # batch norm's running statistics too: without them a loaded network would not predict the same
        MODEL: lambda path: write_npz(path, {k: np.asarray(v) for k, v in
                                             {**network.params, **network.running_statistics()}.items()}),
        METRICS: lambda path: write_metrics_csv(path, history),
    }
    failed = []
    for name, write in writes.items():
        try:
            write(run_dir / name)
        except OSError as exc:
            failed.append(f"{name} ({reason(exc)})")
    return failed


def unwritten_error(run_dir: Path | None, failed: list[str]) -> RunFolderError:
    """One sentence naming every file of ``run_dir`` that could not be written, and what to do."""
    space = any(f"({os.strerror(errno.ENOSPC)})" in f for f in failed)
    fix = "free some disk space" if space else "check the folder's permissions"
    where = f" in {run_dir}" if run_dir is not None else ""
    return RunFolderError(
        f"the run ended but {len(failed)} file(s) could not be written{where}: {', '.join(failed)}; "
        f"everything else was written; {fix}, then re-run the training to have them all."
    )


@dataclass
class Run:
    """A run folder read back: its config, history, and the trained network."""

    path: Path
    config: TrainConfig
    record: dict[str, Any]
    history: History
    network: LayerNet

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.network.sizes


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read a run folder written by the trainer (finished or interrupted).

    Every file is checked against what the trainer writes (:mod:`mlplab.train.run_schema`) before
    anything is allocated; damage is a :class:`RunFolderError` naming the file and the problem.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"run folder {path} does not exist; give a folder that `mlplab train` wrote.")
    config, record, sizes = run_schema.parse_config(run_schema.read_file(path / CONFIG), str(path / CONFIG))
    history = run_schema.parse_history(run_schema.read_file(path / HISTORY), str(path / HISTORY))
    try:
        params = run_schema.read_npz(path / MODEL, run_schema.model_shapes(sizes, config.batchnorm))
    except FileNotFoundError:
        raise RunFolderError(f"{path} has no {MODEL}; the run did not finish writing. Re-run it.") from None
    # seed=0 inside: the drawn weights are replaced at once, and seed=None would draw them from (and so
    # move) NumPy's global random state, changing what a book-style script does after loading a run.
    network = network_from_params(params, sizes, config.activation, np.dtype(config.dtype),
                                  **network_options(config))
    return Run(path=path, config=config, record=record, history=history, network=network)


def network_options(config: TrainConfig) -> dict[str, Any]:
    """The ch. 6 layers a run's network was built with, as :func:`mlplab.nn.networks.build_network` takes them."""
    return {"weight_decay_lambda": config.weight_decay, "use_batchnorm": config.batchnorm,
            "dropout_ratio": config.dropout}


def load_snapshots(run_dir: str | os.PathLike, run: Run | None = None) -> dict[str, np.ndarray]:
    """Parameters at every evaluation: ``{"W1": (n_evals, 784, 50), …}`` (float16 → float32).

    Checked against the run's sizes and history (``run``, read from the folder if not given).
    """
    run = run if run is not None else load_run(run_dir)
    path = Path(run_dir) / SNAPSHOTS
    try:
        saved = run_schema.read_npz(path, run_schema.parameter_shapes(list(run.sizes), run.config.batchnorm),
                                     frames=run.history.n_evaluations)
    except FileNotFoundError:
        raise RunFolderError(f"{Path(run_dir)} has no {SNAPSHOTS}; re-run the training to record them.") from None
    run_schema.check_snapshots(path, saved, run.history)
    return {k: v.astype(np.float32) if v.dtype == np.float16 else v for k, v in saved.items()}
