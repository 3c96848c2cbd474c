"""Damaged and hostile IDX files: every one ends in a DataError naming the file, never another error.

Each case here escaped before: a header whose sizes multiply past 2**64 (``np.prod`` wrapped to 0), a
``.gz`` that inflates far beyond what its header declares, empty files, float or negative labels.
"""

from __future__ import annotations

import gzip
import struct
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab.data import idx_bytes, load_mnist, parse_idx, read_idx, write_idx
from mlplab.data.idx import IDX_DTYPES, MAX_IDX_BYTES
from mlplab.data.mnist import FILES, MAX_CLASSES
from mlplab.errors import DataError


def header(code: int, shape: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def test_sizes_whose_product_wraps_int64(tmp_path):
    # 65536**4 = 2**64: np.prod in int64 wraps to 0, which matched the 0 bytes of data that follow
    path = tmp_path / "wrap"
    path.write_bytes(header(0x08, (65536,) * 4))
    with pytest.raises(DataError, match=r"wrap declares shape \(65536, 65536, 65536, 65536\)"):
        read_idx(path)
    with pytest.raises(DataError, match="declares shape"):
        parse_idx(header(0x0E, (2**32 - 1,) * 3))


def test_declared_size_above_the_limit(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(header(0x08, (MAX_IDX_BYTES + 1,)) + b"\0" * 10)
    with pytest.raises(DataError, match=f"huge declares shape.*larger than the {MAX_IDX_BYTES:,}"):
        read_idx(path)


def test_gzip_bomb_is_read_only_as_far_as_the_header_declares(tmp_path):
    # 10 bytes declared, 64 MB inside a ~64 kB .gz: refused as "too long" without inflating it all
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(header(0x08, (10,)) + bytes(64 * 2**20), compresslevel=9))
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"bomb.gz is too long.*shape \(10,\)"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # far below the 64 MB it would inflate to


def test_empty_file(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(DataError, match="empty is truncated: 0 bytes"):
        read_idx(tmp_path / "empty")
    (tmp_path / "empty.gz").write_bytes(gzip.compress(b""))
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "empty.gz")


def dataset(folder, *, train_labels=None, n_train=20, n_test=8):
    rng = np.random.default_rng(0)
    write_idx(folder / FILES["train_img"], rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8))
    labels = rng.integers(0, 10, n_train, dtype=np.uint8) if train_labels is None else train_labels
    write_idx(folder / FILES["train_label"], labels)
    write_idx(folder / FILES["test_img"], rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8))
    write_idx(folder / FILES["test_label"], rng.integers(0, 10, n_test, dtype=np.uint8))


BAD_LABELS = {
    "float labels": (np.linspace(0, 9, 20).astype(np.float32), "float32 numbers; labels must be integer"),
    "negative labels": (np.full(20, -1, np.int8), "range from -1 to -1"),
    "too many classes": (np.full(20, MAX_CLASSES, np.int32), f"range from {MAX_CLASSES} to {MAX_CLASSES}"),
}


@pytest.mark.parametrize("case", BAD_LABELS)
def test_bad_labels(tmp_path, case):
    labels, message = BAD_LABELS[case]
    dataset(tmp_path, train_labels=labels)
    with pytest.raises(DataError, match=f"train labels in {tmp_path}.* {message}"):
        load_mnist(data_dir=tmp_path)


def test_zero_count_files(tmp_path):
    dataset(tmp_path, n_train=0, train_labels=np.zeros(0, np.uint8))
    with pytest.raises(DataError, match="hold 0 images"):
        load_mnist(data_dir=tmp_path)


def test_good_small_dataset_still_loads(tmp_path):
    dataset(tmp_path)  # the checks above refuse damage, not good files
    (x, t), _ = load_mnist(data_dir=tmp_path)
    assert x.shape == (20, 784) and t.dtype == np.uint8


# -- fuzzing: only DataError may come out ------------------------------------------------------

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_parse_idx_arbitrary_bytes(raw):
    try:
        array = parse_idx(raw)
    except DataError:
        return
    assert idx_bytes(array) == raw  # whatever parses is exactly what it encodes


@FUZZ
@given(code=st.sampled_from(sorted(IDX_DTYPES) + [0x07]), shape=st.lists(st.integers(0, 2**32 - 1), max_size=6),
       extra=st.integers(-3, 3), data=st.binary(max_size=64), gz=st.booleans())
def test_fuzz_read_idx_headers(tmp_path, code, shape, extra, data, gz):
    raw = header(code, tuple(shape)) + data
    path = tmp_path / ("f.gz" if gz else "f")
    path.write_bytes(gzip.compress(raw) if gz else raw)
    try:
        read_idx(path)
    except DataError as exc:
        assert str(path) in str(exc)


@FUZZ
@given(st.binary(min_size=1, max_size=300), st.integers(0, 299))
def test_fuzz_damaged_gzip(tmp_path, junk, cut):
    good = gzip.compress(idx_bytes(np.arange(40, dtype=np.uint8).reshape(4, 10)))
    path = tmp_path / "d.gz"
    path.write_bytes(good[: cut % len(good)] + junk)
    try:
        read_idx(path)
    except DataError as exc:
        assert "d.gz" in str(exc)
