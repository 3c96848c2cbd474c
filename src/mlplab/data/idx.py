"""A small, strict reader and writer for the IDX format used by MNIST.

Layout (big-endian): two zero bytes, a type code, the number of dimensions ``d``, then ``d`` 4-byte
sizes, then the values. MNIST uses type 0x08 (unsigned byte). Files may be gzipped (``.gz``).
Every way a file can be wrong raises :class:`~mlplab.errors.DataError` naming the file.
"""

from __future__ import annotations

import gzip
import math
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

#: Largest data part an IDX file may declare (all of MNIST's training images are 47 MB); a bigger
#: header is damage, or a file this teaching tool is not meant to hold in memory.
MAX_IDX_BYTES = 2**30
#: The longest header: magic, then up to 255 sizes of 4 bytes.
MAX_HEADER = 4 + 4 * 255


def read_idx_bytes(path: str | os.PathLike) -> bytes:
    """The raw (decompressed) bytes of an IDX file, ``.gz`` or not.

    At most what the header declares (plus one byte, to tell "too long") is read or inflated, so a
    small ``.gz`` that inflates to gigabytes costs no more memory than its header admits.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist; {_FIX}.")
    try:
        with open(path, "rb") as plain:
            gzipped = plain.read(2) == b"\x1f\x8b"  # gzip magic
        with (gzip.open(path, "rb") if gzipped else open(path, "rb")) as f:
            head = f.read(4)
            if len(head) == 4 and head[3] > 0:
                head += f.read(4 * head[3])
            size = declared_size(head, str(path))
            body = f.read(size + 1) if size is not None else b""
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"data file {path} is damaged ({exc}); {_FIX}.") from None
    return head + body


def declared_size(head: bytes, name: str) -> int | None:
    """Bytes of data the header ``head`` promises (``None`` if the header is incomplete: the parser says
    why); refuses sizes above :data:`MAX_IDX_BYTES`, computed with Python integers that cannot wrap."""
    if len(head) < 4 or head[2] not in IDX_DTYPES or len(head) < 4 + 4 * head[3]:
        return None
    shape = struct.unpack(f">{head[3]}I", head[4 : 4 + 4 * head[3]])
    size = math.prod(shape) * IDX_DTYPES[head[2]].itemsize
    # (a zero size makes the product 0, but NumPy still refuses shapes whose other sizes overflow)
    if math.prod(max(n, 1) for n in shape) * IDX_DTYPES[head[2]].itemsize > MAX_IDX_BYTES:
        raise DataError(
            f"data file {name} declares shape {shape} ({size:,} bytes of data), larger than the "
            f"{MAX_IDX_BYTES:,} mlplab reads; the header is damaged or the file is not a dataset for it; {_FIX}."
        )
    return size


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
    expected = declared_size(raw[:header_len], name)
    actual = len(raw) - header_len
    if actual != expected:
        # (a file is read only up to one byte past what its header promises)
        what, holds = ("truncated", str(actual)) if actual < expected else ("too long", "more")
        raise DataError(
            f"data file {name} is {what}: its header promises shape {shape} "
            f"({expected} bytes of data) but it holds {holds}; {_FIX}."
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
