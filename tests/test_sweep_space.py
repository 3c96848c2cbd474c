"""The sweep's space: parsing option text, the grid, the log-uniform random search, run names."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlplab.errors import ConfigError
from mlplab.optim import OPTIMIZERS
from mlplab.sweep import SWEPT, IntRange, LogRange, SweepSpace, parse_values, plan_runs
from mlplab.sweep.space import format_value
from mlplab.train import TrainConfig


def test_parse_lists_ranges_layers_and_all():
    assert parse_values("lr", "0.01, 0.1,1") == (0.01, 0.1, 1.0)
    assert parse_values("lr", "0.1,0.1,1e-3") == (0.1, 0.001)  # duplicates dropped, order kept
    assert parse_values("lr", "1e-4:1e-1") == LogRange(1e-4, 0.1)
    assert parse_values("hidden", "50,100x50") == ((50,), (100, 50))
    assert parse_values("hidden", "20:200") == IntRange(20, 200)
    assert parse_values("optimizer", "SGD,adam") == ("sgd", "adam")
    assert parse_values("optimizer", "all") == tuple(OPTIMIZERS)
    assert parse_values("weight_init_std", "0.01,he") == (0.01, "he")


@pytest.mark.parametrize(("name", "text", "says"), [
    ("lr", "abc", "--lr: 'abc' is not a positive number"),
    ("lr", "0,1", "--lr: '0' is not a positive number"),
    ("lr", "0.1,,1", "empty value"),
    ("lr", "1:0.1", "0 < LOW < HIGH"),
    ("hidden", "50x0", "--hidden: '50x0' is not a layer size"),
    ("optimizer", "sgd,foo", "unknown optimizer 'foo'; choose from sgd, momentum"),
    ("activation", "softplus", "unknown activation 'softplus'"),
    ("batch_size", "1.5", "--batch-size: '1.5' is not a whole number"),
    ("optimizer", "a:b", "--optimizer takes a list of values, not a range"),
])
def test_bad_text_is_one_line_naming_the_option(name, text, says):
    with pytest.raises(ConfigError) as err:
        parse_values(name, text)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_grid_is_the_product_in_a_fixed_order_times_seeds():
    space = SweepSpace(values={"lr": (0.01, 0.1, 1.0), "hidden": ((20,), (50,)), "optimizer": ("sgd", "adam")},
                       seeds=(0, 1, 2), base=TrainConfig(iters=123, train_size=500))
    runs = plan_runs(space)
    assert len(runs) == 3 * 2 * 2 * 3 == space.grid_size() * 3
    assert space.describe() == "2 hidden × 2 optimizer × 3 lr × 3 seeds = 36 runs"
    combos = {(r.config.lr, r.config.hidden, r.config.optimizer, r.config.seed) for r in runs}
    assert len(combos) == 36  # every combination exactly once
    assert all(r.config.iters == 123 and r.config.train_size == 500 for r in runs)  # fixed settings kept
    assert [r.config.seed for r in runs[:3]] == [0, 1, 2]  # seeds innermost
    assert runs[0].name == "h20-sgd-lr0.01-b100-sigmoid-w0.01-s0"
    assert len({r.name for r in runs}) == len(runs)


def test_a_range_without_random_is_refused():
    with pytest.raises(ConfigError, match="only a random search can sample; add --random N"):
        SweepSpace(values={"lr": LogRange(1e-4, 1.0)})


def test_random_search_is_log_uniform_in_lr_and_repeatable():
    space = SweepSpace(values={"lr": LogRange(1e-4, 1.0), "hidden": IntRange(20, 200), "optimizer": ("sgd", "adam")},
                       random=2000, sample_seed=7, base=TrainConfig(iters=10))
    runs = plan_runs(space)
    lrs = np.array([r.config.lr for r in runs])
    assert lrs.min() >= 1e-4 * (1 - 5e-3) and lrs.max() <= 1.0 * (1 + 5e-3)  # 3 significant digits
    # Log-uniform: each decade of 1e-4..1 holds a quarter of the draws (a uniform draw would put
    # 90% in the top decade). 2000 draws: the standard error of a quarter is 1%.
    decades = np.histogram(np.log10(lrs), bins=[-4, -3, -2, -1, 0])[0] / lrs.size
    assert np.all(np.abs(decades - 0.25) < 0.05)
    widths = np.array([r.config.hidden[0] for r in runs])
    assert widths.min() == 20 and widths.max() == 200  # both ends included
    assert {r.config.optimizer for r in runs} == {"sgd", "adam"}
    assert [r.name for r in plan_runs(space)] == [r.name for r in runs]  # same command, same plan
    other = plan_runs(SweepSpace(values=space.values, random=2000, sample_seed=8, base=space.base))
    assert [r.config.lr for r in other] != list(lrs)
    assert runs[0].name.startswith("r0001-")
    fewer, more = (plan_runs(SweepSpace(values=space.values, random=n, sample_seed=7, base=space.base))
                   for n in (20, 200))
    assert [r.name for r in fewer] == [r.name for r in more[:20]]  # more draws extend the search, same names
    assert fewer[0].name.startswith("r001-")


@given(st.floats(min_value=1e-8, max_value=1e3, allow_nan=False))
def test_a_value_written_in_a_name_reads_back_exactly(lr):
    assert float(format_value("lr", lr)) == lr


def test_names_spell_every_setting_so_adding_values_keeps_old_names():
    small = plan_runs(SweepSpace(values={"lr": (0.1,)}, base=TrainConfig(iters=10)))
    larger = plan_runs(SweepSpace(values={"lr": (0.1, 1.0), "optimizer": ("sgd", "adam")}, base=TrainConfig(iters=10)))
    assert small[0].name in {r.name for r in larger}
    for name in SWEPT:
        assert name in small[0].settings


def test_invalid_configurations_are_refused_when_planned():
    space = SweepSpace(values={"lr": (0.1,), "batch_size": (100, 0)}, base=TrainConfig(iters=10))
    with pytest.raises(ConfigError, match="batch_size must be a whole number >= 1, got 0"):
        plan_runs(space)


def test_describe_counts_random_draws():
    space = SweepSpace(values={"lr": LogRange(1e-3, 1.0)}, random=20, seeds=(0, 1, 2))
    assert space.describe() == "20 random draws × 3 seeds = 60 runs"
    assert len(plan_runs(space)) == 60
