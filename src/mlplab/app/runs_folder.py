"""The runs folder as the web app sees it: safe run names, the list of runs, and cached run data.

A run is named by its path inside the runs folder: ``20261124-222106`` or, for a sweep,
``my-sweep/lr-0.1`` (at most :data:`MAX_DEPTH` parts). A name can never leave the folder: each part
must match :data:`NAME_PART` (letters, digits, ``. _ -``, not starting with a dot, so no ``..``), and
the resolved path — after following any symlink — must still lie inside the runs folder; so must every
file the app serves from a run (:meth:`RunsFolder.file`).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlplab.app.responses import BusyError, ForbiddenError, NotFoundError
from mlplab.app.streaming import StreamFollower, stream_is_live
from mlplab.errors import ConfigError, MlplabError, RunFolderError
from mlplab.train import run_schema
from mlplab.train.layer_stats import LAYER_STATS
from mlplab.train.run_folder import CONFIG, HISTORY, MODEL, SNAPSHOTS

NAME_PART = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")
MAX_DEPTH = 2


def check_name(name: str) -> str:
    """``name`` if it is a safe run name, else a :class:`ConfigError` saying what is allowed."""
    parts = name.split("/")
    if not name or len(name) > 200 or len(parts) > MAX_DEPTH or not all(NAME_PART.fullmatch(p) for p in parts):
        raise ConfigError(
            f"{name[:80]!r} is not a run name: use the folder's name inside the runs folder "
            f"(letters, digits, '.', '_', '-', not starting with '.'; at most {MAX_DEPTH} parts joined by '/')."
        )
    return name


@dataclass(frozen=True)
class RunsFolder:
    """The folder the app lists runs from and writes new runs to."""

    root: Path

    def path(self, name: str, *, must_exist: bool = True) -> Path:
        """The folder of run ``name``, guaranteed to lie inside :attr:`root`."""
        check_name(name)
        root = self.root.resolve()
        path = (root / name).resolve()
        if not path.is_relative_to(root) or path == root:
            raise ConfigError(f"{name!r} points outside the runs folder; give the name of a run inside it.")
        if must_exist and not (path / CONFIG).is_file():
            raise NotFoundError(f"there is no run {name!r} in {self.root}; pick one from the Runs page.")
        return path

    def file(self, name: str, filename: str) -> Path:
        """A file of run ``name``, resolved, and refused if a symlink takes it outside the runs folder
        (``runs/x/report.html -> /etc/passwd`` must not be served)."""
        path = (self.path(name) / filename).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ForbiddenError(f"{filename} of run {name!r} is a link to a file outside the runs folder, which "
                                 "this server does not serve; copy the file into the run folder instead.")
        return path

    def names(self) -> list[str]:
        """Every run folder (a folder with ``config.json``) up to :data:`MAX_DEPTH` deep, newest first."""
        root = self.root
        if not root.is_dir():
            return []
        found: list[tuple[float, str]] = []
        for config in [*root.glob(f"*/{CONFIG}"), *root.glob(f"*/*/{CONFIG}")]:
            name = config.parent.relative_to(root).as_posix()
            try:
                self.path(name)
                found.append((config.stat().st_mtime, name))
            except (MlplabError, OSError):
                continue  # hidden folders (.partial), names with odd characters, escaping symlinks
        return [name for _, name in sorted(found, reverse=True)]

    def deletable(self, name: str) -> Path:
        """The folder of run ``name`` if it may be deleted: a real folder (not a symlink) directly in the
        runs folder, holding ``config.json``, whose training is not running. Else the error that says why."""
        check_name(name)
        if "/" in name:
            raise ForbiddenError(f"{name!r} is inside a sweep folder; only a run directly in the runs folder is "
                                 "deleted here (a sweep's runs belong to its summary.csv).")
        path = self.root / name  # not resolved: a symlink is refused below, never followed
        if path.is_symlink():
            raise ForbiddenError(f"{name!r} is a link, not a run folder; this server deletes only real folders "
                                 "inside the runs folder.")
        if not (path.is_dir() and (path / CONFIG).is_file()):
            raise NotFoundError(f"there is no run {name!r} in {self.root}; pick one from the Runs page.")
        if stream_is_live(path):
            raise BusyError(f"run {name!r} is training; stop it first (Stop on the Train page, or Ctrl-C in its "
                            "terminal), then delete it.")
        return path

    def sweeps(self) -> list[str]:
        """Sweep folders (made by ``mlplab sweep``: they hold ``summary.csv``) directly in the runs folder."""
        from mlplab.sweep.runner import SUMMARY  # here: importing mlplab.sweep takes most of a second

        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if NAME_PART.fullmatch(p.name) and (p / SUMMARY).is_file()
                 and p.resolve().is_relative_to(self.root.resolve())]
        return sorted((p.name for p in found), key=lambda n: -_mtime(self.root / n / SUMMARY))

    def summary(self, name: str) -> dict[str, Any]:
        """What the Runs page shows: settings, status, final accuracies, live or not.

        A damaged file gives ``status: "damaged"`` and ``error`` naming the file (never an exception).
        """
        path = self.path(name)
        row: dict[str, Any] = {"name": name, "live": False, "status": "unknown", "error": None,
                               "train_acc": None, "test_acc": None, "iterations_done": None}
        try:
            _, config, _ = run_schema.parse_config(run_schema.read_file(path / CONFIG), CONFIG)
            row["config"] = {k: config.get(k) for k in ("hidden", "activation", "optimizer", "lr", "batch_size",
                                                         "iters", "seed", "train_size", "test_size")}
            row["network"] = config.get("network") if isinstance(config.get("network"), str) else None
        except RunFolderError as exc:
            row.update(status="damaged", error=str(exc))
            return row
        events = StreamFollower(path).read()
        live = stream_is_live(path, events)
        history = path / HISTORY
        if history.is_file() and not live:
            try:
                h = run_schema.parse_history(run_schema.read_file(history), HISTORY)
                row.update(status=h.status, train_acc=h.final_train_acc, test_acc=h.final_test_acc,
                           iterations_done=len(h.loss), seconds=h.seconds)
            except RunFolderError as exc:
                row.update(status="damaged", error=str(exc))
            return row
        evals = [e for e in events if e["event"] == "eval"]
        losses = [e for e in events if e["event"] in ("loss", "eval")]
        row.update(live=live, status="running" if live else "incomplete",
                   train_acc=evals[-1].get("train_acc") if evals else None,
                   test_acc=evals[-1].get("test_acc") if evals else None,
                   iterations_done=(losses[-1]["iteration"] + 1) if losses else 0)
        if not live:
            row["error"] = "the run ended without writing history.json (its process was killed?)"
        return row

    def summaries(self) -> list[dict[str, Any]]:
        """:meth:`summary` of every run; one that cannot be read is listed as damaged, not dropped."""
        rows = []
        for name in self.names():
            try:
                rows.append(self.summary(name))
            except (MlplabError, OSError) as exc:
                rows.append({"name": name, "live": False, "status": "damaged", "train_acc": None,
                             "test_acc": None, "iterations_done": None,
                             "error": str(exc) if isinstance(exc, MlplabError) else f"cannot read it ({exc})"})
        return rows


class RunDataCache:
    """A few runs' :class:`~mlplab.viz.training.run_figures.RunData` kept in memory (reading one costs ~1 s).

    The key includes the modification times of ``history.json``, ``model.npz`` and ``snapshots.npz``,
    so a run that is re-trained into the same folder is read again.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> Any:
        from mlplab.viz.training.run_figures import load_run_data

        if not (path / MODEL).is_file() or not (path / HISTORY).is_file():
            raise RunFolderError(f"run {path.name} has not finished writing (no {MODEL} yet); "
                                 "wait for it to end, or open it again after the training.")
        key = (str(path), *(_mtime(path / f) for f in (HISTORY, MODEL, SNAPSHOTS, LAYER_STATS)))  # all it caches
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            data = load_run_data(path)  # every file checked: damage is a RunFolderError (a 400)
            self._items[key] = data
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return data


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0
