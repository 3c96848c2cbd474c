"""The IDX reader: round-trips, and every way a file can be wrong gives a DataError naming it."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mlplab.data import bundled_dir, idx_bytes, load_mnist, parse_idx, read_idx, write_idx
from mlplab.data.mnist import FILES, _read_checked
from mlplab.errors import DataError

IDX_TYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(IDX_TYPES),
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
    data=st.data(),
)
def test_idx_round_trip(dtype, shape, data):
    array = data.draw(arrays(dtype, shape))
    back = parse_idx(idx_bytes(array))
    assert back.shape == array.shape
    assert back.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(back, array)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_write_read_file(tmp_path, suffix):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / f"x-idx3-ubyte{suffix}"
    write_idx(path, array)
    np.testing.assert_array_equal(read_idx(path), array)


def test_header_of_mnist_labels_is_the_published_one():
    raw = gzip.decompress((bundled_dir() / "train-labels-idx1-ubyte.gz").read_bytes())
    assert raw[:4] == bytes([0, 0, 8, 1])
    assert int.from_bytes(raw[4:8], "big") == 60000


def test_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(b"\x01\x02\x08\x01" + (3).to_bytes(4, "big") + b"abc")
    with pytest.raises(DataError, match="wrong magic number"):
        read_idx(path)


def test_truncated_data(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(idx_bytes(np.zeros((10, 5), np.uint8))[:-7])
    with pytest.raises(DataError, match=r"truncated.*shape \(10, 5\)"):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "header"
    path.write_bytes(bytes([0, 0, 8, 3]) + b"\x00\x00")
    with pytest.raises(DataError, match="truncated inside its header"):
        read_idx(path)


def test_too_long(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)) + b"xx")
    with pytest.raises(DataError, match="too long"):
        read_idx(path)


def test_damaged_gzip(tmp_path):
    good = gzip.compress(idx_bytes(np.zeros((100, 10), np.uint8)))
    path = tmp_path / "damaged.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="damaged"):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nope")


# -- a whole dataset folder -----------------------------------------------------------------


def _tiny_dataset(folder, n_train=20, n_test=8, n_train_labels=None):
    rng = np.random.default_rng(0)
    write_idx(folder / f"{FILES['train_img']}.gz", rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8))
    write_idx(folder / f"{FILES['train_label']}.gz",
              rng.integers(0, 10, n_train_labels or n_train, dtype=np.uint8))
    write_idx(folder / FILES["test_img"], rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8))
    write_idx(folder / FILES["test_label"], rng.integers(0, 10, n_test, dtype=np.uint8))


def test_other_data_dir_loads(tmp_path):
    _tiny_dataset(tmp_path)
    (x, t), (xt, tt) = load_mnist(data_dir=tmp_path, flatten=False, one_hot_label=True)
    assert x.shape == (20, 1, 28, 28) and xt.shape == (8, 1, 28, 28)
    assert t.shape == (20, 10) and np.all(t.sum(axis=1) == 1)
    assert 0.0 <= x.min() and x.max() <= 1.0


def test_data_dir_from_environment(tmp_path, monkeypatch):
    _tiny_dataset(tmp_path, n_train=12)
    monkeypatch.setenv("MLPLAB_DATA_DIR", str(tmp_path))
    (x, _), _ = load_mnist()
    assert x.shape == (12, 784)


def test_count_mismatch(tmp_path):
    _tiny_dataset(tmp_path, n_train=20, n_train_labels=19)
    with pytest.raises(DataError, match="20 images but 19 labels"):
        load_mnist(data_dir=tmp_path)


def test_missing_file_in_folder(tmp_path):
    _tiny_dataset(tmp_path)
    (tmp_path / f"{FILES['train_label']}.gz").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*missing"):
        load_mnist(data_dir=tmp_path)


def test_checksum_mismatch(tmp_path):
    for name in FILES.values():
        shutil.copy(bundled_dir() / f"{name}.gz", tmp_path)
    shutil.copy(bundled_dir() / "SHA256SUMS", tmp_path)
    # Same length, one label changed: only the checksum can notice.
    raw = bytearray(gzip.decompress((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    _read_checked.cache_clear()
    with pytest.raises(DataError, match="SHA-256"):
        load_mnist(data_dir=tmp_path)


def test_bundled_mnist(mnist):
    (x_train, t_train), (x_test, t_test) = mnist
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.float32
    assert t_train[:5].tolist() == [5, 0, 4, 1, 9]
    # The statistics the data README publishes for the raw training images.
    assert x_train.mean() == pytest.approx(0.1307, abs=1e-4)
    assert x_train.std() == pytest.approx(0.3081, abs=1e-4)
    assert np.bincount(t_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_unnormalized_images_keep_pixel_values():
    # the first 100 images: cut before converting, as test_data_mnist checks (not 1 s of float64 conversion)
    (x, _), _ = load_mnist(normalize=False, dtype=np.float64, train_size=100, test_size=100)
    assert x.max() == 255.0 and x.dtype == np.float64
