"""The settings of one training run, validated when built."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS, make_optimizer

SAMPLINGS = ("replacement", "shuffle")
DTYPES = ("float32", "float64")
#: named initial weight scales (besides a number): He (ReLU), Xavier (sigmoid/tanh), auto (by activation)
WEIGHT_INITS = ("he", "xavier", "auto")


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
                    f"weight_init_std must be a number or one of he, xavier, auto; got {self.weight_init_std!r}."
                )
        elif not (np.isfinite(self.weight_init_std) and self.weight_init_std > 0):
            raise ConfigError(f"weight_init_std must be > 0, got {self.weight_init_std!r}.")
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


def _whole(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}.")


def _choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}.")
