"""The space of a sweep: which settings vary, over which values, and the list of runs that makes.

Two ways to cover a space, both from the textbook's ch. 6.5 (hyper-parameter search):

- a **grid**: every combination of the values given, e.g. ``--lr 0.01,0.1,1 --hidden 20,50,100``
  is 3 × 3 = 9 configurations;
- a **random search**: ``--random N`` draws N configurations. A range ``LOW:HIGH`` for the learning
  rate (or the weight decay) is sampled *log-uniformly*, ``lr = 10 ** uniform(log10 LOW, log10 HIGH)``, as the textbook
  does, because 0.001 and 0.01 differ as much as 0.1 and 1. A range of sizes (``--hidden 20:200``,
  ``--batch-size 50:200``) is sampled as uniform whole numbers; a list is sampled uniformly.

Each configuration is then run once per seed (``--seeds 3`` → seeds 0, 1, 2). The draws use their
own generator (``sample_seed``), so the same command always plans the same runs — that is what
makes a sweep resumable — and a larger N keeps the first draws (and their names): it extends the
search.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS
from mlplab.train.config import TrainConfig
from mlplab.train.limits import sweep_size

#: The settings a sweep can vary, in the order they appear in run names and in the grid.
SWEPT = ("hidden", "optimizer", "lr", "batch_size", "activation", "weight_init_std",
         "weight_decay", "dropout", "batchnorm")

#: The ch. 6 settings and the value that leaves them out of a run's name (so the names of sweeps
#: made before they existed, and of runs that do not use them, stay as they were).
NAMED_ONLY_IF_SET = {"weight_decay": 0.0, "dropout": 0.0, "batchnorm": False}

#: Command-line option of each swept setting (for error messages).
OPTION = {name: "--" + name.replace("_", "-") for name in SWEPT}

#: Short prefix of each setting in a run name: ``h50-sgd-lr0.1-b100-sigmoid-w0.01-s0``.
_NAME_PREFIX = {"hidden": "h", "optimizer": "", "lr": "lr", "batch_size": "b", "activation": "", "weight_init_std": "w",
                "weight_decay": "wd", "dropout": "do", "batchnorm": ""}

INIT_NAMES = ("he", "xavier", "auto", "relu", "sigmoid")  # the last two: the book's names for he, xavier


@dataclass(frozen=True)
class LogRange:
    """Sample ``10 ** uniform(log10 low, log10 high)``, rounded to 3 significant digits."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        value = 10.0 ** rng.uniform(math.log10(self.low), math.log10(self.high))
        return float(f"{value:.3g}")  # the name shows the value exactly as the run uses it

    def __str__(self) -> str:
        return f"{self.low:g}:{self.high:g} (log-uniform)"


@dataclass(frozen=True)
class IntRange:
    """Sample a whole number uniformly from ``low..high`` (both included)."""

    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def __str__(self) -> str:
        return f"{self.low}:{self.high} (uniform)"


Values = tuple[Any, ...] | LogRange | IntRange


@dataclass(frozen=True)
class PlannedRun:
    """One configuration with one seed: its folder name, the settings that vary, the full config."""

    name: str
    settings: dict[str, Any]
    config: TrainConfig


@dataclass(frozen=True)
class SweepSpace:
    """What to sweep: values (or ranges) per setting, seeds, and the settings all runs share.

    ``values`` maps names from :data:`SWEPT` to a tuple of values or a range; a setting left out
    keeps its value from ``base``. ``random=None`` means the full grid; ``random=N`` draws N
    configurations (ranges allowed) with ``np.random.default_rng(sample_seed)``.
    """

    values: Mapping[str, Values] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    base: TrainConfig = field(default_factory=TrainConfig)
    random: int | None = None
    sample_seed: int = 0

    def __post_init__(self) -> None:
        unknown = set(self.values) - set(SWEPT)
        if unknown:
            raise ConfigError(f"cannot sweep {sorted(unknown)}; sweepable settings are: {', '.join(SWEPT)}.")
        if not self.seeds:
            raise ConfigError("a sweep needs at least one seed, e.g. --seeds 1.")
        if self.random is not None and self.random < 1:
            raise ConfigError(f"--random must be a whole number >= 1, got {self.random!r}.")
        if self.random is None:
            for name, values in self.values.items():
                if isinstance(values, (LogRange, IntRange)):
                    raise ConfigError(
                        f"{OPTION[name]} {values.low:g}:{values.high:g} is a range, which only a random search "
                        f"can sample; add --random N, or give a list such as {OPTION[name]} {_example(name)}."
                    )
        sweep_size(self.random or self.grid_size(), len(self.seeds))  # before plan_runs builds the list

    def setting_values(self, name: str) -> Values:
        """The values of one setting: those given, or the base config's single value."""
        if name in self.values:
            return self.values[name]
        return (getattr(self.base, name),)

    def describe(self) -> str:
        """``3 lr × 2 optimizer × 3 seeds = 18 runs`` (grid) or ``20 random draws × 3 seeds = 60 runs``."""
        if self.random is not None:
            head = f"{self.random} random draws"
        else:
            counts = [(_count(self.setting_values(n)), n) for n in SWEPT]
            head = " × ".join(f"{k} {n}" for k, n in counts if k and k > 1) or "1 configuration"
        n_runs = (self.random or self.grid_size()) * len(self.seeds)
        return f"{head} × {len(self.seeds)} seed{'s' if len(self.seeds) > 1 else ''} = {n_runs} runs"

    def grid_size(self) -> int:
        return math.prod(_count(self.setting_values(n)) or 1 for n in SWEPT)

    def varied(self) -> tuple[str, ...]:
        """The settings that take more than one value (a range always does)."""
        return tuple(n for n in SWEPT if (_count(self.setting_values(n)) or 2) > 1)


def plan_runs(space: SweepSpace) -> list[PlannedRun]:
    """Every run of the sweep, in a fixed order: configurations (grid order or draw order) × seeds.

    Each config is a validated :class:`TrainConfig`, so a value that cannot train (``lr=-1``) is
    refused here, before anything starts.
    """
    if space.random is None:
        axes = [space.setting_values(n) for n in SWEPT]  # all tuples: __post_init__ refused ranges
        combos = [dict(zip(SWEPT, combo, strict=True)) for combo in itertools.product(*axes)]
        prefixes = [""] * len(combos)
    else:
        rng = np.random.default_rng(space.sample_seed)
        combos = [{n: _draw(n, space.setting_values(n), rng) for n in SWEPT} for _ in range(space.random)]
        width = max(3, len(str(space.random)))  # r001…: a larger --random N keeps the earlier names
        prefixes = [f"r{k:0{width}d}-" for k in range(1, space.random + 1)]
    runs = []
    for prefix, settings in zip(prefixes, combos, strict=True):
        for seed in space.seeds:
            config = space.base.replace(**{**settings, "seed": seed})
            runs.append(PlannedRun(name=prefix + run_name(settings, seed), settings=settings, config=config))
    return runs


def run_name(settings: Mapping[str, Any], seed: int) -> str:
    """A folder name that spells every swept setting, e.g. ``h100x50-adam-lr0.001-b100-relu-whe-s2``.

    Every setting is in the name (not only those that vary), so adding a value to a sweep later
    keeps the names of the runs already done — and the sweep can resume into the same folder.
    """
    parts = [_NAME_PREFIX[n] + format_value(n, settings[n]) for n in SWEPT
             if n not in NAMED_ONLY_IF_SET or settings[n] != NAMED_ONLY_IF_SET[n]]
    return "-".join([*parts, f"s{seed}"])


def format_value(name: str, value: Any) -> str:
    """How a value is written in names, tables and summary.csv: hidden ``(100, 50)`` → ``100x50``."""
    if name == "hidden":
        return "x".join(str(h) for h in value)
    if name == "batchnorm":
        return "bn" if value else "nobn"
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _draw(name: str, values: Values, rng: np.random.Generator) -> Any:
    if isinstance(values, (LogRange, IntRange)):
        value = values.sample(rng)
        return (value,) if name == "hidden" else value  # a width drawn from a range is one layer
    return values[int(rng.integers(len(values)))]


def _count(values: Values) -> int | None:
    """How many values a setting takes; ``None`` for a range (as many as there are draws)."""
    return None if isinstance(values, (LogRange, IntRange)) else len(values)


# -- parsing the command line's text ---------------------------------------------------------------

def parse_values(name: str, text: str) -> Values:
    """Turn an option's text into the values of one setting, or raise a one-line :class:`ConfigError`.

    ``"0.01,0.1,1"`` → ``(0.01, 0.1, 1.0)``; ``"1e-4:1e-1"`` → ``LogRange(1e-4, 0.1)`` (lr, weight decay);
    ``"off,on"`` → ``(False, True)`` (batchnorm);
    ``"50,100x50"`` → ``((50,), (100, 50))`` (hidden; ``x`` separates layers); ``"20:200"`` → a
    range of single-layer widths; ``"sgd,adam"`` → ``("sgd", "adam")``; ``all`` → every optimizer or
    activation. Duplicates are dropped, order is kept.
    """
    if name not in SWEPT:
        raise ConfigError(f"cannot sweep {name!r}; sweepable settings are: {', '.join(SWEPT)}.")
    option, text = OPTION[name], str(text).strip()
    if ":" in text:
        return _parse_range(name, text)
    parts = [p.strip() for p in text.split(",")]
    if not text or any(not p for p in parts):
        raise ConfigError(
            f"{option} {text!r} has an empty value; give comma-separated values like {option} {_example(name)}."
        )
    if name in ("optimizer", "activation") and parts == ["all"]:
        return tuple(OPTIMIZERS if name == "optimizer" else ACTIVATION_LAYERS)
    values = [_parse_item(name, p) for p in parts]
    return tuple(dict.fromkeys(values))  # drop duplicates, keep order


def _parse_item(name: str, part: str) -> Any:
    option = OPTION[name]
    if name == "lr":
        value = _number(part)
        if value is None or not value > 0:
            raise ConfigError(f"{option}: {part!r} is not a positive number; give e.g. {option} {_example(name)}.")
        return value
    if name in ("weight_decay", "dropout"):
        value = _number(part)
        top = "< 1" if name == "dropout" else ""
        if value is None or value < 0 or (name == "dropout" and value >= 1):
            raise ConfigError(f"{option}: {part!r} is not a number >= 0 {top}; give e.g. {option} {_example(name)}.")
        return value
    if name == "batchnorm":
        flags = {"on": True, "true": True, "yes": True, "bn": True, "off": False, "false": False, "no": False}
        if part.lower() not in flags:
            raise ConfigError(f"{option}: {part!r} is not on or off; give e.g. {option} off,on.")
        return flags[part.lower()]
    if name == "hidden":
        layers = [_whole(p) for p in part.split("x")]
        if any(h is None or h < 1 for h in layers):
            raise ConfigError(
                f"{option}: {part!r} is not a layer size; give whole numbers >= 1, with x between layers "
                f"for deeper networks, e.g. {option} 50,100x50."
            )
        return tuple(layers)
    if name == "batch_size":
        value = _whole(part)
        if value is None or value < 1:
            raise ConfigError(f"{option}: {part!r} is not a whole number >= 1; give e.g. {option} {_example(name)}.")
        return value
    if name == "weight_init_std":
        if part.lower() in INIT_NAMES:
            return part.lower()
        value = _number(part)
        if value is None or not value > 0:
            raise ConfigError(f"{option}: {part!r} is not a positive number or one of {', '.join(INIT_NAMES)}.")
        return value
    choices = tuple(OPTIMIZERS if name == "optimizer" else ACTIVATION_LAYERS)
    if part.lower() not in choices:
        raise ConfigError(f"{option}: unknown {name} {part!r}; choose from {', '.join(choices)} (or all).")
    return part.lower()


def _parse_range(name: str, text: str) -> LogRange | IntRange:
    option = OPTION[name]
    low_text, _, high_text = text.partition(":")
    if name in ("lr", "weight_decay"):
        low, high = _number(low_text), _number(high_text)
        if low is None or high is None or not 0 < low < high:
            raise ConfigError(
                f"{option} {text!r} is not a range LOW:HIGH with 0 < LOW < HIGH, e.g. {option} 1e-4:1e-1 "
                "(sampled log-uniformly)."
            )
        return LogRange(low, high)
    if name in ("hidden", "batch_size"):
        low_i, high_i = _whole(low_text), _whole(high_text)
        if low_i is None or high_i is None or not 1 <= low_i <= high_i:
            raise ConfigError(
                f"{option} {text!r} is not a range LOW:HIGH of whole numbers with 1 <= LOW <= HIGH, "
                f"e.g. {option} 20:200."
            )
        return IntRange(low_i, high_i)
    raise ConfigError(f"{option} takes a list of values, not a range; give e.g. {option} {_example(name)}.")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _example(name: str) -> str:
    return {"lr": "0.01,0.1,1", "hidden": "20,50,100", "optimizer": "sgd,adam", "batch_size": "50,100",
            "activation": "sigmoid,relu", "weight_init_std": "0.01,he", "weight_decay": "0,0.1",
            "dropout": "0,0.15", "batchnorm": "off,on"}[name]
