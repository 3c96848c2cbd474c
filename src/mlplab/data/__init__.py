"""Data: a strict IDX reader/writer, the bundled MNIST dataset, and drawings made MNIST-like."""

from mlplab.data.handwriting import mnist_like
from mlplab.data.idx import idx_bytes, parse_idx, read_idx, write_idx
from mlplab.data.mnist import bundled_dir, load_mnist, load_raw, resolve_data_dir
from mlplab.data.split import shuffle_dataset

__all__ = [
    "bundled_dir",
    "idx_bytes",
    "load_mnist",
    "load_raw",
    "mnist_like",
    "parse_idx",
    "read_idx",
    "resolve_data_dir",
    "shuffle_dataset",
    "write_idx",
]
