"""Backprop, step by step, on one image: every stage of the forward and the backward pass (ch. 5).

For the textbook's 784-50-10 sigmoid network the stages are::

    forward   x (1, 784) → a1 = x·W1 + b1 (1, 50) → z1 = σ(a1) → a2 = z1·W2 + b2 (1, 10) → y = softmax(a2)
              → L = −log y[t]
    backward  ∂L/∂a2 = y − t → ∂L/∂W2 = z1ᵀ·(y − t), ∂L/∂b2 → ∂L/∂z1 = (y − t)·W2ᵀ
              → ∂L/∂a1 = ∂L/∂z1 ⊙ z1(1 − z1) → ∂L/∂W1 = xᵀ·∂L/∂a1, ∂L/∂b1

and the same pattern for any depth and for ReLU or tanh. Every number comes from the network's own
layers (:mod:`mlplab.nn.layers`): their ``forward`` gives the forward stages, their ``backward`` the
backward ones — this shows what mlplab really computes while it trains, not a second implementation.

Each stage is checked by central differences (:mod:`mlplab.explain.numerical`, float64):

- a **forward** stage, by its layer's *local* derivative: the layer's ``backward(g)`` against the
  central differences of ``u ↦ Σ forward(u) ⊙ g``, with ``g`` the gradient that really arrives there
  (for an Affine layer: with respect to its input, where it computes one, ``W`` and ``b``). ``y`` and
  ``L`` are one layer in mlplab (``SoftmaxWithLoss``, §5.6.3), so they share its check;
- a **backward** stage ``∂L/∂v``, against the central differences of the whole loss ``L`` as a
  function of ``v`` (the rest of the forward pass run from ``v``; for ``W`` and ``b`` from ``x``).

Example
-------
>>> from mlplab.nn import TwoLayerNet
>>> net = TwoLayerNet(784, 50, 10, seed=0)
>>> e = explain_image(net, x, 7, lr=0.1)                       # doctest: +SKIP
>>> [s.name for s in e.backward]                               # doctest: +SKIP
['∂L/∂a2', '∂L/∂W2', '∂L/∂b2', '∂L/∂z1', '∂L/∂a1', '∂L/∂W1', '∂L/∂b1']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.explain.numerical import H, central_differences
from mlplab.nn.gradcheck import relative_error
from mlplab.nn.layers import ACTIVATION_LAYERS, Activation, Affine
from mlplab.nn.networks import LayerNet, network_from_params
from mlplab.optim.optimizers import SGD


@dataclass(frozen=True)
class Stage:
    """One box of the computational graph with its numbers.

    ``kind`` says which formula it is (the page's hover uses it): ``input``, ``affine``,
    ``activation``, ``softmax``, ``loss`` forward; ``loss_grad``, ``weight_grad``, ``bias_grad``,
    ``input_grad``, ``activation_grad`` backward. ``inputs`` names the stages and parameters the
    formula reads, in its order. ``node`` is the index of the layer in :attr:`Explanation.graph` that
    computed it. ``local`` (``activation_grad`` only) is the activation's derivative ``f'(a)`` there,
    and ``local_formula`` how it is written, e.g. ``z1(1 − z1)``.
    """

    name: str
    formula: str
    value: np.ndarray
    kind: str
    inputs: tuple[str, ...]
    node: int
    check: float | None = None
    local: np.ndarray | None = None
    local_formula: str | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.value.shape)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "formula": self.formula, "shape": list(self.shape),
               "value": self.value.tolist(), "kind": self.kind, "inputs": list(self.inputs), "node": self.node,
               "check": self.check}
        if self.local is not None:
            out.update(local=self.local.tolist(), local_formula=self.local_formula)
        return out


@dataclass(frozen=True)
class Explanation:
    """Everything :func:`explain_image` found for one image; :meth:`to_dict` is the JSON of ``mlplab explain``."""

    label: int
    prediction: int
    loss: float
    forward: list[Stage]
    backward: list[Stage]
    params: dict[str, np.ndarray]  # float64 copies of the parameters used
    grads: dict[str, np.ndarray]  # ∂L/∂W1, ∂L/∂b1, … by parameter name
    lr: float
    loss_after: float  # the loss on this image after one SGD step W ← W − lr·∂L/∂W
    graph: list[str]  # the layers, in order: "x", "Affine1", "Sigmoid1", …, "SoftmaxWithLoss"
    activation: str
    sizes: tuple[int, ...]
    h: float = H  # the step of the central differences

    @property
    def stages(self) -> list[Stage]:
        return [*self.forward, *self.backward]

    @property
    def checks(self) -> dict[str, float]:
        """Relative error of every checked stage: ``‖numerical − backprop‖ / (‖numerical‖ + ‖backprop‖)``."""
        return {s.name: s.check for s in self.stages if s.check is not None}

    def stage(self, name: str) -> Stage:
        for s in self.stages:
            if s.name == name:
                return s
        raise KeyError(f"no stage {name!r}; the stages are {', '.join(s.name for s in self.stages)}.")

    def to_dict(self) -> dict[str, Any]:
        """The schema of ``mlplab explain --json`` (full arrays as nested lists)::

            {"index", "label", "prediction", "loss", "forward": [{"name", "formula", "shape", "value", …}],
             "backward": [same], "grads": {"W1": …, "b1": …}, "checks": {stage: relative error},
             "step": {"lr", "loss_before", "loss_after"}}

        plus what the web page draws with: ``params``, ``graph``, ``sizes``, ``activation``, ``h``;
        :func:`mlplab.explain.run.explain_run` adds ``index`` and where the weights come from.
        """
        return {
            "label": self.label, "prediction": self.prediction, "loss": self.loss,
            "forward": [s.to_dict() for s in self.forward], "backward": [s.to_dict() for s in self.backward],
            "grads": {k: v.tolist() for k, v in self.grads.items()}, "checks": self.checks,
            "step": {"lr": self.lr, "loss_before": self.loss, "loss_after": self.loss_after,
                     "formula": "W ← W − lr·∂L/∂W"},
            "params": {k: v.tolist() for k, v in self.params.items()}, "graph": self.graph,
            "sizes": list(self.sizes), "activation": self.activation, "h": self.h,
        }


def float64_copy(params: dict[str, np.ndarray], sizes: tuple[int, ...] | list[int], activation: str) -> LayerNet:
    """A float64 network of ``sizes`` holding a copy of ``params`` (a float16 snapshot, a float32 model)."""
    return network_from_params(params, sizes, activation)


def explain_image(network: LayerNet, x: np.ndarray, t: int, *, lr: float = 0.1, check: bool = True) -> Explanation:
    """Every stage of backprop for image ``x`` ``(784,)`` with label ``t``, on a float64 copy of ``network``.

    ``lr`` is the step of the SGD update shown at the end. ``check=False`` skips the central
    differences (they cost about a second for 784-50-10; every ``check`` is then ``None``).
    """
    sizes = tuple(network.sizes)
    net = float64_copy(network.params, sizes, network.activation)
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)  # (1, 784): a batch of one row
    if x.shape[1] != sizes[0]:
        raise ConfigError(f"the image has {x.shape[1]} pixels but the network expects {sizes[0]}.")
    if not 0 <= int(t) < sizes[-1]:
        raise ConfigError(f"the label must be a class between 0 and {sizes[-1] - 1}, got {t}.")
    t = int(t)
    labels = np.array([t])
    graph = ["x"]
    names = _names(net)

    # ---- forward: each layer's output is a stage -------------------------------------------
    forward = [Stage("x", "x", x.copy(), "input", (), 0)]
    outputs = [x]  # outputs[i] is the input of net.layers[i]
    h = x
    for i, layer in enumerate(net.layers):
        h = layer.forward(h)
        outputs.append(h)
        graph.append(_layer_name(layer, i, net))
        forward.append(_forward_stage(layer, names[i], names[i + 1], h.copy(), len(graph) - 1))
    loss = float(net.last_layer.forward(h, labels))
    y = net.last_layer.y.copy()  # (1, 10)
    graph.append("SoftmaxWithLoss")
    node_loss = len(graph) - 1
    a_last = names[-1]
    forward.append(Stage("y", f"y = softmax({a_last}) = exp({a_last}) / Σ exp({a_last})", y, "softmax",
                         (a_last,), node_loss))
    forward.append(Stage("L", "L = −log y[t]", np.array(loss), "loss", ("y", "t"), node_loss))

    # ---- backward: each layer's backward, last to first --------------------------------------
    upstream = {}  # the gradient arriving at each layer's output, for the local checks
    backward = []
    dout = net.last_layer.backward(1.0)  # (1, 10): y − t, divided by the batch size N = 1
    backward.append(Stage(f"∂L/∂{a_last}", f"∂L/∂{a_last} = y − t", dout.copy(), "loss_grad", ("y", "t"), node_loss))
    grads: dict[str, np.ndarray] = {}
    n_affine = len(net.affine_layers)
    for i in reversed(range(len(net.layers))):
        layer = net.layers[i]
        upstream[i] = dout
        node = i + 1
        out_name, in_name = names[i + 1], names[i]
        if isinstance(layer, Affine):
            k = _affine_number(net, layer)
            dx = layer.backward(dout)
            d_out = "(y − t)" if k == n_affine else f"∂L/∂{out_name}"
            grads[f"W{k}"], grads[f"b{k}"] = layer.dW.copy(), layer.db.copy()
            backward.append(Stage(f"∂L/∂W{k}", f"∂L/∂W{k} = {in_name}ᵀ·{d_out}", grads[f"W{k}"], "weight_grad",
                                  (in_name, f"∂L/∂{out_name}"), node))
            backward.append(Stage(f"∂L/∂b{k}", f"∂L/∂b{k} = Σ_rows {d_out}",
                                  grads[f"b{k}"], "bias_grad", (f"∂L/∂{out_name}",), node))
            if dx is None:  # the first layer: nobody needs ∂L/∂x
                break
            backward.append(Stage(f"∂L/∂{in_name}", f"∂L/∂{in_name} = {d_out}·W{k}ᵀ", dx.copy(), "input_grad",
                                  (f"∂L/∂{out_name}", f"W{k}"), node))
            dout = dx
        else:
            da = layer.backward(dout)
            local = layer.backward(np.ones_like(dout))  # f'(a): the layer's own derivative
            derivative = layer.derivative.format(a=in_name, z=out_name)
            backward.append(Stage(f"∂L/∂{in_name}", f"∂L/∂{in_name} = ∂L/∂{out_name} ⊙ {derivative}", da.copy(),
                                  "activation_grad", (f"∂L/∂{out_name}", in_name, out_name), node,
                                  local=local.copy(), local_formula=derivative))
            dout = da

    # ---- checks by central differences (float64) ---------------------------------------------
    if check:
        forward = _check_forward(net, forward, outputs, upstream, labels)
        backward = _check_backward(net, backward, outputs, names, x, labels)

    # ---- one SGD step on this image -----------------------------------------------------------
    after = float64_copy(net.params, sizes, net.activation)
    SGD(lr).update(after.params, grads)  # W ← W − lr·∂L/∂W, the optimizer mlplab trains with
    loss_after = float(after.loss(x, labels))

    return Explanation(
        label=t, prediction=int(np.argmax(y)), loss=loss, forward=forward, backward=backward,
        params={k: v.copy() for k, v in net.params.items()}, grads=grads, lr=float(lr), loss_after=loss_after,
        graph=graph, activation=net.activation, sizes=sizes, h=H,
    )


# ---- names and formulas ------------------------------------------------------------------------


def _names(net: LayerNet) -> list[str]:
    """``names[i]`` is the name of the input of ``net.layers[i]``: ``x, a1, z1, a2, …`` (the book's)."""
    names, k = ["x"], 0
    for layer in net.layers:
        if isinstance(layer, Affine):
            k += 1
            names.append(f"a{k}")
        else:
            names.append(f"z{k}")
    return names


def _affine_number(net: LayerNet, layer: Affine) -> int:
    return next(k for k, a in enumerate(net.affine_layers, start=1) if a is layer)


def _layer_name(layer: Any, i: int, net: LayerNet) -> str:
    if isinstance(layer, Affine):
        return f"Affine{_affine_number(net, layer)}"
    return f"{type(layer).__name__}{sum(isinstance(m, Affine) for m in net.layers[:i])}"


def _forward_stage(layer: Any, in_name: str, out_name: str, value: np.ndarray, node: int) -> Stage:
    if isinstance(layer, Affine):
        k = out_name[1:]
        return Stage(out_name, f"{out_name} = {in_name}·W{k} + b{k}", value, "affine", (in_name, f"W{k}", f"b{k}"),
                     node)
    if not isinstance(layer, Activation) or not layer.formula:
        raise ConfigError(f"mlplab explain does not know how to write the layer {type(layer).__name__}; "
                          "give it the Activation facts formula and derivative "
                          f"(as {', '.join(ACTIVATION_LAYERS)} do).")
    return Stage(out_name, f"{out_name} = " + layer.formula.format(a=in_name, z=out_name),
                 value, "activation", (in_name,), node)


# ---- checks --------------------------------------------------------------------------------------


def _replace(stage: Stage, check: float) -> Stage:
    return replace(stage, check=check)


def _nonzero_rows(u: np.ndarray) -> np.ndarray:
    """Rows of ``W`` whose input ``u[k]`` is not 0 (the others cannot move the loss; see central_differences)."""
    return np.flatnonzero(u.reshape(-1) != 0)


def _check_forward(net: LayerNet, forward: list[Stage], outputs: list[np.ndarray], upstream: dict[int, np.ndarray],
                   labels: np.ndarray) -> list[Stage]:
    """Each layer's ``backward(g)`` against central differences of ``Σ forward(·) ⊙ g`` (local derivatives)."""
    checked = [forward[0]]  # x is the data: nothing computed it
    for i, layer in enumerate(net.layers):
        u, g = outputs[i].copy(), upstream[i]

        def projected(layer=layer, u=u, g=g) -> float:  # reads u and the layer's W, b as they are perturbed
            return float((layer.forward(u) * g).sum())

        if isinstance(layer, Affine):
            numerical = [central_differences(projected, layer.W, rows=_nonzero_rows(u)),
                         central_differences(projected, layer.b)]
            layer.forward(u)
            dx = layer.backward(g)
            analytic = [layer.dW, layer.db]
            if dx is not None:
                numerical.insert(0, central_differences(projected, u))
                analytic.insert(0, dx)
        else:
            numerical = [central_differences(projected, u)]
            layer.forward(u)
            analytic = [layer.backward(g)]
        checked.append(_replace(forward[i + 1], _flat_error(numerical, analytic)))
    # y and L: the SoftmaxWithLoss layer, L(a_last) = −log softmax(a_last)[t], its backward is y − t
    a_last = outputs[-1].copy()
    numerical = central_differences(lambda: float(net.last_layer.forward(a_last, labels)), a_last)
    net.last_layer.forward(a_last, labels)
    error = relative_error(numerical, net.last_layer.backward(1.0))
    checked += [_replace(s, error) for s in forward[len(net.layers) + 1:]]
    return checked


def _check_backward(net: LayerNet, backward: list[Stage], outputs: list[np.ndarray], names: list[str],
                    x: np.ndarray, labels: np.ndarray) -> list[Stage]:
    """Each ``∂L/∂v`` against central differences of the whole loss as a function of ``v``."""
    position = {name: i for i, name in enumerate(names)}  # stage name -> index of the layer it feeds
    checked = []
    for stage in backward:
        target = stage.name[len("∂L/∂"):]
        if stage.kind in ("weight_grad", "bias_grad"):
            p = net.params[target]
            k = int(target[1:])
            rows = _nonzero_rows(outputs[net.layers.index(net.affine_layers[k - 1])]) if p.ndim == 2 else None
            numerical = central_differences(lambda: float(net.loss(x, labels)), p, rows=rows)
        else:
            v = outputs[position[target]].copy()
            numerical = central_differences(_loss_from(net, position[target], v, labels), v)
        checked.append(_replace(stage, relative_error(numerical, stage.value)))
    return checked


def _loss_from(net: LayerNet, start: int, v: np.ndarray, labels: np.ndarray) -> Callable[[], float]:
    """L as a function of the input ``v`` of ``net.layers[start]``: the rest of the forward pass."""
    def loss() -> float:
        h = v
        for layer in net.layers[start:]:
            h = layer.forward(h)
        return float(net.last_layer.forward(h, labels))
    return loss


def _flat_error(numerical: list[np.ndarray], analytic: list[np.ndarray]) -> float:
    return relative_error(np.concatenate([a.reshape(-1) for a in numerical]),
                          np.concatenate([a.reshape(-1) for a in analytic]))


__all__ = ["Explanation", "Stage", "explain_image", "float64_copy"]
