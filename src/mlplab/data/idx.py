"""A small, strict reader and writer for the IDX format used by MNIST.

Layout (big-endian): two zero bytes, a type code, the number of dimensions ``d``, then ``d`` 4-byte
sizes, then the values. MNIST uses type 0x08 (unsigned byte). Files may be gzipped (``.gz``).
Every way a file can be wrong raises :class:`~mlplab.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from mlplab.errors import DataError

#: IDX type code → NumPy dtype (big-endian where it matters).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dt.newbyteorder("=") if dt.itemsize > 1 else dt: code for code, dt in IDX_DTYPES.items()}

_FIX = "replace it with a good copy (the originals are in mlplab's package data) or pass another --data-dir"


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The raw (decompressed) bytes of an IDX file, ``.gz`` or not."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist; {_FIX}.")
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":  # gzip magic
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"data file {path} is damaged ({exc}); {_FIX}.") from None
    return raw


def parse_idx(raw: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array, checking the magic number, dimensions and length."""
    if len(raw) < 4:
        raise DataError(f"data file {name} is truncated: {len(raw)} bytes, no IDX header; {_FIX}.")
    zero1, zero2, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or code not in IDX_DTYPES or ndim == 0:
        raise DataError(
            f"data file {name} is not an IDX file: wrong magic number 0x{raw[:4].hex()} "
            f"(expected 0x0000TTDD with a known type TT); {_FIX}."
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"data file {name} is truncated inside its header; {_FIX}.")
    shape = struct.unpack(f">{ndim}I", raw[4:header_len])
    dtype = IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "too long"
        raise DataError(
            f"data file {name} is {what}: its header promises shape {shape} "
            f"({expected} bytes of data) but it holds {actual}; {_FIX}."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX (or IDX.gz) file into a NumPy array of its stored shape and type."""
    return parse_idx(read_idx_bytes(path), str(path))


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of :func:`parse_idx`)."""
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if native not in _CODE_OF:
        raise DataError(f"cannot store dtype {array.dtype} in IDX; use uint8, int8, int16, int32, float32 or float64.")
    code = _CODE_OF[native]
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"IDX stores 1 to 255 dimensions, got {array.ndim}.")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(IDX_DTYPES[code], copy=False).tobytes()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write an array as IDX, gzipped when ``path`` ends in ``.gz``."""
    path = Path(path)
    data = idx_bytes(array)
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=6)
    path.write_bytes(data)
