"""The data as the trainer uses it: loaded, checked, flattened into rows and split.

    (x_train, t_train), (x_test, t_test) = load_dataset(config)   # MNIST, cut to the run's sizes
    data = prepare_data(config, ((x_train, t_train), (x_test, t_test)))
    data.x_train   # (N, 784) rows, without the held-out validation rows
    data.x_val     # (V, 784) the held-out rows, or None without --validation

Everything that can be wrong with the data or the sizes is refused here, before a network exists:
mismatched lengths, NaN inputs, one-hot labels, a validation split as large as the training set, or
a network too large for this machine's memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlplab.data import load_mnist
from mlplab.data.mnist import load_mnist_split
from mlplab.errors import ConfigError, DataError
from mlplab.train.config import TrainConfig
from mlplab.train.limits import check_training

Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TrainingData:
    """The sets of one run: inputs as rows ``x (N, D)``, integer labels ``t (N,)``.

    ``x_val``, ``t_val`` are the held-out training rows (``None`` without a validation split);
    ``n_classes`` is the largest label + 1 over the training and test sets.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    x_val: np.ndarray | None
    t_val: np.ndarray | None
    n_classes: int

    @property
    def n_train(self) -> int:
        return self.x_train.shape[0]

    @property
    def n_test(self) -> int:
        return self.x_test.shape[0]

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]


def load_dataset(config: TrainConfig) -> Dataset:
    """MNIST (or ``config.data_dir``) in the run's dtype, cut to ``train_size`` / ``test_size``."""
    return load_mnist(dtype=np.dtype(config.dtype), data_dir=config.data_dir, train_size=config.train_size,
                      test_size=config.test_size)


def load_test_set(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The run's test set alone (``x (N, 784)``, ``t (N,)``), as :func:`load_dataset` cuts it: what the
    figures of a run need, without reading and converting the 60,000 training images."""
    return load_mnist_split("test", dtype=np.dtype(config.dtype), data_dir=config.data_dir, size=config.test_size)


def check_dataset(data: Dataset) -> None:
    """Refuse data that cannot train: mismatched lengths or NaN/inf values."""
    for name, (x, t) in zip(("training", "test"), data, strict=True):
        if x.shape[0] != np.asarray(t).shape[0]:
            raise DataError(f"the {name} set has {x.shape[0]} inputs but {np.asarray(t).shape[0]} labels.")
        if x.shape[0] == 0:
            raise DataError(f"the {name} set is empty.")
        if not np.all(np.isfinite(x)):
            bad = int(np.sum(~np.isfinite(x)))
            raise DataError(
                f"the {name} inputs contain {bad} NaN or infinite values; clean or drop those rows "
                "before training (a single NaN turns every weight into NaN)."
            )


def validation_rows(config: TrainConfig, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, validation_rows)``: ``config.validation`` of the ``n_train`` training rows held out.

    The held-out rows are a seeded random choice (the book's ch. 6 shuffles, then takes the first 20 %),
    drawn from a third stream of the seed (``SeedSequence(seed).spawn(3)[2]``), so the weights and the
    batches' streams are those of the same seed without validation. Both index arrays are sorted.
    """
    if config.validation >= n_train:
        raise ConfigError(f"validation must be smaller than the {n_train} training images, got "
                          f"{config.validation}; hold out fewer, e.g. --validation {max(n_train // 5, 1)}.")
    if config.seed is None:
        raise ConfigError("a validation split needs a seed; train with a seed.")
    order = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(3)[2]).permutation(n_train)
    return np.sort(order[config.validation:]), np.sort(order[: config.validation])


def prepare_data(config: TrainConfig, data: Dataset) -> TrainingData:
    """``data`` checked, its inputs flattened to rows, the validation rows held out; the sizes checked
    against this machine's memory. Raises :class:`DataError` or :class:`ConfigError` with the fix."""
    check_dataset(data)
    (x_train, t_train), (x_test, t_test) = data
    t_train, t_test = np.asarray(t_train), np.asarray(t_test)
    if t_train.ndim != 1 or t_test.ndim != 1:
        raise ConfigError("the trainer needs integer labels (N,), not one-hot rows.")
    x_train = x_train.reshape(x_train.shape[0], -1)  # images (N, 28, 28) -> rows (N, 784)
    x_test = x_test.reshape(x_test.shape[0], -1)
    x_val = t_val = None
    if config.validation:  # held out before anything trains: the validation rows are never a batch
        keep, held = validation_rows(config, x_train.shape[0])
        x_val, t_val = x_train[held], t_train[held]
        x_train, t_train = x_train[keep], t_train[keep]
    n_classes = int(max(t_train.max(), t_test.max())) + 1
    prepared = TrainingData(x_train, t_train, x_test, t_test, x_val, t_val, n_classes)
    # before the network exists: a size too large for this machine is one sentence, not a MemoryError
    check_training(config, n_features=prepared.n_features, n_classes=n_classes,
                   rows=(prepared.n_train, prepared.n_test), include_data=False)
    return prepared
