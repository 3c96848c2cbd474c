"""Layer health, recorded cheaply at every evaluation: the numbers an expert looks at first.

Per affine layer ``k`` (parameters ``Wk``, ``bk``) and per evaluation:

- ``weight_norm``   ‖Wk‖ (Frobenius norm, √ΣW²);
- ``grad_norm``     ‖∂L/∂Wk‖ of the mini-batch of the evaluation's iteration;
- ``update_ratio``  ‖ΔWk‖ / ‖Wk‖ for that iteration's optimizer step (ΔW = W after − W before);
  about 1e-3 is the classic healthy value (Karpathy, CS231n "babysitting the learning process");
- for a hidden layer, statistics of its activation output on a fixed *probe batch* of training rows:
  ``act_mean``, ``act_saturated`` (share of outputs in the layer's flat tails, as the layer class
  defines them: sigmoid |y − 0.5| > 0.49, tanh |y| > 0.99) and ``act_dead`` (ReLU: share of units
  that are never positive on the probe batch; such a unit gets no gradient and cannot recover);
- histograms with :data:`BINS` bins (counts and edges, not raw values) of weights, gradients and
  activations;
- per evaluation (not per layer), ``sharpness``: λ_max, the largest eigenvalue of the loss's Hessian
  on :data:`SHARPNESS_ROWS` fixed labelled training rows (:mod:`mlplab.nn.sharpness`). Plain gradient
  descent is stable only while lr·λ_max < 2, so ``lr·sharpness`` next to 2 shows *why* a learning rate
  diverges. Each evaluation starts the power iteration from the previous eigenvector, so a few
  Hessian-vector products (2 backprops each) suffice.

Cost: copying the parameters is needed for ΔW, but only at the iteration just before an evaluation
(without ``eval_every``, at every iteration, into two sets of buffers that take turns);
everything else happens at the evaluations (17 in the textbook run), on 500 probe rows (λ_max on 200). The benchmark
``benchmarks/bench_diagnose_overhead.py`` measures the whole cost against a run without it.

Written to ``layer_stats.json`` in the run folder at the end (atomically); read back with
:func:`load_layer_stats`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import RunFolderError
from mlplab.nn.layers import ACTIVATION_LAYERS, MODE_LAYERS, Activation, Dropout
from mlplab.nn.networks import LayerNet
from mlplab.nn.sharpness import sharpness
from mlplab.train import run_schema
from mlplab.train.observers import Observer, TrainingState
from mlplab.train.run_folder import write_json

LAYER_STATS = "layer_stats.json"
FORMAT_VERSION = 1

#: Bins per histogram: enough to see a shape (bimodal saturation, a spike at 0) and small in JSON.
BINS = 30
#: Rows of the training set pushed through the network at each evaluation for activation statistics.
PROBE_SIZE = 500
#: Labelled training rows (the first of the probe rows) on which λ_max is measured at each evaluation.
#: A small batch's Hessian is sharper than the whole set's (its noise adds curvature): for the trained
#: textbook network λ_max is 0.91 on these 200 rows, 0.85 on 1000 spread rows, 0.72 on 5000 (measured).
#: The same rows at every evaluation make the series comparable; the cost is a fifth of 1000 rows'.
SHARPNESS_ROWS = 200
#: Power iteration per evaluation: stop at 1 % (a plot needs no more), at most this many products.
#: The estimate (a Rayleigh quotient) approaches λ_max from below; when the top eigenvalues are close
#: it can stop a few per cent short (0.105 vs 0.113 on a small tanh net).
SHARPNESS_TOL = 1e-2
SHARPNESS_MAX_PRODUCTS = 20


def saturation_thresholds() -> dict[str, float]:
    """``{"sigmoid_saturation": 0.49, "tanh_saturation": 0.99}``: each activation's own saturation
    threshold (:attr:`mlplab.nn.layers.Activation.saturation`), recorded in ``layer_stats.json`` so the
    figures and the diagnosis read the numbers the run was measured with."""
    return {f"{name}_saturation": cls.saturation for name, cls in ACTIVATION_LAYERS.items()
            if cls.saturation is not None}


def frobenius(a: np.ndarray) -> float:
    """‖a‖ = √Σ a², summed in float64 so float32 runs give the same number as a float64 check."""
    return math.sqrt(float(np.sum(np.square(a, dtype=np.float64))))


def histogram(values: np.ndarray, bins: int = BINS) -> dict[str, Any]:
    """``{"counts": [bins ints], "edges": [bins + 1 floats], "nonfinite": n}`` over the finite values.

    The edges span the values' own range, so each evaluation's histogram shows its whole spread.
    Any data gives a histogram: a deep sigmoid network's vanishing gradients (all zero, or a few
    denormal float32 values), a range wider than float64 can subtract, NaN and inf (counted apart).
    """
    flat = np.asarray(values).reshape(-1)
    finite = flat[np.isfinite(flat)].astype(np.float64)
    nonfinite = int(flat.size - finite.size)
    if finite.size == 0:
        return {"counts": [0] * bins, "edges": [0.0] * (bins + 1), "nonfinite": nonfinite}
    counts, edges = np.histogram(finite, bins=histogram_edges(float(finite.min()), float(finite.max()), bins))
    return {"counts": counts.tolist(), "edges": edges.tolist(), "nonfinite": nonfinite}


def histogram_edges(lo: float, hi: float, bins: int = BINS) -> np.ndarray:
    """``bins + 1`` strictly increasing finite edges from ``lo`` to ``hi`` (both finite, ``lo <= hi``).

    ``np.histogram`` refuses a range too narrow for ``bins`` distinct edges ("Too many bins for data
    range") and overflows on one wider than the largest float; both happen in real runs.
    """
    # halves first: hi - lo overflows for lo = -1e308, hi = 1e308, hi/2 - lo/2 does not
    edges = 2.0 * np.linspace(lo / 2, hi / 2, bins + 1)
    if np.all(np.diff(edges) > 0) and np.all(np.isfinite(edges)):
        return edges
    # too narrow to split (one value, or a few denormals): widen around the centre, as NumPy does
    # for a single value (±0.5), or proportionally for values so large that ±0.5 is below their spacing
    centre = lo / 2 + hi / 2
    half = max(0.5, abs(centre) * 1e-3)
    if abs(centre) + half > np.finfo(np.float64).max:  # the centre is at the edge of float64
        lo, hi = (centre - 2 * half, centre) if centre > 0 else (centre, centre + 2 * half)
        return np.linspace(lo, hi, bins + 1)
    return np.linspace(centre - half, centre + half, bins + 1)


def activation_summary(layer: Any, out: np.ndarray) -> dict[str, float | None]:
    """Mean, saturated share and dead share of one activation's output ``(N, H)``; the layer says what
    counts as saturated or dead (:class:`mlplab.nn.layers.Activation`), ``None`` where it cannot be."""
    mean = float(np.mean(out, dtype=np.float64))
    return {"act_mean": mean, "act_saturated": layer.saturated_share(out), "act_dead": layer.dead_share(out)}


def probe_activations(network: LayerNet, x: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """``(activation layer, its output (N, H))`` for every hidden layer, from the network's own layers.

    Batch norm and dropout run in evaluation mode: a probe must not move the running statistics
    (that would change the training) nor drop units."""
    outputs = []
    for layer in network.layers:
        if isinstance(layer, MODE_LAYERS):
            x = layer.forward(x, False)
            continue
        x = layer.forward(x)
        if isinstance(layer, Activation):  # not the affine, batch-norm or dropout layers
            outputs.append((layer, x))
    return outputs


def probe_rows(n_rows: int, size: int = PROBE_SIZE) -> np.ndarray:
    """``size`` evenly spaced row indices of ``n_rows``: fixed, spread over the set, no randomness."""
    return np.unique(np.linspace(0, n_rows - 1, num=min(size, n_rows)).round().astype(np.int64))


@dataclass
class LayerStats:
    """Everything recorded, one list entry per evaluation (``iterations[k]`` is evaluation ``k``).

    ``layers[j]`` describes affine layer ``j + 1``: ``{"name": "W1", "shape": [784, 50],
    "activation": "sigmoid" or None (output layer), "weight_norm": [...], "grad_norm": [...],
    "update_ratio": [...], "act_mean": [...], "act_saturated": [...], "act_dead": [...],
    "weight_hist": [...], "grad_hist": [...], "act_hist": [...]}`` (histograms as :func:`histogram`).
    """

    iterations: list[int] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    probe_rows: list[int] = field(default_factory=list)
    input_abs_max: float = 0.0  # largest |x| in the training inputs: unscaled inputs explain overflow
    bins: int = BINS
    sharpness: list[float | None] = field(default_factory=list)  # λ_max per evaluation; None: not measured
    sharpness_rows: int = 0  # how many labelled rows λ_max was measured on (0: not measured)
    lr: float | None = None  # the run's learning rate, optimizer and its momentum: lr·λ_max is compared
    optimizer: str | None = None  # with the optimizer's stability limit (2 for SGD)
    momentum: float | None = None
    thresholds: dict[str, float] = field(default_factory=saturation_thresholds)
    version: int = FORMAT_VERSION

    def series(self, key: str) -> np.ndarray:
        """One quantity for all layers: ``(n_layers, n_evaluations)``, NaN where not recorded."""
        return np.array([[np.nan if v is None else v for v in layer[key]] for layer in self.layers], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "bins": self.bins, "thresholds": self.thresholds,
                "input_abs_max": self.input_abs_max, "probe_rows": self.probe_rows,
                "iterations": self.iterations, "layers": self.layers,
                "sharpness": self.sharpness, "sharpness_rows": self.sharpness_rows,
                "lr": self.lr, "optimizer": self.optimizer, "momentum": self.momentum}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LayerStats:
        return cls(iterations=list(d["iterations"]), layers=list(d["layers"]), probe_rows=list(d["probe_rows"]),
                   input_abs_max=float(d["input_abs_max"]), bins=int(d["bins"]),
                   thresholds=dict(d["thresholds"]), version=int(d["version"]),
                   # files written before λ_max was recorded have none: one None per evaluation
                   sharpness=list(d.get("sharpness", [None] * len(d["iterations"]))),
                   sharpness_rows=int(d.get("sharpness_rows", 0)),
                   lr=d.get("lr"), optimizer=d.get("optimizer"), momentum=d.get("momentum"))


class LayerStatsRecorder(Observer):
    """Records :class:`LayerStats` at every evaluation; writes ``layer_stats.json`` at the end.

    Parameters
    ----------
    run_dir : the run folder, or ``None`` to keep the statistics in memory only (``.stats``).
    x_train : the training inputs ``(N, D)``; :data:`PROBE_SIZE` fixed rows become the probe batch.
    eval_every : the trainer's evaluation interval. With it the parameters are copied only at the
        iteration before each evaluation; without it (``None``) at every iteration (same numbers, slower).
    t_train : the training labels ``(N,)``; with them λ_max is measured at every evaluation.

    Example
    -------
    >>> recorder = LayerStatsRecorder(None, x_train, eval_every=600)   # doctest: +SKIP
    >>> train(config, observers=[recorder]); recorder.stats.series("weight_norm")  # doctest: +SKIP
    """

    def __init__(self, run_dir: str | os.PathLike | None, x_train: np.ndarray, eval_every: int | None = None,
                 t_train: np.ndarray | None = None) -> None:
        self.path = None if run_dir is None else Path(run_dir) / LAYER_STATS
        rows = probe_rows(x_train.shape[0])
        self.probe = np.array(x_train[rows].reshape(rows.size, -1))  # (P, D), a copy: data may change
        self.probe_labels = None if t_train is None else np.array(t_train[rows[:SHARPNESS_ROWS]])
        self.eigenvector: np.ndarray | None = None  # the last λ_max's, to start the next power iteration
        self.eval_every = eval_every
        # max and min in two passes: no (N, D) temporary as np.abs(x) would make (≈15 ms for MNIST).
        input_abs_max = max(abs(float(np.max(x_train))), abs(float(np.min(x_train))))
        self.stats = LayerStats(probe_rows=rows.tolist(), input_abs_max=input_abs_max,
                                sharpness_rows=0 if t_train is None else len(self.probe_labels))
        self.before: dict[str, np.ndarray] = {}  # the weights before the next evaluation's step
        self._latest: dict[str, np.ndarray] = {}  # (eval_every=None only) the weights now

    def _weights(self, network: LayerNet) -> dict[str, np.ndarray]:
        return {f"W{j}": network.params[f"W{j}"].copy() for j in range(1, len(network.affine_layers) + 1)}

    def on_start(self, state: TrainingState) -> None:
        net = state.network
        c = state.config
        self.stats.lr, self.stats.optimizer = c.lr, c.optimizer
        self.stats.momentum = float(c.optimizer_options.get("momentum", 0.9))
        activations = [layer.name for layer in net.layers if isinstance(layer, Activation)]
        self.stats.layers = [
            {"name": f"W{j}", "shape": list(net.params[f"W{j}"].shape),
             "activation": activations[j - 1] if j <= len(activations) else None,
             **{key: [] for key in ("weight_norm", "grad_norm", "update_ratio", "act_mean", "act_saturated",
                                    "act_dead", "weight_hist", "grad_hist", "act_hist")}}
            for j in range(1, len(net.affine_layers) + 1)
        ]
        self.before = self._weights(net)  # the weights before iteration 0, the first evaluation's step
        self._latest = self.before

    def on_iteration(self, state: TrainingState) -> None:
        if self.eval_every is None:  # any iteration may be evaluated next: always keep the last two
            # Two sets of buffers take turns, so no new arrays each iteration: the set that held the
            # weights before the previous step (no longer needed) receives the weights after this one.
            if self._latest is self.before:  # the first iteration: make the second set
                spare = self._weights(state.network)
            else:
                spare = self.before
                for key, w in spare.items():
                    np.copyto(w, state.network.params[key])
            self.before, self._latest = self._latest, spare
        elif (state.iteration + 1) % self.eval_every == 0:
            # Iteration i + 1 is evaluated: keep the weights now, before its update changes them.
            self.before = self._weights(state.network)

    def on_evaluation(self, state: TrainingState) -> None:
        net = state.network
        self.stats.iterations.append(state.iteration)
        hidden = probe_activations(net, self.probe)
        for j, record in enumerate(self.stats.layers, start=1):
            w, g = net.params[f"W{j}"], state.grads[f"W{j}"]
            w_norm = frobenius(w)
            step = frobenius(w - self.before[f"W{j}"])
            record["weight_norm"].append(w_norm)
            record["grad_norm"].append(frobenius(g))
            record["update_ratio"].append(step / w_norm if w_norm > 0 else float("inf"))
            record["weight_hist"].append(histogram(w))
            record["grad_hist"].append(histogram(g))
            if j <= len(hidden):
                layer, out = hidden[j - 1]
                for key, value in activation_summary(layer, out).items():
                    record[key].append(value)
                record["act_hist"].append(histogram(out))
            else:  # the output layer feeds softmax: no activation of its own to judge
                for key in ("act_mean", "act_saturated", "act_dead", "act_hist"):
                    record[key].append(None)
        self.stats.sharpness.append(self._sharpness(net))

    def _sharpness(self, net: LayerNet) -> float | None:
        """λ_max on the labelled probe rows, or None without labels or when the weights are not finite."""
        if self.probe_labels is None or any(isinstance(layer, Dropout) for layer in net.layers):
            return None  # with dropout the training loss is random: no Hessian to measure
        n = len(self.probe_labels)
        found = sharpness(net, self.probe[:n], self.probe_labels, start=self.eigenvector,
                          tol=SHARPNESS_TOL, max_iterations=SHARPNESS_MAX_PRODUCTS)
        if not math.isfinite(found.value):
            return None
        self.eigenvector = found.vector
        return found.value

    def on_end(self, state: TrainingState) -> None:
        if self.path is not None:
            write_json(self.path, _finite_json(self.stats.to_dict()))


def _finite_json(obj: Any) -> Any:
    """JSON has no NaN/inf: write them as the strings "nan", "inf", "-inf" (read back by :func:`_from_json`)."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite_json(v) for v in obj]
    return obj


def _from_json(obj: Any) -> Any:
    if obj in ("nan", "inf", "-inf"):
        return float(obj)
    if isinstance(obj, dict):
        return {k: _from_json(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_json(v) for v in obj]
    return obj


def load_layer_stats(run_dir: str | os.PathLike) -> LayerStats:
    """Read ``layer_stats.json`` from a run folder."""
    path = Path(run_dir) / LAYER_STATS
    if not path.is_file():
        raise RunFolderError(
            f"{Path(run_dir)} has no {LAYER_STATS}; re-run the training with this mlplab to record it."
        )
    d = run_schema.parse_json_object(run_schema.read_file(path), str(path))
    try:
        d = _from_json(d)
    except RecursionError:
        raise run_schema.damaged(path, "its JSON is nested too deeply") from None
    run_schema.check_layer_stats(d, str(path))  # damage: a RunFolderError naming the file
    return LayerStats.from_dict(d)
