"""What each file of a run folder must hold, checked when it is read.

A run folder may be damaged — a truncated copy, a flipped bit, a hand edit, a disk that filled up —
and every reader (``plot``, ``report``, ``diagnose``, the web app) goes through these checks, so
damage is one :class:`~mlplab.errors.RunFolderError` naming the file and the problem, never a
traceback and never a huge allocation:

- ``config.json``: a valid :class:`TrainConfig` plus ``sizes``, whole numbers whose network stays
  below :data:`MAX_PARAMETERS` (``[784, 100000000, 10]`` would otherwise allocate 584 GiB), and
  optionally ``n_train`` / ``n_test`` (rows used; older folders lack them);
- ``history.json``: lists of numbers, the per-evaluation ones all of one length, strictly
  increasing evaluation iterations, a ``status`` string;
- ``model.npz`` / ``snapshots.npz``: exactly the arrays the sizes imply, shapes checked from the
  array headers *before* any array is read (a zip member that inflates to gigabytes is never read);
- ``stream.jsonl``: one JSON object per line with an ``event`` name (other lines are skipped).

The parsers take the file's bytes, so they can be fuzzed without touching a disk.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import MlplabError, RunFolderError
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.train.config import TrainConfig
from mlplab.train.history import History

#: The largest network a run folder may describe: 10⁸ parameters (400 MB in float32). The textbook's
#: 784-50-10 has 39 760; a size beyond this is damage, not a network trained on this machine.
MAX_PARAMETERS = 100_000_000
#: At most this many layer sizes (a 1000-layer network is far past any lesson).
MAX_LAYERS = 1000

_RETRAIN = "re-run the training to recreate it"

#: History lists with one entry per evaluation (``eval_seconds`` and the losses came later: may be absent).
EVAL_LISTS = ("iterations", "train_acc", "test_acc", "train_loss", "test_loss", "eval_seconds")
#: Per-evaluation lists on the held-out rows: empty (or absent, before mlplab had them) without validation.
VALIDATION_LISTS = ("val_acc", "val_loss")


def damaged(path: str | os.PathLike, problem: str) -> RunFolderError:
    """``<path> is damaged: <problem>; re-run the training to recreate it.``"""
    return RunFolderError(f"{path} is damaged: {problem}; {_RETRAIN}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    # NaN and ±inf are numbers here: a diverged run records them (json writes NaN, Infinity)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_json_object(raw: bytes, name: str) -> dict[str, Any]:
    """The JSON object in ``raw`` (UTF-8), or a :class:`RunFolderError` saying why not."""
    if not raw.strip():
        raise damaged(name, "the file is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise damaged(name, f"it is not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise damaged(name, f"it is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise damaged(name, "its JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise damaged(name, f"it holds a JSON {type(value).__name__}, not an object")
    return value


def read_file(path: Path) -> bytes:
    """The bytes of a run-folder file (missing or unreadable: a :class:`RunFolderError`)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RunFolderError(
            f"{path.parent} is not a complete run folder: {path.name} is missing; "
            "give the folder that `mlplab train` wrote."
        ) from None
    except OSError as exc:
        raise RunFolderError(f"cannot read {path} ({exc.strerror or type(exc).__name__}); "
                             "check the file's permissions.") from None


def parameter_shapes(sizes: list[int], batchnorm: bool = False) -> dict[str, tuple[int, ...]]:
    """``{"W1": (784, 50), "b1": (50,), "W2": (50, 10), "b2": (10,)}`` for sizes ``[784, 50, 10]``;
    with ``batchnorm``, also ``gamma{j}`` and ``beta{j}`` for each hidden layer j."""
    shapes: dict[str, tuple[int, ...]] = {}
    for j in range(1, len(sizes)):
        shapes[f"W{j}"] = (sizes[j - 1], sizes[j])
        shapes[f"b{j}"] = (sizes[j],)
        if batchnorm and j < len(sizes) - 1:
            shapes[f"gamma{j}"] = shapes[f"beta{j}"] = (sizes[j],)
    return shapes


def model_shapes(sizes: list[int], batchnorm: bool = False) -> dict[str, tuple[int, ...]]:
    """What ``model.npz`` holds: the parameters and, with batch norm, each hidden layer's
    ``running_mean{j}`` and ``running_var{j}`` (evaluation normalises with them)."""
    shapes = parameter_shapes(sizes, batchnorm)
    if batchnorm:
        for j in range(1, len(sizes) - 1):
            shapes[f"running_mean{j}"] = shapes[f"running_var{j}"] = (sizes[j],)
    return shapes


def parse_config(raw: bytes, name: str = "config.json") -> tuple[TrainConfig, dict[str, Any], list[int]]:
    """``config.json`` → ``(config, record, sizes)``, every field checked."""
    record = parse_json_object(raw, name)
    try:
        config = TrainConfig.from_dict(record)
    except (MlplabError, TypeError, ValueError, OverflowError) as exc:
        raise damaged(name, str(exc).rstrip(".")) from None
    if config.data_dir is not None and not isinstance(config.data_dir, str):
        raise damaged(name, f"'data_dir' must be a folder name or null, got {_short(config.data_dir)}")
    if not isinstance(config.optimizer_options, dict):
        raise damaged(name, f"'optimizer_options' must be an object, got {_short(config.optimizer_options)}")
    sizes = record.get("sizes")
    if not isinstance(sizes, list) or not 3 <= len(sizes) <= MAX_LAYERS or not all(
            _is_int(n) and n >= 1 for n in sizes):
        raise damaged(name, f"'sizes' must be a list of 3 to {MAX_LAYERS} whole numbers >= 1, got {_short(sizes)}")
    if tuple(sizes[1:-1]) != config.hidden:
        raise damaged(name, f"'sizes' {sizes} do not match 'hidden' {list(config.hidden)}")
    n_params = sum(a * b + b for a, b in itertools.pairwise(sizes))
    if n_params > MAX_PARAMETERS:
        raise damaged(name, f"'sizes' {_short(sizes)} describe {n_params:,} parameters, more than the "
                            f"{MAX_PARAMETERS:,} a run folder may hold")
    for key in ("n_train", "n_test"):  # optional: folders written before they were recorded lack them
        if key in record and not (_is_int(record[key]) and record[key] >= 1):
            raise damaged(name, f"'{key}' must be a whole number >= 1 (rows the run used), got {_short(record[key])}")
    return config, record, sizes


def parse_history(raw: bytes, name: str = "history.json") -> History:
    """``history.json`` → :class:`History`, with types and lengths checked."""
    d = parse_json_object(raw, name)
    for key in ("iterations", "train_acc", "test_acc", "loss"):
        if key not in d:
            raise damaged(name, f"it has no '{key}' list")
    for key in (*EVAL_LISTS, *VALIDATION_LISTS, "loss"):
        if key in d:
            values = d[key]
            check = _is_int if key == "iterations" else _is_number
            if not isinstance(values, list) or not all(check(v) for v in values):
                kind = "whole numbers" if key == "iterations" else "numbers"
                raise damaged(name, f"'{key}' must be a list of {kind}, got {_short(values)}")
    n = len(d["iterations"])
    for key in EVAL_LISTS[1:]:
        if key in d and len(d[key]) != n:
            raise damaged(name, f"'{key}' has {len(d[key])} entries but 'iterations' has {n}")
    for key in VALIDATION_LISTS:  # absent (older runs) or empty (no validation split), else one per evaluation
        if d.get(key) and len(d[key]) != n:
            raise damaged(name, f"'{key}' has {len(d[key])} entries but 'iterations' has {n}")
    its = d["iterations"]
    if any(i < 0 for i in its) or any(b <= a for a, b in itertools.pairwise(its)):
        raise damaged(name, "'iterations' must be increasing whole numbers >= 0")
    if its and its[-1] > len(d["loss"]):  # (== allows an evaluation recorded after the last step)
        raise damaged(name, f"evaluation after iteration {its[-1]} but only {len(d['loss'])} losses recorded")
    for key in ("train_acc", "test_acc", "val_acc"):  # a share of correct answers: never NaN, even in a diverged run
        if not all(0 <= v <= 1 for v in d.get(key, [])):
            raise damaged(name, f"'{key}' holds values that are not accuracies between 0 and 1")
    for key in ("status", "message"):
        if key in d and not isinstance(d[key], str):
            raise damaged(name, f"'{key}' must be text, got {_short(d[key])}")
    if "seconds" in d and not _is_number(d["seconds"]):
        raise damaged(name, f"'seconds' must be a number, got {_short(d['seconds'])}")
    history = History.from_dict(d)
    n = history.n_evaluations  # older runs lack some per-evaluation lists: fill them so readers can index
    for key in EVAL_LISTS[1:]:
        if key not in d:
            setattr(history, key, [float("nan")] * n)
    return history


def read_npz(path: Path, expected: dict[str, tuple[int, ...]], *, frames: int | None = None) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` whose members and shapes are ``expected`` (checked before reading).

    ``frames=n`` (snapshots): each array has one more leading axis, of the length of the archive's
    ``iterations`` array (at most ``n``), which is expected too.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            headers = {}
            for info in archive.infolist():
                key = info.filename.removesuffix(".npy")
                with archive.open(info) as f:
                    shape, dtype = _npy_header(f)
                headers[key] = (shape, dtype, info)
            if frames is not None:
                if "iterations" not in headers or len(headers["iterations"][0]) != 1:
                    raise damaged(path, "it has no 1-D 'iterations' array")
                n = headers["iterations"][0][0]
                if n > frames:
                    raise damaged(path, f"it holds {n} evaluations but history.json records {frames}")
                expected = {"iterations": (n,), **{k: (n, *shape) for k, shape in expected.items()}}
            _check_members(path, headers, expected)
            arrays = {}
            for key, (_, _, info) in headers.items():
                with archive.open(info) as f:
                    arrays[key] = np.lib.format.read_array(f, allow_pickle=False)
            return arrays
    except FileNotFoundError:
        raise
    except RunFolderError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error, KeyError, TypeError,
            NotImplementedError, RuntimeError) as exc:
        # truncated (BadZipFile), flipped bits (Bad CRC-32, invalid stored block), empty (EOFError)
        problem = str(exc).strip() or type(exc).__name__
        raise damaged(path, f"it cannot be read as a NumPy archive ({problem})") from None


def _npy_header(f: Any) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a ``.npy`` header, without reading the array."""
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unknown .npy format version {version}")
    return tuple(shape), np.dtype(dtype)


def _check_members(path: Path, headers: dict[str, tuple], expected: dict[str, tuple[int, ...]]) -> None:
    if sorted(headers) != sorted(expected):
        raise damaged(path, f"it holds arrays {sorted(headers)}, expected {sorted(expected)}")
    for key, (shape, dtype, _) in headers.items():
        if shape != expected[key]:
            raise damaged(path, f"{key} has shape {shape} but config.json's sizes need {expected[key]}")
        if dtype.hasobject or dtype.kind not in "fiu":
            raise damaged(path, f"{key} holds {dtype} values, not numbers")


def check_snapshots(path: Path, arrays: dict[str, np.ndarray], history: History) -> None:
    """Snapshots hold one frame per recorded evaluation, at the history's iterations."""
    its = arrays["iterations"]
    if its.ndim != 1 or any(a.shape[0] != its.shape[0] for k, a in arrays.items()):
        raise damaged(path, "its arrays do not all hold the same number of evaluations")
    if its.shape[0] > history.n_evaluations or list(its.tolist()) != history.iterations[: its.shape[0]]:
        raise damaged(path, f"its iterations {_short(its.tolist())} are not those of history.json")


def parse_stream_line(line: bytes) -> dict[str, Any] | None:
    """One ``stream.jsonl`` line as an event ``{"event": name, ...}``, or ``None`` if it is not one.

    Numbers a reader uses (``iteration``, accuracies) must be numbers; a damaged line is skipped,
    not fatal: the stream is a live view, the history is the record.
    """
    try:
        event = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(event, dict) or not isinstance(event.get("event"), str):
        return None
    if ("iteration" in event or event["event"] in ("loss", "eval")) and not _is_int(event.get("iteration")):
        return None
    for key in ("train_acc", "test_acc", "loss"):
        if event.get(key) is not None and not _is_number(event[key]):
            return None
    return event


#: Per-layer series in ``layer_stats.json`` (one entry per evaluation; ``None`` where not recorded).
LAYER_SERIES = ("weight_norm", "grad_norm", "update_ratio", "act_mean", "act_saturated", "act_dead")
LAYER_HISTOGRAMS = ("weight_hist", "grad_hist", "act_hist")


def check_layer_stats(d: dict[str, Any], name: str = "layer_stats.json") -> None:
    """``layer_stats.json`` (NaN/inf already decoded) holds what :class:`LayerStatsRecorder` writes."""
    its = d.get("iterations")
    if not isinstance(its, list) or not all(_is_int(i) for i in its):
        raise damaged(name, f"'iterations' must be a list of whole numbers, got {_short(its)}")
    for key, check in (("version", _is_int), ("bins", _is_int), ("input_abs_max", _is_number)):
        if not check(d.get(key)):
            raise damaged(name, f"'{key}' must be a number, got {_short(d.get(key))}")
    if not isinstance(d.get("probe_rows"), list) or not isinstance(d.get("thresholds"), dict) or not all(
            _is_number(v) for v in d["thresholds"].values()):
        raise damaged(name, "'probe_rows' must be a list and 'thresholds' an object of numbers")
    layers = d.get("layers")
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise damaged(name, f"'layers' must be a list of objects, got {_short(layers)}")
    if len(layers) < 2:
        raise damaged(name, f"'layers' must describe at least 2 layers, got {len(layers)}")
    n = len(its)
    for j, layer in enumerate(layers, start=1):
        shape = layer.get("shape")
        if not isinstance(layer.get("name"), str) or not (
                isinstance(shape, list) and len(shape) == 2 and all(_is_int(v) and v >= 1 for v in shape)):
            raise damaged(name, f"layer {j} needs a 'name' and a 'shape' of two whole numbers")
        hidden = j < len(layers)  # every layer but the output one has an activation
        if (layer.get("activation") in ACTIVATION_LAYERS) != hidden or (not hidden and layer["activation"] is not None):
            raise damaged(name, f"layer {j}'s 'activation' must be " + (
                f"one of {', '.join(ACTIVATION_LAYERS)}" if hidden else "null (the output layer)"))
        for key in (*LAYER_SERIES, *LAYER_HISTOGRAMS):
            values = layer.get(key)
            if not isinstance(values, list) or len(values) != n:
                raise damaged(name, f"layer {j}'s '{key}' must be a list of {n} entries, one per evaluation")
            if key in LAYER_HISTOGRAMS:
                needed = hidden or key != "act_hist"  # the output layer has no activation histogram
                ok = all(_is_histogram(v) if needed else v is None for v in values)
            else:
                ok = all(v is None or _is_number(v) for v in values)
            if not ok:
                raise damaged(name, f"layer {j}'s '{key}' holds a value that is not a "
                                    f"{'histogram' if key in LAYER_HISTOGRAMS else 'number'}")


def _is_histogram(h: Any) -> bool:
    """Counts, and one more edge: finite and increasing (all zero for an empty histogram)."""
    if not (isinstance(h, dict) and isinstance(h.get("counts"), list) and isinstance(h.get("edges"), list)
            and len(h["edges"]) == len(h["counts"]) + 1 and _is_int(h.get("nonfinite", 0))):
        return False
    counts, edges = h["counts"], h["edges"]
    if not all(_is_int(c) and c >= 0 for c in counts) or not all(_is_number(e) and math.isfinite(e) for e in edges):
        return False
    return not any(counts) or all(b > a for a, b in itertools.pairwise(edges))


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
