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
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import RunFolderError
from mlplab.nn.networks import LayerNet, build_network
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
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the complete new one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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


def prepare_run_dir(path: str | os.PathLike) -> Path:
    """Create the folder (and parents) and check that it can be written, before any training."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RunFolderError(
            f"cannot write the output folder {path} ({reason}); choose another with --out."
        ) from None
    return path


def config_record(config: TrainConfig, network: LayerNet) -> dict[str, Any]:
    """What ``config.json`` holds: the settings plus what they produced (sizes, seed used)."""
    return {**config.to_dict(), "sizes": list(network.sizes), "network": network.describe()}


def write_metrics_csv(path: Path, history: History) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["eval", "iteration", "train_acc", "test_acc", "train_loss", "test_loss", "seconds"])
    for k, it in enumerate(history.iterations):
        writer.writerow([
            k, it, history.train_acc[k], history.test_acc[k],
            history.train_loss[k], history.test_loss[k], round(history.eval_seconds[k], 4),
        ])
    atomic_write_text(path, out.getvalue())


def save_results(run_dir: Path, history: History, network: LayerNet) -> None:
    """Write history, metrics and the model; called at the end of a run, however it ended."""
    run_dir = Path(run_dir)
    write_json(run_dir / HISTORY, history.to_dict())
    write_metrics_csv(run_dir / METRICS, history)
    write_npz(run_dir / MODEL, {k: np.asarray(v) for k, v in network.params.items()})


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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
        if not isinstance(value, dict):
            raise json.JSONDecodeError(f"expected a JSON object, found {type(value).__name__}", "", 0)
        return value
    except FileNotFoundError:
        raise RunFolderError(
            f"{path.parent} is not a complete run folder: {path.name} is missing; "
            "give the folder that `mlplab train` wrote."
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise RunFolderError(f"{path} is damaged ({exc}); re-run the training to recreate it.") from None


def load_run(run_dir: str | os.PathLike) -> Run:
    """Read a run folder written by the trainer (finished or interrupted)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunFolderError(f"run folder {path} does not exist; give a folder that `mlplab train` wrote.")
    record = _read_json(path / CONFIG)
    try:
        config = TrainConfig.from_dict(record)
    except Exception as exc:  # noqa: BLE001 - any damage in the file is the user's fix
        raise RunFolderError(f"{path / CONFIG} is damaged ({exc}); re-run the training.") from None
    history = History.from_dict(_read_json(path / HISTORY))
    sizes = record.get("sizes")
    if not sizes:
        raise RunFolderError(f"{path / CONFIG} does not say the network sizes; re-run the training.")
    # seed=0: the drawn weights are replaced at once, and seed=None would draw them from (and so
    # move) NumPy's global random state, changing what a book-style script does after loading a run.
    network = build_network(sizes, activation=config.activation, seed=0, dtype=np.dtype(config.dtype))
    try:
        with np.load(path / MODEL) as saved:
            network.set_params({k: saved[k] for k in saved.files})
    except FileNotFoundError:
        raise RunFolderError(f"{path} has no {MODEL}; the run did not finish writing. Re-run it.") from None
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path / MODEL} is damaged ({exc}); re-run the training.") from None
    return Run(path=path, config=config, record=record, history=history, network=network)


def load_snapshots(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """Parameters at every evaluation: ``{"W1": (n_evals, 784, 50), …}`` (float16 → float32)."""
    path = Path(run_dir) / SNAPSHOTS
    try:
        with np.load(path) as saved:
            return {k: saved[k].astype(np.float32) if saved[k].dtype == np.float16 else saved[k]
                    for k in saved.files}
    except FileNotFoundError:
        raise RunFolderError(f"{Path(run_dir)} has no {SNAPSHOTS}; re-run the training to record them.") from None
    except (OSError, ValueError) as exc:
        raise RunFolderError(f"{path} is damaged ({exc}); re-run the training.") from None
