"""Why a run's loss became NaN or inf: the start or the steps, told apart by what the run measured.

A fresh network guesses: its first mini-batch loss is near chance level, ln C (2.30 for 10 classes).
If the loss was not finite before any update (iteration 0), the learning rate played no part; if the
first loss was already far above chance, the start was off before the steps could make it worse.
Either way the fix is a smaller start: smaller initial weights, or scaled inputs. Otherwise the
steps grew the weights until the arithmetic overflowed: the learning rate is too high.
:mod:`mlplab.diagnose` looks at the same run more closely afterwards (input scale, loss spikes, layer
statistics) and uses the same threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.nn.networks import init_std  # the one place of √(2/fan_in) and √(1/fan_in)
from mlplab.train.config import TrainConfig

#: A first loss ≥ 3× chance level means the initial weights are too large (std 0.5 on a 3-layer ReLU
#: net: 258 vs 2.30), which by itself can overflow.
INIT_LOSS_FACTOR = 3.0


def diverged_message(loss: float, iteration: int, config: TrainConfig, losses: list[float],
                     sizes: Sequence[int]) -> str:
    """The sentence a diverged run ends with: the non-finite ``loss`` at ``iteration``, and what to change.

    ``losses`` are the mini-batch losses recorded before it (``losses[0]``, iteration 0's, is the
    measurement of the start); ``sizes`` the network's layer sizes (784, 50, 10). The advice follows
    the measurement: a smaller start when it was already off, a smaller learning rate otherwise.

    Example
    -------
    >>> config = TrainConfig(weight_init_std=1000.0, activation="relu")
    >>> diverged_message(float("nan"), 1, config, [1.2e15], (784, 50, 10))  # doctest: +ELLIPSIS
    'the loss became nan at iteration 1 with lr=0.1; the start was already off: ... he instead of 1000.'
    """
    head = f"the loss became {loss} at iteration {iteration} with lr={config.lr:g}; "
    n_classes = sizes[-1]
    chance = math.log(n_classes)  # the cross-entropy of guessing every class with probability 1/C
    if not losses:  # iteration 0: no update was made, so the learning rate played no part yet
        why = "the very first forward pass, before any update, was not finite, so the learning rate is not the cause"
    elif losses[0] >= INIT_LOSS_FACTOR * chance:
        why = (f"the start was already off: the first loss was {losses[0]:.3g}, {losses[0] / chance:.3g}× "
               f"chance level (ln {n_classes} = {chance:.2f})")
    else:
        return head + f"try a smaller learning rate, e.g. --lr {config.lr / 10:g}."
    return head + f"{why}; {smaller_start(config, sizes)}."


def smaller_start(config: TrainConfig, sizes: Sequence[int]) -> str:
    """What to start from instead: the activation's own scale (He for ReLU, Xavier for sigmoid and
    tanh) when the run's weights were larger than it in every layer; otherwise the weights were not
    the problem, and the inputs' range is what to check."""
    std = config.weight_init_std
    scaled = ACTIVATION_LAYERS[config.activation].init  # "he" or "xavier"
    inputs = "so check that the inputs are scaled to about 0…1"
    if isinstance(std, str):  # he, xavier, auto: each layer's std already follows its fan-in
        return f"--weight-init-std {std} already scales the weights to each layer's size, {inputs}"
    if std <= init_std(scaled, min(sizes[:-1]), config.activation):  # the layer with the smallest fan-in
        return f"the initial weights (std {std:g}) are no larger than {scaled}'s, {inputs}"
    return f"start from smaller weights, e.g. --weight-init-std {scaled} instead of {std:g}"
