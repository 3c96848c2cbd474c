"""The network drawn as layers of neurons, with its learned weights and one digit's activations.

Reading the picture, left to right:

- the chosen test digit (28×28 pixels) and a column of its input pixels: 784 inputs cannot be drawn
  one by one, so the column shows the pixels that push hardest on the hidden layer for this digit
  (pixel value × Σ|weights leaving it|), each linked to its place in the image;
- hidden layers: one circle per unit (the strongest ``max_nodes`` when a layer is larger), filled by
  its activation for this digit (dark = 0, bright = 1);
- the output layer, labelled 0–9, filled by the softmax probability; the predicted class is ringed,
  the true class boxed;
- edges coloured by what they carry *for this digit*: the contribution ``a_i · W[i, j]`` of unit ``i``
  to unit ``j``'s input (pixel value × weight into the first hidden layer, hidden activation × weight
  after it) — blue pushes ``j`` down, red pushes it up, thicker and more opaque when larger. Summed
  over ``i`` (plus the bias) they are exactly ``j``'s pre-activation, so a learner can follow which
  pixels and units made a 5 look like a 6. Without a digit the edges show the raw weights. Only the
  strongest ``max_edges`` edges of each layer are drawn, so the picture stays legible.
- one colour scale per layer for a whole run (``scale``: the largest |contribution| over all of the
  run's saved states, :func:`contribution_scale`), so an untrained network looks untrained in a
  replay instead of being stretched to full colour.

The function takes the parameters as arrays, so it can draw any saved state (the final model or a
snapshot of an earlier evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.colors import LinearSegmentedColormap, Normalize
from matplotlib.patches import Circle

from mlplab.nn.functions import softmax
from mlplab.nn.layers import Affine
from mlplab.nn.networks import LayerNet, network_from_params
from mlplab.viz.panels import axes_or_new, image_side
from mlplab.viz.theme import DIVERGING_CMAP, colors, theme_context

#: Layout in data units (the axes has an equal aspect): the columns span y ∈ [0, HEIGHT].
HEIGHT = 10.0
LAYER_GAP = 5.0


def layer_activations(network: LayerNet, x: np.ndarray) -> list[np.ndarray]:
    """What every layer outputs for one input ``x`` ``(784,)``: ``[x, h1, …, softmax(scores)]``.

    Runs the network's own layers (the same forward pass as training), keeping the output of each
    activation layer; the last entry is the class probabilities ``(10,)``.
    """
    out = [np.asarray(x, dtype=np.float64).reshape(-1)]
    h = out[0][None, :]  # (1, 784)
    for layer in network.layers:
        h = layer.forward(h)
        if not isinstance(layer, Affine):
            out.append(h[0].copy())  # after the activation: (H,)
    out.append(softmax(h[0]))  # the last Affine's scores -> probabilities (10,)
    return out


@dataclass(frozen=True)
class Column:
    """One drawn layer: which units are shown (indices into the layer) and where."""

    size: int
    shown: np.ndarray  # (k,) unit indices, ascending
    center: float  # the column's x
    x: np.ndarray  # (k,) horizontal positions (two staggered rows of circles when k is large)
    y: np.ndarray  # (k,) vertical positions, first unit on top
    radius: float


#: Above this many circles a column is drawn zig-zag, which doubles the room for each circle.
STAGGER_ABOVE = 24


def make_column(size: int, shown: np.ndarray, center: float) -> Column:
    """Place ``len(shown)`` circles evenly over the height, centred on ``center``."""
    k = len(shown)
    spacing = min(HEIGHT / max(k - 1, 1), 0.95)
    y = HEIGHT / 2 + spacing * ((k - 1) / 2 - np.arange(k))
    x = np.full(k, center)
    room = spacing
    if k > STAGGER_ABOVE:
        x = x + np.where(np.arange(k) % 2 == 0, -0.3, 0.3)
        room = 2 * spacing  # neighbours in the same zig-zag row are two steps apart
    return Column(size, np.asarray(shown), center, x, y, min(0.42 * room, 0.34))


def edge_values(weights: Sequence[np.ndarray], acts: Sequence[np.ndarray] | None) -> list[np.ndarray]:
    """What each edge carries: ``a_i · W[i, j]`` for this digit (``acts`` from :func:`layer_activations`),
    or ``W`` itself without a digit. One ``(n_in, n_out)`` array per weight matrix.

    Row sums plus the bias are each unit's pre-activation: ``(a[:, None] * W).sum(0) + b == a @ W + b``.
    """
    if acts is None:
        return [np.asarray(W, dtype=np.float64) for W in weights]
    return [np.asarray(a, dtype=np.float64)[:, None] * W for a, W in zip(acts, weights, strict=False)]


def contribution_scale(states: Sequence[dict[str, np.ndarray]], sizes: Sequence[int], activation: str,
                       x: np.ndarray | None) -> tuple[float, ...]:
    """Per layer, the largest |edge value| over ``states`` (a run's snapshots and its final model).

    Drawing every evaluation against this one scale makes the replay honest: at evaluation 1 the small
    initial weights carry almost nothing and the edges are faint; they darken as the network learns.
    """
    top = np.zeros(len(sizes) - 1)
    with np.errstate(over="ignore", invalid="ignore"):  # a diverged run's huge weights
        for params in states:
            weights = [np.asarray(params[f"W{i}"], dtype=np.float64) for i in range(1, len(sizes))]
            acts = layer_activations(network_from_params(params, sizes, activation), x) if x is not None else None
            for k, values in enumerate(edge_values(weights, acts)):
                finite = np.abs(values[np.isfinite(values)])
                if finite.size:
                    top[k] = max(top[k], float(finite.max()))
    return tuple(float(t) if t > 0 else 1.0 for t in top)


def run_contribution_scale(data: Any, x: np.ndarray | None) -> tuple[float, ...]:
    """:func:`contribution_scale` over a run's every saved state: each snapshot and the final model
    (``data`` a :class:`~mlplab.viz.training.run_figures.RunData`). The same for every evaluation drawn."""
    n = 0 if data.snapshots is None else len(data.snapshots["iterations"])
    states = [data.params_at(k) for k in range(n)] + [data.params_at(None)]
    return contribution_scale(states, data.run.sizes, data.run.config.activation, x)


def choose_units(weights_out: np.ndarray | None, size: int, max_nodes: int) -> np.ndarray:
    """All units if ``size <= max_nodes``, else the ``max_nodes`` with the largest Σ|outgoing weights|."""
    if size <= max_nodes or weights_out is None:
        return np.arange(size)
    strength = np.nansum(np.abs(weights_out), axis=1)  # (size,)
    return np.sort(np.argsort(-strength, kind="stable")[:max_nodes])


def choose_inputs(x: np.ndarray | None, W1: np.ndarray, n_shown: int) -> np.ndarray:
    """The ``n_shown`` inputs with the largest ``x_i · Σ_j |W1[i, j]|`` (all weight if no ``x``)."""
    strength = np.nansum(np.abs(W1), axis=1)  # (784,)
    if x is not None:
        strength = np.abs(np.asarray(x, dtype=np.float64)) * strength
    return np.sort(np.argsort(-strength, kind="stable")[:n_shown])


def strongest_edges(W: np.ndarray, rows: np.ndarray, cols: np.ndarray, max_edges: int) -> tuple[np.ndarray, ...]:
    """Row/column indices (into ``rows``/``cols``) and weights of the ``max_edges`` largest |W|,
    weakest first so that the strong ones are drawn on top."""
    sub = W[np.ix_(rows, cols)]  # (len(rows), len(cols))
    flat = np.abs(np.nan_to_num(sub, nan=0.0)).ravel()
    keep = np.argsort(-flat, kind="stable")[:max_edges][::-1]
    i, j = np.unravel_index(keep, sub.shape)
    return i, j, sub[i, j]


def _activation_cmap(theme: str) -> LinearSegmentedColormap:
    """Grey levels for activations (colour is kept for the weights): dim → bright on dark, white → black on light."""
    c = colors(theme)
    low, high = (c["background"], "#ffffff") if theme == "dark" else ("#ffffff", "#111111")
    return LinearSegmentedColormap.from_list(f"activation_{theme}", [low, high])


def _activation_norm(values: np.ndarray, activation: str) -> Normalize:
    if activation == "tanh":
        return Normalize(-1.0, 1.0)
    if activation == "relu":
        top = float(np.nanmax(values)) if values.size and np.isfinite(np.nanmax(values)) else 1.0
        return Normalize(0.0, max(top, 1e-12))
    return Normalize(0.0, 1.0)


def plot_architecture(
    params: dict[str, np.ndarray],
    sizes: Sequence[int],
    *,
    activation: str = "sigmoid",
    x: np.ndarray | None = None,
    label: int | None = None,
    ax: Axes | None = None,
    theme: str = "dark",
    max_nodes: int = 50,
    n_inputs: int = 16,
    max_edges: int = 250,
    title: str | None = None,
    scale: Sequence[float] | None = None,
) -> dict[str, Any]:
    """Draw the network ``sizes`` (e.g. ``(784, 50, 10)``) with weights ``params`` (``W1, b1, …``).

    ``x`` ``(784,)`` is the digit whose activations fill the nodes and whose contributions
    ``a_i · W[i, j]`` colour the edges (``label`` its true class); without it the nodes are hollow and
    the edges show the weights. ``scale`` gives each layer's |edge value| drawn at full colour (default:
    this state's own largest; pass :func:`contribution_scale` to draw a run's evaluations alike).
    Returns the artists and what was chosen: ``columns`` (one :class:`Column` per layer), ``edges``
    (a ``LineCollection`` per weight matrix), ``edge_values`` (what those lines show: contribution or
    weight), ``edge_index`` (their ``(i, j)`` unit indices into the layers), ``scale``, ``nodes``,
    ``output_labels`` (texts "0"…"9"), ``probabilities``.
    """
    sizes = [int(s) for s in sizes]
    c = colors(theme)
    n_layers = len(sizes)
    weights = [np.asarray(params[f"W{i}"], dtype=np.float64) for i in range(1, n_layers)]
    network = network_from_params(params, sizes, activation)
    acts = layer_activations(network, x) if x is not None else None
    side = image_side(sizes[0])
    show_image = x is not None and side is not None
    x0 = 7.0 if show_image else 1.5  # the input column, right of the digit image

    values_all = edge_values(weights, acts)
    own = [float(np.nanmax(np.abs(v))) if np.isfinite(np.nanmax(np.abs(v))) else 1.0 for v in values_all]
    scale = tuple(own if scale is None else scale)
    columns = [make_column(sizes[0], choose_inputs(x, weights[0], n_inputs), x0)]
    for k in range(1, n_layers):
        v_out = values_all[k] if k < n_layers - 1 else None  # with a digit: what the unit sends on
        columns.append(make_column(sizes[k], choose_units(v_out, sizes[k], max_nodes), x0 + k * LAYER_GAP))

    with theme_context(theme):
        fig, ax = axes_or_new(ax, (3.2 + 2.2 * n_layers + (2.0 if show_image else 0.0), 6.4))
        ax.set_aspect("equal")
        ax.axis("off")
        drawn: dict[str, Any] = {"figure": fig, "ax": ax, "columns": columns, "edges": [], "edge_values": [],
                                 "edge_index": [], "scale": scale, "nodes": [], "sizes": tuple(sizes)}
        edge_cmap = DIVERGING_CMAP
        what = "a·w" if acts is not None else "w"
        for k, V in enumerate(values_all):
            left, right = columns[k], columns[k + 1]
            i, j, w = strongest_edges(V, left.shown, right.shown, max_edges)
            vmax = scale[k]
            rel = np.clip(np.nan_to_num(w / max(vmax, 1e-12)), -1, 1)  # (n_edges,) in [-1, 1]
            segments = np.stack([np.column_stack([left.x[i], left.y[i]]),
                                 np.column_stack([right.x[j], right.y[j]])], axis=1)
            lines = LineCollection(segments, cmap=edge_cmap, norm=Normalize(-1, 1),
                                   linewidths=0.4 + 2.4 * np.abs(rel), alpha=None, zorder=1)
            lines.set_array(rel)
            rgba = lines.to_rgba(rel)
            rgba[:, 3] = 0.25 + 0.75 * np.abs(rel)
            lines.set_color(rgba)
            ax.add_collection(lines)
            drawn["edges"].append(lines)
            drawn["edge_values"].append(w)
            drawn["edge_index"].append((left.shown[i], right.shown[j]))
            total = V.shape[0] * V.shape[1]
            ax.text((left.center + right.center) / 2, -0.55,
                    f"W{k + 1}: {w.size} of {total:,} edges\nfull colour: |{what}| = {vmax:.2g}",
                    ha="center", va="top", fontsize=9, color=c["reference"])

        act_cmap = _activation_cmap(theme)
        for k, col in enumerate(columns):
            values = acts[k][col.shown] if acts is not None else None
            if k == 0:
                norm = Normalize(0.0, 1.0)
            elif k == n_layers - 1:
                norm = Normalize(0.0, 1.0)  # probabilities
            else:
                norm = _activation_norm(acts[k] if acts is not None else np.zeros(1), activation)
            circles = [Circle((cx, cy), col.radius) for cx, cy in zip(col.x, col.y, strict=True)]
            nodes = PatchCollection(circles, zorder=3, linewidths=0.8, edgecolors=c["reference"])
            if values is not None:
                nodes.set_facecolor(act_cmap(norm(np.nan_to_num(values))))
            else:
                nodes.set_facecolor(c["background"])
            ax.add_collection(nodes)
            drawn["nodes"].append(nodes)
            ax.text(col.center, HEIGHT + 0.45, _column_title(k, n_layers, col, activation, side, x is not None),
                    ha="center", va="bottom", fontsize=10)

        out = columns[-1]
        probs = acts[-1] if acts is not None else None
        drawn["probabilities"] = probs
        drawn["output_labels"] = [
            ax.text(out.center + 1.6 * out.radius + 0.12, y, str(unit), ha="left", va="center", fontsize=11,
                    fontweight="bold")
            for unit, y in zip(out.shown, out.y, strict=True)
        ]
        xmax = out.center + 1.6
        if probs is not None:
            predicted = int(np.argmax(probs))
            good = label is None or predicted == label
            ring_y = out.y[np.searchsorted(out.shown, predicted)]
            ax.add_patch(Circle((out.center, ring_y), out.radius * 1.6, fill=False, lw=2,
                                ec=c["good"] if good else c["bad"], zorder=4))
            said = "predicted" + (" = true" if label is not None and good else "")
            ax.text(out.center + 1.6 * out.radius + 0.75, ring_y, f"{probs[predicted]:.1%} {said}", ha="left",
                    va="center", fontsize=10, color=c["good"] if good else c["bad"], fontweight="bold")
            if label is not None:  # the true class: its digit boxed, and its probability if it lost
                true_text = drawn["output_labels"][int(np.searchsorted(out.shown, label))]
                true_text.set_bbox(dict(boxstyle="round,pad=0.15", fc="none", ec=c["good"], lw=1.6))
                drawn["true_label"] = true_text
                if not good:
                    ax.text(out.center + 1.6 * out.radius + 0.75, out.y[np.searchsorted(out.shown, label)],
                            f"{probs[label]:.1%} true", ha="left", va="center", fontsize=10, color=c["good"],
                            fontweight="bold")
            xmax += 3.4
        if show_image:
            drawn["image"] = _draw_digit(ax, x, side, columns[0], theme)

        ax.set_xlim(-0.3 if show_image else 0.0, xmax)
        ax.set_ylim(-2.0, HEIGHT + 2.4)  # room for three-line column titles
        ax.set_title(title or _title(sizes, activation, probs, label), fontsize=12)
        _colorbars(fig, ax, edge_cmap, act_cmap, theme, under_image=show_image, activation=activation,
                   for_digit=acts is not None)
    return drawn


def _column_title(k: int, n_layers: int, col: Column, activation: str, side: int | None, for_digit: bool) -> str:
    if k == 0:
        shape = f" = {side}×{side}" if side else ""
        return f"input\n{col.size}{shape}\n{len(col.shown)} {'most active' if for_digit else 'strongest'} shown"
    if k == n_layers - 1:
        return f"output\n{col.size} softmax"
    name = "hidden" if n_layers == 3 else f"hidden {k}"
    shown = "" if len(col.shown) == col.size else f"\n{len(col.shown)} strongest shown"
    return f"{name}\n{col.size} {activation}{shown}"


def _title(sizes: Sequence[int], activation: str, probs: np.ndarray | None, label: int | None) -> str:
    arch = "-".join(str(s) for s in sizes) + f" {activation} network"
    if probs is None:
        return arch
    predicted = int(np.argmax(probs))
    truth = f"a {label}" if label is not None else "a digit"
    return f"{arch}: {truth} → predicted {predicted} ({probs[predicted]:.1%})"


def _draw_digit(ax: Axes, x: np.ndarray, side: int, inputs: Column, theme: str) -> Any:
    """The digit as a square image at the left, its shown pixels marked and linked to their nodes."""
    c = colors(theme)
    left, size = 0.0, 5.0
    bottom = HEIGHT / 2 - size / 2
    cmap = "gray" if theme == "dark" else "gray_r"
    image = ax.imshow(np.asarray(x, dtype=np.float64).reshape(side, side), cmap=cmap, vmin=0, vmax=1,
                      extent=(left, left + size, bottom, bottom + size), zorder=2, interpolation="nearest")
    ax.add_patch(_frame(left, bottom, size, c["reference"]))
    cell = size / side
    rows, cols = np.divmod(inputs.shown, side)
    px = left + (cols + 0.5) * cell
    py = bottom + size - (rows + 0.5) * cell  # image row 0 is at the top
    ax.scatter(px, py, s=14, marker="s", facecolors="none", edgecolors=c["start"], linewidths=1.0, zorder=3)
    links = np.stack([np.column_stack([px, py]), np.column_stack([inputs.x, inputs.y])], axis=1)
    ax.add_collection(LineCollection(links, colors=c["reference"], linewidths=0.5, alpha=0.45, zorder=2))
    ax.text(left + size / 2, bottom - 0.3, "test digit\n(28×28 inputs)", ha="center", va="top", fontsize=9)
    return image


def _frame(left: float, bottom: float, size: float, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((left, bottom), size, size, fill=False, ec=color, lw=0.8, zorder=3)


def _colorbars(fig, ax: Axes, edge_cmap: str, act_cmap: LinearSegmentedColormap, theme: str,
               under_image: bool, activation: str, for_digit: bool) -> None:
    """Two small keys: weight colour and activation grey level (under the digit when there is one)."""
    from matplotlib.cm import ScalarMappable

    relu_note = " ÷ layer max" if activation == "relu" else ""
    keys = []
    for n, (norm, cmap, label) in enumerate((
        (Normalize(-1, 1), edge_cmap, "edge: activation × weight, what it adds\nto the next unit (one scale per layer)"
         if for_digit else "edge colour: weight\n(÷ its layer's largest |w|)"),
        (Normalize(0, 1), act_cmap, f"node fill: {activation} activation{relu_note}\nor probability"),
    )):
        mappable = ScalarMappable(norm, cmap)
        if under_image:  # the free space below the digit, in data units
            cax = ax.inset_axes((0.4, 1.0 - 2.0 * n, 4.2, 0.28), transform=ax.transData)
            key = fig.colorbar(mappable, cax=cax, orientation="horizontal")
        else:
            key = fig.colorbar(mappable, ax=ax, location="bottom", fraction=0.03, pad=0.02, shrink=0.4)
        key.set_label(label, fontsize=9)
        key.ax.tick_params(labelsize=8)
        key.outline.set_edgecolor(colors(theme)["reference"])
        keys.append(key)
    keys[0].set_ticks([-1, 0, 1], labels=["−", "0", "+"])
    keys[1].set_ticks([0, 1], labels=["0", "1"])
