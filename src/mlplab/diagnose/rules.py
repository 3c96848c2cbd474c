"""The rules: one small function each, looking at a run's record and returning an Insight or None.

Every rule has the signature ``rule(history, stats, config) -> Insight | None``; ``stats`` (the
:class:`~mlplab.train.layer_stats.LayerStats`) may be ``None`` for runs recorded without it, and the
rules that need it then stay silent. The thresholds below were tuned on real runs (MNIST, 784-50-10
and deeper nets, sigmoid/tanh/ReLU, SGD and Adam, lr from 1e-5 to 1000); each comment says which
numbers the healthy and the broken runs gave, so the margin is visible.

Vocabulary: *chance level* is ln C (2.30 for 10 classes), the cross-entropy of guessing uniformly;
the *update ratio* ‖ΔW‖/‖W‖ is how far one step moves a layer's weights, relative to their size.
"""

from __future__ import annotations

import math
import re

import numpy as np

from mlplab.diagnose.insight import Insight
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.train.config import TrainConfig
from mlplab.train.divergence import INIT_LOSS_FACTOR
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStats

# -- thresholds ----------------------------------------------------------------------------------

#: The mini-batch loss peaking at ≥ 1.25× its first value means the steps overshoot. Healthy runs
#: peak at ≤ 1.07× (sigmoid lr 1.0: 2.46 vs 2.30); too high: Adam lr 0.05 1.32×, SGD lr 10 2.7×,
#: lr 1000 335×.
LOSS_SPIKE = 1.25
#: The *training-set* loss (full set, no batch noise) rising between two evaluations by more than
#: 10 % and 0.02 means the steps overshoot. Healthy runs fall at every evaluation; Adam lr 0.05 rose
#: 22 % (0.104 → 0.127). The absolute floor keeps a near-zero loss's tiny wobble from counting.
LOSS_RISE = 0.10
LOSS_RISE_MIN = 0.02
#: Rule of thumb (CS231n, "babysitting the learning process"): a step moves the weights by about
#: 1e-3 of their size. Healthy textbook run: 4e-4 … 4e-3 after the first step.
UPDATE_RATIO_HEALTHY = 1e-3
#: Every layer's median step ≥ 0.05 of its weights (50× the rule of thumb): far too big. Healthy
#: runs (sigmoid lr 1, ReLU He lr 0.5) stay at ≤ 0.013. "Every layer", because one layer alone can
#: take big steps for a good reason: the textbook's W2 starts at 0.01 and grows by 8–15 % a step
#: over the first hundred iterations; a deep sigmoid net's last layer moves 13 % while stuck.
#: The very first step is left out for the same reason.
UPDATE_RATIO_HIGH = 0.05
#: Median step ≤ 2.5e-4 of the weights (4× under the rule of thumb) in every layer: too small to learn
#: (with a loss that fell < 10 %, checked too). lr 1e-4 gives 1.4e-4 (the loss fell 0.03 % in 1800
#: iterations), lr 1e-5 1.7e-5; the textbook's largest-layer median is 4e-4 … 4e-3.
UPDATE_RATIO_LOW = 2.5e-4
#: A step of ≥ 10 % of the weights followed by ≥ 90 % of the units saturated or dead at the next
#: evaluation: the step threw the units into their flat region (Adam lr 0.05: step 97 %, then 98 %
#: saturated; ReLU lr 10: 94 %, then all units dead). The textbook's first step is 13 %, followed by
#: 0.15 % saturation.
BIG_STEP = 0.10
COLLAPSE_SHARE = 0.90
#: A training-set loss above 1.1× chance level is worse than guessing: reported as evidence only.
WORSE_THAN_CHANCE = 1.1
#: "Plateau from the start": the training-set loss fell by less than 10 % from the first to the
#: last evaluation (lr 1e-5: 0 %; the textbook: 92 %).
PLATEAU_DROP = 0.10
#: A sigmoid/tanh layer with more than half its outputs on the probe batch saturated at the end is
#: stuck: little gradient passes. Healthy: the textbook ends at 13 %, Adam lr 1e-3 at 37 %;
#: Adam lr 0.05 and SGD lr 10 reach 98–100 %.
SATURATION_SHARE = 0.5
#: More than a quarter of a ReLU layer's units never firing on the probe batch wastes the layer.
#: Healthy ReLU runs: 0–2 %; lr 10 or a bias of −10: 100 %.
DEAD_SHARE = 0.25
#: ‖∇W1‖ / ‖∇W_last‖ below 1e-3 (median over the second half of the run): the first layer learns
#: 1000× slower than the last. Textbook: 0.08 at the first step, ≈ 1–2 later; 784-50-50-50-50-10
#: sigmoid with 0.01 init: 4e-7.
VANISHING_RATIO = 1e-3
#: Over-fitting: the test loss ends ≥ 5 % above its minimum while the training loss kept falling, or
#: train accuracy ends ≥ 10 points above test accuracy with a growing loss gap. Textbook: 0.2 points,
#: test loss falling; 300 training images: 22 points (100 % vs 78 %).
OVERFIT_TEST_RISE = 0.05
OVERFIT_ACC_GAP = 0.10
#: Under-fitting / plateau: the training-set loss ends above half the chance level (1.15 for 10
#: classes; the textbook ends at 0.18) *and* fell by less than 5 % over the second half of the run.
UNDERFIT_LOSS = 0.5
PLATEAU_IMPROVEMENT = 0.05
#: Inputs reaching |x| > 10 were not scaled (MNIST pixels are 0…1 after /255; raw ones reach 255).
INPUT_SCALE_LIMIT = 10.0
# INIT_LOSS_FACTOR (a first loss ≥ 3× chance level: the initial weights are too large) is imported from
# mlplab.train.divergence, where the trainer's message for a diverged run uses it too.
#: Trends (over-fitting, plateau) need a few evaluations to mean anything.
MIN_EVALUATIONS = 4


# -- small helpers -------------------------------------------------------------------------------

def _g(x: float) -> str:
    return f"{x:.3g}"


def n_classes(stats: LayerStats | None) -> int:
    """Output size from the recorded last layer (10 when nothing was recorded)."""
    return int(stats.layers[-1]["shape"][1]) if stats is not None and stats.layers else 10


def chance_loss(stats: LayerStats | None) -> float:
    """ln C: the cross-entropy of a network that gives every class the same probability."""
    return math.log(n_classes(stats))


def _column_max(values: np.ndarray) -> np.ndarray:
    """Largest finite value per column (per evaluation); NaN where a column has none."""
    finite = np.where(np.isfinite(values), values, -np.inf)
    best = finite.max(axis=0) if values.size else np.zeros(values.shape[1:])
    return np.where(np.isfinite(best), best, np.nan)


def largest_step(stats: LayerStats) -> np.ndarray:
    """Per evaluation, the largest layer update ratio ``(n_evaluations,)``."""
    return _column_max(stats.series("update_ratio"))


def _layer_label(stats: LayerStats, j: int) -> str:
    layer = stats.layers[j]
    return f"layer {j + 1} ({layer['activation']})" if layer["activation"] else f"layer {j + 1}"


def too_high_signs(history: History, stats: LayerStats | None) -> list[str]:
    """Evidence that the steps are too large; empty if there is none. Shared by three rules."""
    signs = []
    loss = history.loss
    if len(loss) > 1 and loss[0] > 0 and max(loss) >= LOSS_SPIKE * loss[0]:  # (a hand-edited 0 divides)
        k = int(np.argmax(loss))
        signs.append(f"the mini-batch loss jumped from {_g(loss[0])} (iteration 0) to {_g(loss[k])} "
                     f"(iteration {k}), {_g(loss[k] / loss[0])}× its start")
    tl, its = history.train_loss, history.iterations
    rises = [(k, tl[k] - tl[k - 1]) for k in range(1, len(tl))
             if tl[k] > tl[k - 1] * (1 + LOSS_RISE) and tl[k] - tl[k - 1] > LOSS_RISE_MIN]
    if rises:
        k = max(rises, key=lambda r: r[1])[0]
        signs.append(f"the training-set loss rose from {_g(tl[k - 1])} to {_g(tl[k])} between iterations "
                     f"{its[k - 1]} and {its[k]} ({len(rises)} such rise{'s' if len(rises) > 1 else ''})")
    if stats is not None and len(stats.iterations) > 1:
        steps = largest_step(stats)
        smallest = _column_max(-stats.series("update_ratio")[:, 1:])  # −(smallest layer step) per evaluation
        smallest = -smallest[np.isfinite(smallest)]
        if smallest.size and np.median(smallest) >= UPDATE_RATIO_HIGH:
            signs.append(f"every layer's weights move by at least {_g(float(np.median(smallest)))} of their size "
                         f"per step (update ratio, median), far above the usual {_g(UPDATE_RATIO_HEALTHY)}")
        share = _stuck_share(stats)
        for k in range(len(steps) - 1):
            if steps[k] >= BIG_STEP and share[k + 1] >= COLLAPSE_SHARE > share[k]:
                it0, it1 = stats.iterations[k], stats.iterations[k + 1]
                signs.append(f"the step of iteration {it0} moved a layer's weights by {steps[k]:.0%} of their size "
                             f"(update ratio {_g(steps[k])}); by iteration {it1}, {share[k + 1]:.0%} of a hidden "
                             f"layer's units were saturated or dead (was {share[k]:.0%})")
                break
    return signs


def _stuck_share(stats: LayerStats) -> np.ndarray:
    """Per evaluation, the largest share of saturated (sigmoid/tanh) or dead (ReLU) units of any layer."""
    both = np.concatenate([stats.series("act_saturated"), stats.series("act_dead")])
    return np.nan_to_num(_column_max(both), nan=0.0)


# -- the rules -----------------------------------------------------------------------------------

def nan_loss(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """The loss became NaN or inf: when, and the likely cause (inputs, initial weights, learning rate)."""
    if history.status != "diverged":
        return None
    iteration = len(history.loss)  # the trainer stops before recording the non-finite loss
    found = re.search(r"became (\S+)", history.message)
    value = found.group(1) if found else "NaN or inf"
    evidence = [f"the loss became {value} at iteration {iteration} (lr={config.lr:g}); the run stopped there"]
    causes, fixes = [], []
    if stats is not None and stats.input_abs_max > INPUT_SCALE_LIMIT:
        causes.append("unscaled input values")
        evidence.append(f"the training inputs reach |x| = {_g(stats.input_abs_max)}")
        fixes.append("scale the inputs to about 0…1 (e.g. pixels / 255)")
    chance = chance_loss(stats)
    if not causes and history.loss and history.loss[0] >= INIT_LOSS_FACTOR * chance:  # inputs explain it too
        causes.append("initial weights too large")
        evidence.append(f"the first loss was {_g(history.loss[0])}, {_g(history.loss[0] / chance)}× "
                        f"chance level ({_g(chance)})")
        fixes.append("start from smaller weights")
    if iteration == 0 and not causes:  # no step was taken yet, so the learning rate cannot be the cause
        causes.append("inputs or initial weights too large")
        evidence.append("the very first forward pass, before any update, was not finite")
        fixes.append("check the inputs' range and start from smaller weights")
    signs = too_high_signs(history, stats)
    if not signs and len(history.loss) > 1:
        evidence.append(f"mini-batch loss: {_g(history.loss[0])} at iteration 0, "
                        f"{_g(history.loss[-1])} at iteration {iteration - 1}")
    if signs or not causes:
        causes.append("learning rate too high")
        evidence.extend(signs)
        fixes.append("lower the learning rate below the stability limit 2/λ_max")
    return Insight(
        rule="nan-loss", severity="error",
        title=f"Loss became {value} at iteration {iteration}; likely cause: {', '.join(causes)}",
        evidence=tuple(evidence), suggestion="; ".join(fixes) + ".",
        numbers={"iteration": iteration, "value": value, "causes": causes, "lr": config.lr},
    )


def lr_too_high(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """Loss spiking, rising or oscillating; huge steps; units thrown into saturation by one step."""
    signs = too_high_signs(history, stats)
    if not signs:
        return None
    chance = chance_loss(stats)
    if history.train_loss and max(history.train_loss) > WORSE_THAN_CHANCE * chance:
        signs.append(f"the training-set loss reached {_g(max(history.train_loss))}, worse than guessing "
                     f"(chance level ln {n_classes(stats)} = {_g(chance)})")
    return Insight(
        rule="lr-too-high", severity="warning", title=f"Learning rate too high (lr={config.lr:g})",
        evidence=tuple(signs),
        suggestion="lower the learning rate below the stability limit 2/λ_max, where λ_max is the loss surface's "
                   "sharpest curvature: above it every step overshoots.",
        numbers={"lr": config.lr, "signs": len(signs)},
    )


def lr_too_low(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """Tiny steps in every layer and a loss that has not moved since the start.

    Never fires when there is any sign of a too-high rate: a rate so high that every unit saturated
    also gives tiny steps (no gradient is left), and calling that "too low" is the classic misdiagnosis.
    """
    if stats is None or len(stats.iterations) < 2 or len(history.train_loss) < 2:
        return None
    if too_high_signs(history, stats):
        return None
    steps = largest_step(stats)
    steps = steps[np.isfinite(steps)]
    if not steps.size:
        return None
    median_step = float(np.median(steps))
    first, last = history.train_loss[0], history.train_loss[-1]
    drop = (first - last) / first if first > 0 else 0.0
    last_grad = float(np.median(np.nan_to_num(stats.series("grad_norm")[-1])))
    if not (median_step <= UPDATE_RATIO_LOW and drop < PLATEAU_DROP and last_grad > 0):
        return None
    return Insight(
        rule="lr-too-low", severity="warning", title=f"Learning rate too low (lr={config.lr:g})",
        evidence=(
            f"each step moves the weights by at most {_g(median_step)} of their size (median over "
            f"evaluations, largest layer); about {_g(UPDATE_RATIO_HEALTHY)} is usual",
            f"the training-set loss went from {_g(first)} to {_g(last)} ({drop:.1%} lower) over "
            f"{history.iterations[-1]} iterations",
        ),
        suggestion="raise the learning rate towards the stability limit 2/λ_max (the loss surface's sharpest "
                   "curvature allows much larger steps).",
        numbers={"lr": config.lr, "median_update_ratio": median_step, "loss_drop": drop},
    )


def saturation(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """Sigmoid/tanh layers whose outputs sit mostly in the flat tails, where the slope is ~0."""
    shares, bad = _layers_above(stats, "act_saturated", SATURATION_SHARE)
    if not bad:
        return None
    it1 = stats.iterations[-1]
    evidence = [
        f"{_layer_label(stats, j)}: {shares[j, -1]:.0%} of outputs on the {len(stats.probe_rows)} probe rows are "
        f"saturated at iteration {it1}{_was(shares[j], stats)}" for j in bad
    ]
    evidence.append(f"saturated means {_saturation_rule(stats)}: the slope there is under 4 % of its maximum, "
                    "so almost no gradient passes")
    suggestion = ("if the units were saturated from the start, start from smaller weights; if large steps threw "
                  "them there, lower the learning rate.")
    if stats.input_abs_max > INPUT_SCALE_LIMIT:
        evidence.append(f"the training inputs reach |x| = {_g(stats.input_abs_max)}: they are not scaled")
        suggestion = "scale the inputs to about 0…1 (e.g. pixels / 255); " + suggestion
    return Insight(
        rule="saturation", severity="warning", title="Saturated hidden units",
        evidence=tuple(evidence), suggestion=suggestion,
        numbers={"layers": [j + 1 for j in bad], "share": [float(shares[j, -1]) for j in bad],
                 "after_large_steps": bool(too_high_signs(history, stats))},
    )


def _layers_above(stats: LayerStats | None, key: str, threshold: float) -> tuple[np.ndarray, list[int]]:
    """The recorded shares ``(n_layers, n_evaluations)`` and the layers whose last share is above ``threshold``."""
    if stats is None or not stats.iterations:
        return np.zeros((0, 0)), []
    shares = stats.series(key)
    return shares, [j for j in range(len(stats.layers)) if np.isfinite(shares[j, -1]) and shares[j, -1] > threshold]


def _was(shares: np.ndarray, stats: LayerStats) -> str:
    """`` (was 2% at iteration 0)`` when there is an earlier evaluation to compare with."""
    return f" (was {shares[0]:.0%} at iteration {stats.iterations[0]})" if len(shares) > 1 else ""


def _saturation_rule(stats: LayerStats) -> str:
    parts = []
    for key, t in stats.thresholds.items():  # "sigmoid_saturation": 0.49, as the run recorded it
        name = key.removesuffix("_saturation")
        centre = getattr(ACTIVATION_LAYERS.get(name), "saturation_centre", 0.0)
        parts.append(f"{name} |y − {centre:g}| > {t:g}" if centre else f"{name} |y| > {t:g}")
    return ", ".join(parts)


def dead_relu(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """ReLU units that output 0 for every probe row: they get no gradient and cannot come back."""
    shares, bad = _layers_above(stats, "act_dead", DEAD_SHARE)
    if not bad:
        return None
    it1 = stats.iterations[-1]
    evidence = []
    for j in bad:
        units = stats.layers[j]["shape"][1]
        dead = round(shares[j, -1] * units)
        evidence.append(f"{_layer_label(stats, j)}: {dead} of {units} units ({shares[j, -1]:.0%}) are never positive "
                        f"on the {len(stats.probe_rows)} probe rows at iteration {it1}{_was(shares[j], stats)}")
    return Insight(
        rule="dead-relu", severity="warning", title="Dead ReLU units",
        evidence=tuple(evidence),
        suggestion="if the units died after large steps, lower the learning rate; if they were dead from the start, "
                   "use He initial weights; check for large negative biases.",
        numbers={"layers": [j + 1 for j in bad], "share": [float(shares[j, -1]) for j in bad],
                 "after_large_steps": bool(too_high_signs(history, stats))},
    )


def vanishing_gradients(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """The first layer's gradient far smaller than the last layer's: the early layers barely learn."""
    if stats is None or len(stats.layers) < 2 or not stats.iterations:
        return None
    grads = stats.series("grad_norm")
    half = grads[:, len(stats.iterations) // 2:]
    usable = (half[-1] > 0) & np.all(np.isfinite(half), axis=0)
    if not np.any(usable):
        return None  # no gradient at all (dead or saturated units): other rules say why
    ratio = float(np.median(half[0, usable] / half[-1, usable]))
    if ratio >= VANISHING_RATIO:
        return None
    last = len(stats.layers)
    per_layer = ", ".join(f"‖∇W{j + 1}‖ = {_g(float(np.median(half[j, usable])))}" for j in range(last))
    return Insight(
        rule="vanishing-gradients", severity="warning", title="Vanishing gradients",
        evidence=(f"‖∇W1‖ / ‖∇W{last}‖ = {_g(ratio)} (median over the second half of the run)",
                  f"per layer: {per_layer}"),
        suggestion="use ReLU with He initial weights (sigmoid's slope is at most 0.25, so the gradient shrinks at "
                   "every layer), or fewer layers.",
        numbers={"ratio": ratio},
    )


def overfitting(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """Test loss rising while training loss falls, or a large and growing train/test gap."""
    n = history.n_evaluations
    if n < MIN_EVALUATIONS:
        return None
    train, test, its = history.train_loss, history.test_loss, history.iterations
    evidence = []
    best = int(np.argmin(test))
    if best < n - 1 and test[-1] >= (1 + OVERFIT_TEST_RISE) * test[best] and train[-1] < train[best]:
        evidence.append(f"the test loss rose from {_g(test[best])} (iteration {its[best]}) to {_g(test[-1])} "
                        f"while the training loss fell from {_g(train[best])} to {_g(train[-1])}")
    gap = history.train_acc[-1] - history.test_acc[-1]
    mid = n // 2
    gap_then, gap_now = test[mid] - train[mid], test[-1] - train[-1]
    if gap >= OVERFIT_ACC_GAP and gap_now > gap_then:
        evidence.append(f"train accuracy {history.train_acc[-1]:.1%} vs test {history.test_acc[-1]:.1%} "
                        f"({gap * 100:.0f} points); the loss gap grew from {_g(gap_then)} (iteration {its[mid]}) "
                        f"to {_g(gap_now)}")
    if not evidence:
        return None
    return Insight(
        rule="overfitting", severity="warning", title="Over-fitting: the network memorises the training set",
        evidence=tuple(evidence),
        suggestion=f"use more training data, or stop earlier (the test loss was lowest at iteration {its[best]}), "
                   "or a smaller network.",
        numbers={"accuracy_gap": gap, "best_test_iteration": its[best]},
    )


def plateau(history: History, stats: LayerStats | None, config: TrainConfig) -> Insight | None:
    """Under-fitting: the training loss is still high and has stopped falling."""
    n = history.n_evaluations
    if n < MIN_EVALUATIONS:
        return None
    train, its = history.train_loss, history.iterations
    chance = chance_loss(stats)
    mid = n // 2
    improvement = (train[mid] - train[-1]) / train[mid] if train[mid] > 0 else 0.0
    if not (train[-1] > UNDERFIT_LOSS * chance and improvement < PLATEAU_IMPROVEMENT):
        return None
    return Insight(
        rule="plateau", severity="warning", title="Under-fitting: the loss is stuck high",
        evidence=(f"the training-set loss is {_g(train[-1])} at iteration {its[-1]} and was {_g(train[mid])} at "
                  f"iteration {its[mid]} ({improvement:.1%} lower); chance level is {_g(chance)}",
                  f"train accuracy {history.train_acc[-1]:.1%}"),
        suggestion="train longer or with a larger learning rate; if the loss still does not move, use a larger "
                   "network.",
        numbers={"final_train_loss": train[-1], "improvement": improvement},
    )


#: In the order they are reported. ``diagnose`` drops findings that another one already explains.
RULES = (nan_loss, lr_too_high, lr_too_low, saturation, dead_relu, vanishing_gradients, overfitting, plateau)
