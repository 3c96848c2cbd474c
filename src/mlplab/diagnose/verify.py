"""Check a prescription by measurement: rerun the run's settings and the prescribed ones, compare.

Both reruns start from the run's own seed, so they begin from the same initial weights (or the same
draws rescaled, when the std changes) and see the same mini-batches; the only difference is the
prescribed setting. A prescription *helps* when the measurement shows it: the test accuracy at the end
of the budget is at least :data:`MIN_GAIN` higher, without diverging (for over-fitting, a test loss at
least :data:`LOSS_GAIN` lower also counts, as long as the accuracy does not drop). It is called a
**fix** only when it helps *and* the finding's rule, run on the rerun's own records, no longer fires.
Otherwise the next candidate is tried, at most three; if none is a fix, the output says so and names
the one that helped most.

Example
-------
>>> for v in verify_run("runs/lr300"):                       # doctest: +SKIP
...     print(v.summary())
lr-too-high: --lr 0.73 is a fix: test accuracy 10.1 % → 90.6 % at iteration 600 (test loss 2.3 → 0.34)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from mlplab.diagnose import diagnose, diagnose_run
from mlplab.diagnose.insight import Insight, Prescription
from mlplab.diagnose.prescribe import check_same_data, cut_dataset
from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStatsRecorder
from mlplab.train.run_folder import load_run
from mlplab.train.trainer import Dataset, load_dataset, train

#: A fix raises the test accuracy by at least one point...
MIN_GAIN = 0.01
#: ...or, for over-fitting, lowers the test loss by at least 5 % without losing accuracy.
LOSS_GAIN = 0.05
#: The default budget: one epoch, but never fewer than this many iterations (an epoch of 300 images
#: is 3 iterations, too short to show anything), and never more than the run itself.
MIN_BUDGET = 600
#: Evaluations per verification run (the curves of the figure).
EVALUATIONS = 10
#: Rules whose symptom appears only late in a run: verified over the run's whole length.
LATE_RULES = ("overfitting",)


@dataclass
class Trial:
    """One rerun: the settings changed (``{}`` for the run's own) and what it recorded."""

    settings: dict[str, Any]
    history: History
    findings: tuple[str, ...] = ()  # the rules that fire on this rerun's records

    @property
    def diverged(self) -> bool:
        return self.history.status == "diverged" or not self.history.test_acc

    @property
    def test_acc(self) -> float:
        return self.history.test_acc[-1] if self.history.test_acc else float("nan")

    @property
    def test_loss(self) -> float:
        return self.history.test_loss[-1] if self.history.test_loss else float("nan")

    @property
    def last_iteration(self) -> int:
        return self.history.iterations[-1] if self.history.iterations else len(self.history.loss)

    def to_dict(self) -> dict[str, Any]:
        h = self.history
        return {"settings": self.settings, "diverged": self.diverged, "test_acc": self.test_acc,
                "test_loss": self.test_loss, "last_iteration": self.last_iteration, "iterations": h.iterations,
                "curve_test_acc": h.test_acc, "curve_train_loss": h.train_loss, "status": h.status,
                "findings": list(self.findings)}


@dataclass
class Verification:
    """The rerun of one finding's prescriptions: the run's settings, then each candidate tried."""

    rule: str
    budget: int
    seed: int
    original: Trial
    tried: list[tuple[Prescription, Trial, bool]] = field(default_factory=list)  # (candidate, rerun, helped)
    also: list[str] = field(default_factory=list)  # other findings with the same candidates (verified once)
    baseline: dict[str, Any] = field(default_factory=dict)  # the run's values of the settings prescribed

    @property
    def baseline_options(self) -> str:
        return Prescription(self.baseline, "").options()

    @property
    def label(self) -> str:
        return self.rule + (f" (and {', '.join(self.also)})" if self.also else "")

    def is_fix(self, trial: Trial, helped: bool) -> bool:
        return helped and not {self.rule, *self.also}.intersection(trial.findings)

    @property
    def fix(self) -> Prescription | None:
        return next((p for p, t, h in self.tried if self.is_fix(t, h)), None)

    @property
    def best(self) -> tuple[Prescription, Trial] | None:
        """The candidate with the highest test accuracy among those that helped (a fix or not)."""
        helpers = [(p, t) for p, t, h in self.tried if h]
        return max(helpers, key=lambda pt: pt[1].test_acc) if helpers else None

    def lines(self) -> list[str]:
        """One line per candidate tried: before → after and whether it is a fix."""
        before = self.original
        out = []
        for p, trial, helped in self.tried:
            still = sorted({self.rule, *self.also} & set(trial.findings))
            verdict = ("is a fix" if self.is_fix(trial, helped) else
                       f"helps, but {' and '.join(still)} still fire{'s' if len(still) == 1 else ''} on the rerun"
                       if helped else "did not help")
            change = (f"test accuracy {_pct(before.test_acc)} → {_pct(trial.test_acc)} at iteration "
                      f"{trial.last_iteration} (test loss {_num(before.test_loss)} → {_num(trial.test_loss)})")
            if before.diverged:
                change = (f"the run's settings diverge at iteration {len(before.history.loss)}, the option reaches "
                          f"test accuracy {_pct(trial.test_acc)} at iteration {trial.last_iteration} "
                          f"(test loss {_num(trial.test_loss)})")
            if trial.diverged:
                change = f"the rerun diverged ({trial.history.message or trial.history.status})"
            was = Prescription({k: self.baseline.get(k) for k in p.settings}, "").options()
            out.append(f"{self.label}: {was} → {p.options()} {verdict}: {change}")
        if self.fix is None:
            best = self.best
            tail = f"; the best was {best[0].options()}" if best else ""
            out.append(f"{self.label}: none of the {len(self.tried)} candidates is a fix within {self.budget} "
                       f"iterations{tail}")
        return out

    def summary(self) -> str:
        return self.lines()[-1] if self.fix is None else next(line for line in self.lines() if "is a fix" in line)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "also": self.also, "budget": self.budget, "seed": self.seed,
                "original": self.original.to_dict(), "baseline": self.baseline,
                "baseline_options": self.baseline_options,
                "tried": [{"prescription": p.to_dict(), "trial": t.to_dict(), "helped": h} for p, t, h in self.tried],
                "fix": None if self.fix is None else self.fix.to_dict(), "lines": self.lines()}


def _pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def _num(x: float) -> str:
    return f"{x:.3g}"


def helped(before: Trial, after: Trial, rule: str) -> bool:
    """Does ``after`` measure better than ``before``? (See the module docstring for the thresholds.)"""
    if after.diverged:
        return False
    gain = after.test_acc - before.test_acc
    if before.diverged or gain >= MIN_GAIN:
        return True
    return rule in LATE_RULES and gain > -MIN_GAIN / 2 and after.test_loss <= (1 - LOSS_GAIN) * before.test_loss


def default_budget(config: TrainConfig, n_train: int, rule: str) -> int:
    """One epoch (at least :data:`MIN_BUDGET` iterations), or the run's length if shorter; late symptoms
    (over-fitting) the run's length."""
    if rule in LATE_RULES:
        return config.iters
    epoch = max(n_train // config.batch_size, 1)
    return min(config.iters, max(epoch, MIN_BUDGET))


def evaluation_interval(budget: int, config: TrainConfig, n_train: int) -> int:
    """Evaluate every k iterations with k dividing ``budget`` (so its last iteration is evaluated): the
    run's own interval when it divides and gives 5 to 40 points, else ``budget / EVALUATIONS`` or near."""
    own = config.eval_every or max(n_train // config.batch_size, 1)
    if budget % own == 0 and 5 <= budget // own <= 40:
        return own
    return next((budget // n for n in range(EVALUATIONS, 0, -1) if budget % n == 0), budget)


def rerun(config: TrainConfig, settings: dict[str, Any], budget: int, every: int, data: Dataset) -> Trial:
    """Train ``config`` with ``settings`` for ``budget`` iterations (evaluated at 0, every, …, budget), in memory,
    recording its layer statistics so that the rules can be run on it too.

    An ``iters`` in ``settings`` (early stopping) replaces the budget.
    """
    iters = settings.get("iters", budget + 1)
    changed = config.replace(**{**settings, "iters": iters, "eval_every": every})
    cut = cut_dataset(data, changed)
    recorder = LayerStatsRecorder(None, cut[0][0], every, cut[0][1])
    result = train(changed, data=cut, observers=[recorder], record_layer_stats=False)
    findings = tuple(i.rule for i in diagnose(result.history, recorder.stats, changed))
    return Trial(settings=dict(settings), history=result.history, findings=findings)


def verify(insight: Insight, config: TrainConfig, data: Dataset, *, budget: int | None = None,
           max_candidates: int = 3, cache: dict[str, Trial] | None = None) -> Verification:
    """Rerun the run's settings and the insight's prescriptions in order until one is a fix.

    ``data`` is the whole (uncut) dataset; ``cache`` shares reruns between findings with the same candidates.
    """
    cache = {} if cache is None else cache
    n_train = cut_dataset(data, config)[0][0].shape[0]
    budget = budget or default_budget(config, n_train, insight.rule)
    every = evaluation_interval(budget, config, n_train)

    def run(settings: dict[str, Any]) -> Trial:
        key = repr((sorted(settings.items()), budget, every))
        if key not in cache:
            cache[key] = rerun(config, settings, budget, every, data)
        return cache[key]

    changed = {k for p in insight.prescriptions for k in p.settings}
    baseline = {k: getattr(config, k) if getattr(config, k) is not None else _whole_set(k, data)
                for k in sorted(changed)}
    verification = Verification(rule=insight.rule, budget=budget, seed=config.seed, original=run({}),
                                baseline=baseline)
    for p in insight.prescriptions[:max_candidates]:
        trial = run(p.settings)
        good = helped(verification.original, trial, insight.rule)
        verification.tried.append((p, trial, good))
        if verification.is_fix(trial, good):
            break
    return verification


def _whole_set(key: str, data: Dataset) -> Any:
    """The value a ``None`` setting stands for (``train_size=None``: every training row)."""
    return data[0][0].shape[0] if key == "train_size" else None


def verify_run(run_dir: str | os.PathLike, *, budget: int | None = None, insights: list[Insight] | None = None,
               max_candidates: int = 3) -> list[Verification]:
    """Diagnose a run folder and verify every finding that has prescriptions (findings with the same
    candidates, e.g. a too-high learning rate and the saturation it caused, once)."""
    run = load_run(run_dir)
    data = load_dataset(run.config.replace(train_size=None, test_size=None))
    check_same_data(run, data)  # a clear error, not a rerun of a different network
    if insights is None:
        insights = diagnose_run(run_dir)
    cache: dict[str, Trial] = {}
    done: dict[tuple[str, ...], Verification] = {}
    for i in insights:
        key = tuple(p.options() for p in i.prescriptions[:max_candidates])
        if not key:
            continue
        if key in done:
            done[key].also.append(i.rule)
            continue
        done[key] = verify(i, run.config, data, budget=budget, max_candidates=max_candidates, cache=cache)
    return list(done.values())
