"""MNIST (or any dataset in the same IDX layout) as NumPy arrays, offline.

mlplab ships the four original MNIST files as package data (see ``data/mnist/README.md`` for their
licence and attribution), so nothing is downloaded: the textbook's loader broke each time its
download site moved. The bundled copy is checked against its SHA-256 sums on first use.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from mlplab.data.idx import parse_idx, read_idx_bytes
from mlplab.errors import DataError

FILES = {
    "train_img": "train-images-idx3-ubyte",
    "train_label": "train-labels-idx1-ubyte",
    "test_img": "t10k-images-idx3-ubyte",
    "test_label": "t10k-labels-idx1-ubyte",
}

#: Environment variable naming another folder of IDX files (Fashion-MNIST, KMNIST, ...).
DATA_DIR_ENV = "MLPLAB_DATA_DIR"

Split = tuple[np.ndarray, np.ndarray]

#: Labels are class numbers below this: the output layer has one unit per class, so a damaged label
#: of 2**31 would otherwise ask for a network with two billion outputs.
MAX_CLASSES = 1000


def bundled_dir() -> Path:
    """The folder inside the installed package that holds the bundled MNIST files."""
    return Path(str(resources.files("mlplab.data") / "mnist"))


def _find_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise DataError(
        f"data file {stem}(.gz) is missing from {folder}; put the four IDX files there "
        "or point --data-dir / MLPLAB_DATA_DIR at a folder that has them."
    )


def _read_sums(folder: Path) -> dict[str, str]:
    sums_file = folder / "SHA256SUMS"
    if not sums_file.is_file():
        return {}
    sums = {}
    for line in sums_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*").removesuffix(".gz")] = parts[0].lower()
    return sums


@lru_cache(maxsize=8)
def _read_checked(path: str, expected_sha256: str | None, mtime_ns: int) -> np.ndarray:
    """Read (and cache) one file; ``mtime_ns`` is in the key so a replaced file is re-read."""
    raw = read_idx_bytes(path)
    if expected_sha256 is not None:
        actual = hashlib.sha256(raw).hexdigest()
        if actual != expected_sha256:
            raise DataError(
                f"data file {path} fails its SHA-256 check (expected {expected_sha256[:12]}…, "
                f"got {actual[:12]}…): it is damaged; reinstall mlplab or restore the file."
            )
    array = parse_idx(raw, path)
    array.flags.writeable = False  # cached and shared: nobody may change it
    return array


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """``data_dir`` if given, else ``$MLPLAB_DATA_DIR``, else the bundled copy."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV) or None
    if chosen is None:
        return bundled_dir()
    folder = Path(chosen).expanduser()
    if not folder.is_dir():
        raise DataError(
            f"data folder {folder} does not exist; give a folder holding the four IDX files "
            "or leave --data-dir out to use the bundled MNIST."
        )
    return folder


def load_raw(data_dir: str | os.PathLike | None = None,
             splits: tuple[str, ...] = ("train", "test")) -> dict[str, np.ndarray]:
    """The arrays as stored: uint8 images ``(N, 28, 28)`` and uint8 labels ``(N,)``, for ``splits``
    (``("test",)`` reads only the two test files: what the figures of a run need)."""
    folder = resolve_data_dir(data_dir)
    sums = _read_sums(folder)
    arrays = {}
    for key, stem in FILES.items():
        if key.split("_")[0] not in splits:
            continue
        path = _find_file(folder, stem)
        arrays[key] = _read_checked(str(path), sums.get(stem), path.stat().st_mtime_ns)
    for split in splits:
        images, labels = arrays[f"{split}_img"], arrays[f"{split}_label"]
        if images.ndim != 3 or labels.ndim != 1:
            raise DataError(
                f"{split} images must be 3-D (N, rows, cols) and labels 1-D, got shapes "
                f"{images.shape} and {labels.shape} in {folder}."
            )
        if images.shape[0] == 0:
            raise DataError(f"the {split} images in {folder} hold 0 images; give a dataset with some.")
        check_labels(labels, f"{split} labels in {folder}")
        if images.shape[0] != labels.shape[0]:
            raise DataError(
                f"{split} set in {folder} has {images.shape[0]} images but {labels.shape[0]} "
                "labels; the two files must come from the same dataset."
            )
    return arrays


def check_labels(labels: np.ndarray, where: str) -> None:
    """Labels must be class numbers: integers from 0 to :data:`MAX_CLASSES` − 1."""
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"the {where} are {labels.dtype} numbers; labels must be integer class numbers "
                        "(IDX type 0x08 unsigned byte, as in MNIST).")
    if labels.size and (labels.min() < 0 or labels.max() >= MAX_CLASSES):
        raise DataError(f"the {where} range from {labels.min()} to {labels.max()}; labels must be class "
                        f"numbers from 0 to {MAX_CLASSES - 1}.")


def _one_hot(labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    out = np.zeros((labels.size, n_classes), dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def load_mnist(
    normalize: bool = True,
    flatten: bool = True,
    one_hot_label: bool = False,
    *,
    dtype: type | np.dtype = np.float32,
    data_dir: str | os.PathLike | None = None,
    train_size: int | None = None,
    test_size: int | None = None,
) -> tuple[Split, Split]:
    """Load MNIST as ``((x_train, t_train), (x_test, t_test))``, like the textbook's loader.

    Parameters
    ----------
    normalize : scale pixels from 0..255 to 0.0..1.0.
    flatten : images as ``(N, 784)`` rows; ``False`` gives ``(N, 1, 28, 28)``.
    one_hot_label : labels as ``(N, 10)`` one-hot rows instead of integers ``(N,)``.
    dtype : type of the images (float32 by default: half the memory, same accuracy).
    data_dir : another folder of IDX files in the same layout (also ``$MLPLAB_DATA_DIR``).
    train_size, test_size : only the first N images of each set (``None``: all). They are cut before
        they are converted: converting 60,000 images to keep 1,000 would be most of the work.

    Example
    -------
    >>> (x_train, t_train), (x_test, t_test) = load_mnist()
    >>> x_train.shape, t_train[:3]
    ((60000, 784), array([5, 0, 4], dtype=uint8))
    """
    raw = load_raw(data_dir)
    train, test = (_split(raw, split, normalize, flatten, one_hot_label, dtype, rows)
                   for split, rows in (("train", train_size), ("test", test_size)))
    return train, test


def load_mnist_split(split: str, *, dtype: type | np.dtype = np.float32,
                     data_dir: str | os.PathLike | None = None, size: int | None = None) -> Split:
    """One split (``"train"`` or ``"test"``) as :func:`load_mnist` gives it (normalized, flattened,
    integer labels; the first ``size`` images), reading only that split's two files."""
    return _split(load_raw(data_dir, splits=(split,)), split, True, True, False, dtype, size)


def _split(raw: dict[str, np.ndarray], split: str, normalize: bool, flatten: bool, one_hot_label: bool,
           dtype: type | np.dtype, rows: int | None = None) -> Split:
    images = raw[f"{split}_img"][:rows]  # cut first, then convert: the same values for the rows kept
    x = images.astype(dtype)
    if normalize:
        x /= 255.0
    x = x.reshape(images.shape[0], -1) if flatten else x.reshape(images.shape[0], 1, *images.shape[1:])
    every_label = raw[f"{split}_label"]
    labels = every_label[:rows]
    # one-hot rows as wide as the whole set's classes, however many images are kept
    t = _one_hot(labels, int(every_label.max()) + 1 if every_label.size else 10) if one_hot_label else labels.copy()
    return x, t
