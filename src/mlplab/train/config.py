"""The settings of one training run, validated when built."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.book_compat import BOOK_WEIGHT_INIT
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS, make_optimizer

SAMPLINGS = ("replacement", "shuffle")
DTYPES = ("float32", "float64")
#: named initial weight scales (besides a number): He (ReLU), Xavier (sigmoid/tanh), auto (by activation),
#: and the book's names for the first two ('relu', 'sigmoid'; :data:`mlplab.nn.book_compat.BOOK_WEIGHT_INIT`)
WEIGHT_INITS = ("he", "xavier", "auto", *BOOK_WEIGHT_INIT)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run. Defaults are the textbook's ch. 4 run.

    ``eval_every=None`` means once per epoch: ``train_size / batch_size`` iterations (600 for MNIST),
    evaluated after iterations 0, 600, …, 9600 as in the book, then once more after the last iteration
    (9999, counting from 0) so the run ends with the saved model's numbers — 18 evaluations for the defaults.
    ``seed=None`` picks a fresh seed, which is then recorded so the run can be repeated.
    """

    iters: int = 10_000
    batch_size: int = 100
    lr: float = 0.1
    hidden: tuple[int, ...] = (50,)
    activation: str = "sigmoid"
    optimizer: str = "sgd"
    weight_init_std: float | str = 0.01
    seed: int | None = None
    dtype: str = "float32"
    sampling: str = "replacement"
    eval_every: int | None = None
    train_size: int | None = None  # use only the first N training images (None: all)
    test_size: int | None = None  # use only the first N test images (None: all)
    data_dir: str | None = None
    optimizer_options: dict[str, float] = field(default_factory=dict)
    # ch. 6 (§6.3-6.5): batch norm after each hidden Affine, dropout after each hidden activation,
    # L2 weight decay λ, and N training images held out for validation (a seeded split)
    batchnorm: bool = False
    dropout: float = 0.0  # the share of hidden units dropped in training (0: no dropout layers)
    weight_decay: float = 0.0
    validation: int = 0  # held-out training images (0: none); ranks sweeps instead of the test set

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, int):
            hidden = (hidden,)
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        _whole("iters", self.iters, 1)
        _whole("batch_size", self.batch_size, 1)
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError(f"hidden sizes must be whole numbers >= 1, got {list(self.hidden)}.")
        if not (isinstance(self.lr, (int, float)) and np.isfinite(self.lr) and self.lr > 0):
            raise ConfigError(f"lr must be a positive number, got {self.lr!r}; the textbook uses 0.1.")
        _choice("activation", self.activation, tuple(ACTIVATION_LAYERS))
        _choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        _choice("dtype", self.dtype, DTYPES)
        _choice("sampling", self.sampling, SAMPLINGS)
        for name in ("eval_every", "train_size", "test_size"):
            if getattr(self, name) is not None:
                _whole(name, getattr(self, name), 1)
        if self.seed is not None:
            _whole("seed", self.seed, 0)
        if isinstance(self.weight_init_std, str):
            if self.weight_init_std not in WEIGHT_INITS:
                raise ConfigError(
                    f"weight_init_std must be a number or one of {', '.join(WEIGHT_INITS)}; "
                    f"got {self.weight_init_std!r}."
                )
        elif not (np.isfinite(self.weight_init_std) and self.weight_init_std > 0):
            raise ConfigError(f"weight_init_std must be > 0, got {self.weight_init_std!r}.")
        if not isinstance(self.batchnorm, (bool, np.bool_)):
            raise ConfigError(f"batchnorm must be true or false, got {self.batchnorm!r}.")
        if not (_is_number(self.dropout) and 0 <= self.dropout < 1):
            raise ConfigError(f"dropout must be a ratio in [0, 1), got {self.dropout!r}; the book uses 0.15.")
        if not (_is_number(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"weight_decay must be a number >= 0, got {self.weight_decay!r}; the book uses 0.1.")
        _whole("validation", self.validation, 0)
        make_optimizer(self.optimizer, self.lr, **self.optimizer_options)  # its own checks, before any data is read

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        if "hidden" in kwargs:
            kwargs["hidden"] = tuple(kwargs["hidden"])
        return cls(**kwargs)

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and bool(np.isfinite(value))


def _whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}.")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}.")
