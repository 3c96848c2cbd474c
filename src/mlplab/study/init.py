"""Weight initialisation (book §6.2): why the initial weight scale matters.

Part 1, the activation histograms (book ``weight_init_activation_histogram.py``, figs 6-10 … 6-14):
1000 random inputs ``x ~ N(0, 1)`` of 100 features pass through 5 layers of 100 units,
``a = z_prev @ W`` with ``W ~ N(0, std²)`` (no bias), ``z = f(a)``. With sigmoid and std 1 the
outputs pile up at 0 and 1 (the gradient σ' vanishes there); with std 0.01 they all sit near 0.5
(every unit says the same thing); Xavier's √(1/n) keeps them spread; ReLU needs He's √(2/n).

Part 2, MNIST (book ``weight_init_compare.py``, fig 6-15): 784-100-100-100-100-10 ReLU, SGD lr 0.01,
batch 128, 2000 iterations, with std 0.01, Xavier and He. With std 0.01 the loss does not move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.nn.networks import init_std
from mlplab.study.common import StudyResult, train_settings
from mlplab.train.config import TrainConfig

#: The weight scales of the histograms: label → std (a number, or a name mlplab's networks know).
HISTOGRAM_STDS: dict[str, float | str] = {"std 1": 1.0, "std 0.01": 0.01, "Xavier": "xavier", "He": "he"}
HISTOGRAM_ACTIVATIONS = ("sigmoid", "tanh", "relu")
#: The scales of the MNIST comparison (the book's labels).
MNIST_STDS: dict[str, float | str] = {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}

#: Where the book's ``weight_init_compare.py`` prints the mini-batch loss, at the end of its run.
PRINTED_ITERATIONS = (1500, 1600, 1700, 1800, 1900)
#: What it prints there (np.random.seed(0)); one mini-batch each, so they vary by ±30 %: compare means.
BOOK_PRINTED_LOSS = {"std=0.01": (2.3037, 2.3018, 2.3039, 2.3016, 2.2982),
                     "Xavier": (0.3117, 0.2891, 0.4133, 0.3086, 0.2253),
                     "He": (0.2327, 0.1758, 0.2689, 0.2054, 0.1507)}

MNIST_RUN = TrainConfig(iters=2000, batch_size=128, lr=0.01, hidden=(100,) * 4, activation="relu",
                        optimizer="sgd", seed=0, eval_every=2000)
QUICK_RUN = MNIST_RUN.replace(iters=100, eval_every=100, train_size=2000, test_size=500)


def layer_activations(activation: str, std: float | str, *, n: int = 1000, units: int = 100, layers: int = 5,
                      seed: int = 0) -> np.ndarray:
    """The outputs of each layer, ``(layers, n, units)``, for random inputs (the book's experiment).

    The same seed gives the same inputs and the same standard-normal weight draws for every
    ``std``, so the histograms of one activation differ only by the scale.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, units))  # (1000, 100)
    scale = init_std(std, units, activation)
    outputs = []
    for _ in range(layers):
        w = rng.standard_normal((units, units)) * scale  # (100, 100)
        z = ACTIVATION_LAYERS[activation]().forward(z @ w)  # (1000, 100) @ (100, 100) -> (1000, 100)
        outputs.append(z)
    return np.stack(outputs)


def printed_loss_means(histories: dict, iters: int) -> dict:
    """The mean mini-batch loss at the iterations the book prints (1500 … 1900; the last 5 hundreds
    of a shorter run), so mlplab's number and the book's are the same kind of average."""
    at = [i for i in PRINTED_ITERATIONS if i < iters] or [iters - 1]
    return {"iterations": at,
            "mean_printed_loss": {k: float(np.mean([h.loss[i] for i in at])) for k, h in histories.items()},
            # five single batches are noisy (±0.05 here): the mean of the last 500 is the steadier number
            "mean_loss_last_500": {k: float(np.mean(h.loss[-500:])) for k, h in histories.items()}}


def run_init(folder: str | Path, *, quick: bool = False) -> StudyResult:
    """Both parts; ``quick`` trains 100 iterations on 2000 images instead of 2000 on 60,000."""
    folder = Path(folder)
    result = StudyResult("init", folder, quick)
    result.data["activations"] = {
        activation: {label: layer_activations(activation, std) for label, std in HISTOGRAM_STDS.items()}
        for activation in HISTOGRAM_ACTIVATIONS
    }
    base = QUICK_RUN if quick else MNIST_RUN
    result.histories = train_settings({label: base.replace(weight_init_std=std) for label, std in MNIST_STDS.items()},
                                      folder)
    result.numbers = {
        **printed_loss_means(result.histories, base.iters),
        "final_test_acc": {label: h.final_test_acc for label, h in result.histories.items()},
        # the share of sigmoid outputs of layer 5 within 0.02 of 0 or 1 (saturated), per scale
        "sigmoid_saturated_layer5": {
            label: float(np.mean((a[4] < 0.02) | (a[4] > 0.98)))
            for label, a in result.data["activations"]["sigmoid"].items()},
    }
    result.book = {"mean_printed_loss": {k: float(np.mean(v)) for k, v in BOOK_PRINTED_LOSS.items()}}
    result.write()
    return result
