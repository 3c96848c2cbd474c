"""Prescriptions: for each finding, settings computed from the run itself, best first (at most three).

The rules in :mod:`mlplab.diagnose.rules` read the records and say *what* is wrong; this module
measures the run at its starting point to say *which value* to use instead:

- a **learning rate** from the loss surface's sharpness. On a quadratic with curvature λ, plain
  gradient descent multiplies the error along that direction by (1 − lr·λ) per step, so it diverges
  once lr > 2/λ. The sharpest direction (λ_max, :mod:`mlplab.nn.sharpness`) sets the limit for the
  network. The first candidate is **half the limit, 1/λ_max for SGD**: there the factor 1 − lr·λ_max
  is 0 (the error along the sharpest direction is removed in one step, without oscillating), and the
  factor 2 of margin leaves room for what λ_max at the start does not see: training sharpens the
  surface (λ_max grew 1.29 → 1.88 in the 300-image run) and a 100-row mini-batch is sharper than
  the 500 rows measured. The next candidates halve it again (¼ and ⅛ of the limit).
  With momentum m the limit is 2(1 + m)/λ_max (heavy ball) or (2 + 2m)/((1 + 2m)·λ_max) (Nesterov),
  from the same quadratic; adaptive optimizers (AdaGrad, RMSprop, Adam) rescale every coordinate,
  so λ_max gives no limit for them and the candidates are plain factors of 10, said as such.
- an **initial weight scale** from the pre-activations it produces. With weights drawn at std s a
  unit's pre-activation a = x·w has RMS s·‖x‖ (RMS over rows), so for MNIST (‖x‖ ≈ 9.3) std 3 gives
  RMS ≈ 28, deep in the sigmoid's flat tails (it saturates beyond |a| ≈ 4.6), while RMS 1 keeps
  most units where the slope is ≥ 79 % of its maximum. The prescribed std is the one that gives RMS
  1 (then 0.3) in every hidden layer, measured on the run's own initial weights, rescaled.
- **data, stopping point, architecture** from the recorded history (over-fitting, vanishing gradients).

"The run at its start" is rebuilt exactly: :func:`mlplab.train.train` with the run's config and seed
is started on a few rows and its initial parameters captured, so the same code that drew them for the
run draws them again.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from mlplab.diagnose.insight import Insight, Prescription
from mlplab.diagnose.rules import DEAD_SHARE, INIT_LOSS_FACTOR, SATURATION_SHARE
from mlplab.errors import DataError
from mlplab.nn.layers import ACTIVATION_LAYERS, Affine
from mlplab.nn.networks import LayerNet, init_std, network_from_params
from mlplab.nn.sharpness import sharpness, stability_factor
from mlplab.train import trainer
from mlplab.train.config import TrainConfig
from mlplab.train.layer_stats import activation_summary, probe_activations, probe_rows
from mlplab.train.run_folder import Run
from mlplab.train.trainer import Dataset, load_dataset

#: λ_max is measured on this many training rows, spread evenly over the set, in float64. 500 rows give
#: the same two digits as 1000 at the textbook's start (1.41 and 1.41; He-initialised ReLU: 7.97 and
#: 8.17) at half the cost, which matters for deep nets (784-100-100-100: 0.4 s per product on 1000 rows).
SHARPNESS_ROWS = 500
SHARPNESS_TOL = 1e-2
#: Candidate learning rates as fractions of the stability limit (½ of 2/λ_max = 1/λ_max for SGD, …).
LR_FRACTIONS = (0.5, 0.25, 0.125)
#: Target RMS of the hidden pre-activations for a sigmoid/tanh start: 1, then 0.3.
TARGET_RMS = (1.0, 0.3)
#: Over-fitting: ten times the training rows (up to the whole set).
MORE_DATA = 10


def significant(x: float, digits: int = 2) -> float:
    """``x`` rounded to ``digits`` significant digits: 0.7093 → 0.71 (a value a person can type)."""
    return float(f"{x:.{digits}g}")


# -- the run at its start --------------------------------------------------------------------------

@dataclass
class Start:
    """The run at its initial weights, measured on ``x`` (``SHARPNESS_ROWS`` spread training rows).

    ``preact_rms[j]`` is the RMS pre-activation of hidden layer j + 1; ``stuck[j]`` its share of saturated
    (sigmoid/tanh) or dead (ReLU) units; ``weight_std[j]`` the std of W_{j+1} as drawn.
    """

    network: LayerNet
    x: np.ndarray
    t: np.ndarray
    preact_rms: list[float]
    stuck: list[float]
    weight_std: list[float]
    loss: float  # mean cross-entropy at the initial weights on ``x``
    _sharpness: float | None = None

    @property
    def sharpness(self) -> float:
        """λ_max at the initial weights (measured on first use: a few dozen Hessian-vector products)."""
        if self._sharpness is None:
            # 1 % is plenty: the prescribed value is rounded to two digits and checked by --verify
            self._sharpness = sharpness(self.network, self.x, self.t, tol=SHARPNESS_TOL).value
        return self._sharpness


def initial_network(config: TrainConfig, data: Dataset) -> LayerNet:
    """The network exactly as ``train(config, data=data)`` initialised it (same seed, same draws)."""
    (x, t), (x_test, t_test) = data
    n_classes = int(max(np.max(t), np.max(t_test))) + 1
    return trainer.initial_network(config, int(np.prod(x.shape[1:])), n_classes)


def preactivations(network: LayerNet, x: np.ndarray) -> list[np.ndarray]:
    """The inputs of each hidden activation (the affine outputs that feed one), ``(N, H)`` each."""
    outs = []
    for layer, nxt in zip(network.layers, network.layers[1:], strict=False):
        x = layer.forward(x)
        if isinstance(layer, Affine) and not isinstance(nxt, Affine):
            outs.append(x)
    return outs


def rms(a: np.ndarray) -> float:
    """Root mean square over every entry, √(mean a²), summed in float64."""
    return float(np.sqrt(np.mean(np.square(a, dtype=np.float64))))


def measure_start(config: TrainConfig, data: Dataset) -> Start:
    """Rebuild the run's start (``data``: the run's own training and test sets) and measure it."""
    network = initial_network(config, data)
    (x_train, t_train), _ = data
    rows = probe_rows(x_train.shape[0], SHARPNESS_ROWS)
    x = np.asarray(x_train[rows], dtype=np.float64).reshape(rows.size, -1)
    t = np.asarray(t_train[rows])
    with np.errstate(over="ignore", invalid="ignore"):
        stuck = []
        for layer, out in probe_activations(network, x):
            summary = activation_summary(layer, out)
            stuck.append(summary["act_saturated"] if summary["act_dead"] is None else summary["act_dead"])
        pre = [rms(a) for a in preactivations(network, x)]
        loss = float(network.loss(x, t))
    stds = [float(np.std(network.params[f"W{j}"], dtype=np.float64)) for j in range(1, len(network.affine_layers) + 1)]
    return Start(network=network, x=x, t=t, preact_rms=pre, stuck=stuck, weight_std=stds, loss=loss)


def rescaled(network: LayerNet, stds: list[float]) -> LayerNet:
    """A copy whose weights W_j are the same draws rescaled to std ``stds[j]`` (biases unchanged)."""
    copy = network_from_params(network.params, network.sizes, network.activation)
    for j, s in enumerate(stds, start=1):
        w = copy.params[f"W{j}"]
        w *= s / np.std(w)
    return copy


# -- learning rate ---------------------------------------------------------------------------------

def stability_limit(config: TrainConfig, lam: float) -> float | None:
    """The learning rate above which the run's optimizer diverges on a quadratic of curvature ``lam``
    (:func:`~mlplab.nn.sharpness.stability_factor` / λ); ``None`` for adaptive optimizers."""
    factor = stability_factor(config.optimizer, float(config.optimizer_options.get("momentum", 0.9)))
    return None if factor is None or not lam > 0 else factor / lam


def lr_prescriptions(config: TrainConfig, start: Start, *, direction: str) -> tuple[Prescription, ...]:
    """Learning rates from λ_max at the start (``direction`` "lower" or "raise" for the adaptive case)."""
    lam = start.sharpness
    limit = stability_limit(config, lam)
    if limit is None:
        factor = 0.1 if direction == "lower" else 10.0
        return tuple(Prescription({"lr": significant(config.lr * factor ** k)},
                                  f"{config.optimizer} rescales each step per weight, so λ_max = {lam:.3g} sets "
                                  f"no limit; {factor ** k:g}× the run's lr (checked by --verify, not computed)")
                     for k in (1, 2, 3))
    out = []
    for k, f in enumerate(LR_FRACTIONS):
        lr = significant(f * limit)
        why = (f"{_fraction(f)} the stability limit {_limit_formula(config)} = {limit:.3g}, with λ_max = {lam:.3g} "
               f"at the run's initial weights ({start.x.shape[0]} training rows); the run used lr {config.lr:g}"
               if k == 0 else f"{_fraction(f)} the stability limit")
        out.append(Prescription({"lr": lr}, why))
    return tuple(out)


def _fraction(f: float) -> str:
    return {0.5: "half", 0.25: "a quarter of", 0.125: "an eighth of"}.get(f, f"{f:g} ×")


def _limit_formula(config: TrainConfig) -> str:
    return {"momentum": "2(1 + m)/λ_max", "nesterov": "(2 + 2m)/((1 + 2m)λ_max)"}.get(config.optimizer, "2/λ_max")


# -- initial weights -------------------------------------------------------------------------------

def std_prescriptions(config: TrainConfig, start: Start) -> tuple[Prescription, ...]:
    """Initial weight scales smaller than the run's (ReLU: He; sigmoid/tanh: RMS pre-activation 1, 0.3)."""
    numeric = isinstance(config.weight_init_std, float | int)
    used = f"{config.weight_init_std:g}" if numeric else _stds_text(start.weight_std)
    if ACTIVATION_LAYERS[config.activation].init == "he":  # the layer's own advice: He init
        he = [init_std("he", n, config.activation) for n in start.network.sizes[:-1]]
        if all(h < s for h, s in zip(he, start.weight_std, strict=False)):
            after = [rms(a) for a in preactivations(rescaled(start.network, he), start.x)]
            return (Prescription({"weight_init_std": "he"},
                                 f"He init √(2/fan_in) = {_stds_text(he)} instead of {used}: hidden pre-activation "
                                 f"RMS {_stds_text(after)} instead of {_stds_text(start.preact_rms)}"),)
        return ()
    out = []
    for target in TARGET_RMS:
        std, after = _std_for_rms(start, target)
        if std < min(start.weight_std):
            out.append(Prescription({"weight_init_std": std},
                                    f"std {std:g} instead of {used}: hidden pre-activation RMS {_stds_text(after)} "
                                    f"instead of {_stds_text(start.preact_rms)} ({config.activation} is nearly linear "
                                    f"for |a| ≲ 1 and flat beyond |a| ≈ "
                                    f"{ACTIVATION_LAYERS[config.activation].flat_beyond:g})"))
    return tuple(out)


def _std_for_rms(start: Start, target: float) -> tuple[float, list[float]]:
    """One std for every layer (the CLI takes one number) whose largest hidden pre-activation RMS is
    ``target``, found on the run's own draws: layer 1's RMS is proportional to the std, deeper ones
    nearly so, so a few rescalings converge."""
    std = min(start.weight_std) * target / max(start.preact_rms)
    for _ in range(5):
        after = [rms(a) for a in preactivations(rescaled(start.network, [std] * len(start.weight_std)), start.x)]
        std *= target / max(after)
    std = significant(std)
    after = [rms(a) for a in preactivations(rescaled(start.network, [std] * len(start.weight_std)), start.x)]
    return std, after


def _stds_text(values: list[float]) -> str:
    return ", ".join(f"{v:.2g}" for v in values) if len(set(np.round(values, 6))) > 1 else f"{values[0]:.2g}"


# -- the prescription for each finding --------------------------------------------------------------

def _start_too_large(start: Start) -> bool:
    """The loss at the initial weights is already far above chance (ln C): the start is the problem."""
    return start.loss >= INIT_LOSS_FACTOR * math.log(start.network.sizes[-1])


def _lower_lr(config: TrainConfig, start: Start) -> tuple[Prescription, ...]:
    """Smaller learning rates; smaller initial weights first when the start is already far off."""
    lower = lr_prescriptions(config, start, direction="lower")
    return (std_prescriptions(config, start) + lower)[:3] if _start_too_large(start) else lower


def _from_steps_or_start(insight: Insight, config: TrainConfig, start: Start, share: float) -> tuple[Prescription, ...]:
    """Saturated or dead units: caused by the start when they are there at the initial weights (measured
    again here), by the learning rate when the records show large steps; otherwise nothing in the
    settings explains them (e.g. biases changed by hand) and nothing is prescribed."""
    if any(s > share for s in start.stuck):
        return std_prescriptions(config, start)
    if insight.numbers.get("after_large_steps"):
        return _lower_lr(config, start)
    return ()


def _overfitting(insight: Insight, config: TrainConfig, n_train: int, n_full: int) -> tuple[Prescription, ...]:
    out = []
    if n_train < n_full:
        more = min(MORE_DATA * n_train, n_full)
        out.append(Prescription({"train_size": more}, f"{more} training images instead of {n_train}: "
                                "harder to memorise, more to generalise from"))
    best = insight.numbers["best_test_iteration"]
    out.append(Prescription({"iters": best + 1}, f"stop after iteration {best}, where the test loss was lowest"))
    return tuple(out)


def prescriptions_for(insight: Insight, config: TrainConfig, start: Start, n_train: int,
                      n_full: int) -> tuple[Prescription, ...]:
    """The candidates for one finding, best first (at most three)."""
    rule = insight.rule
    if rule == "nan-loss":
        causes = insight.numbers.get("causes", [])
        found: tuple[Prescription, ...] = ()
        if any("initial weights" in c for c in causes):
            found += std_prescriptions(config, start)
        if "learning rate too high" in causes:
            found += lr_prescriptions(config, start, direction="lower")
        return found[:3]
    if rule == "lr-too-high":
        return _lower_lr(config, start)
    if rule == "lr-too-low":
        return lr_prescriptions(config, start, direction="raise")
    if rule == "saturation":
        return _from_steps_or_start(insight, config, start, SATURATION_SHARE)
    if rule == "dead-relu":
        return _from_steps_or_start(insight, config, start, DEAD_SHARE)
    if rule == "vanishing-gradients":
        return (Prescription({"activation": "relu", "weight_init_std": "he"},
                             f"the gradient reaching W1 is {insight.numbers['ratio']:.2g}× the last layer's; "
                             "ReLU's slope is 1 where it is active (sigmoid's at most 0.25)"),)
    if rule == "overfitting":
        return _overfitting(insight, config, n_train, n_full)
    if rule == "plateau":
        limit = stability_limit(config, start.sharpness)
        if limit is not None and config.lr < LR_FRACTIONS[-1] * limit:
            return lr_prescriptions(config, start, direction="raise")
        return (Prescription({"iters": 2 * config.iters}, "twice as many iterations: the loss may still fall"),)
    return ()


def prescribe(insights: list[Insight], run: Run, data: Dataset | None = None) -> list[Insight]:
    """The insights with their prescriptions filled in. Measures the run's start only when a finding
    needs it (a healthy run costs nothing); ``data`` (the whole training set, uncut) saves a reload."""
    needs = {"nan-loss", "lr-too-high", "lr-too-low", "saturation", "dead-relu", "vanishing-gradients",
             "overfitting", "plateau"}
    if not any(i.rule in needs for i in insights):
        return insights
    config = run.config
    if data is None:
        data = load_dataset(config.replace(train_size=None, test_size=None))
    check_same_data(run, data)
    n_full = data[0][0].shape[0]
    cut = cut_dataset(data, config)
    start = measure_start(config, cut)
    n_train = cut[0][0].shape[0]
    return [dataclasses.replace(i, prescriptions=prescriptions_for(i, config, start, n_train, n_full)[:3])
            if i.rule in needs else i for i in insights]


def check_same_data(run: Run, data: Dataset) -> None:
    """Refuse data the run was not trained on (a run trained on arrays passed to ``train(data=...)``
    cannot be reloaded from its config): its input width and classes must match the saved network."""
    (x, t), (_, t_test) = data
    width, classes = int(np.prod(x.shape[1:])), int(max(np.max(t), np.max(t_test))) + 1
    if (width, max(classes, 2)) != (run.sizes[0], run.sizes[-1]):
        raise DataError(f"{run.path} was trained on data with {run.sizes[0]} inputs and {run.sizes[-1]} classes, "
                        f"not on the data its config names ({width} inputs, {classes} classes); options and "
                        "--verify need to rerun it, which only works for runs on MNIST or a --data-dir.")


def cut_dataset(data: Dataset, config: TrainConfig) -> Dataset:
    """The run's training and test sets: the first ``train_size`` / ``test_size`` rows of the whole ones."""
    (x, t), (xt, tt) = data
    n, m = config.train_size, config.test_size
    return (x[:n], t[:n]) if n else (x, t), (xt[:m], tt[:m]) if m else (xt, tt)

