"""The architecture drawing follows the network's real sizes and draws its real weights and activations."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlplab.nn import build_network, sigmoid, softmax
from mlplab.viz.theme import figure_bytes
from mlplab.viz.training.architecture import (
    choose_inputs,
    layer_activations,
    network_from_params,
    plot_architecture,
    strongest_edges,
)


def trained_like(sizes, activation="sigmoid", seed=0):
    """A network with weights of a trained network's scale (the textbook's 0.01 init is too uniform)."""
    return build_network(sizes, activation=activation, weight_init_std=0.3, seed=seed, dtype=np.float64)


@pytest.fixture(scope="module")
def digit(mnist):
    (_, _), (x_test, t_test) = mnist
    return x_test[0], int(t_test[0])


def test_layer_activations_are_the_forward_pass():
    net = trained_like((784, 50, 10))
    x = np.random.default_rng(1).random(784)
    acts = layer_activations(net, x)
    p = net.params
    assert [a.shape for a in acts] == [(784,), (50,), (10,)]
    assert acts[1] == pytest.approx(sigmoid(x @ p["W1"] + p["b1"]))
    assert acts[2] == pytest.approx(softmax(net.predict(x[None, :]))[0])
    assert acts[2].sum() == pytest.approx(1.0)


def test_network_from_float16_snapshot_keeps_the_values():
    net = trained_like((784, 20, 10))
    half = {k: v.astype(np.float16) for k, v in net.params.items()}
    copy = network_from_params(half, (784, 20, 10), "sigmoid")
    assert copy.params["W1"].dtype == np.float64
    assert np.array_equal(copy.params["W1"], half["W1"].astype(np.float64))


def test_strongest_edges_are_the_largest_weights_weakest_first():
    W = np.array([[0.1, -0.9, 0.3], [0.5, 0.0, -0.2], [2.0, 0.05, -0.4]])
    i, j, w = strongest_edges(W, np.array([0, 2]), np.array([0, 1, 2]), max_edges=3)
    assert w.tolist() == [-0.4, -0.9, 2.0]  # rows 0 and 2 only; weakest of the three first
    assert W[np.array([0, 2])[i], j].tolist() == w.tolist()


def test_input_pixels_shown_are_the_ones_that_drive_the_hidden_layer():
    W1 = np.ones((784, 5))
    x = np.zeros(784)
    x[[10, 400, 783]] = [0.2, 1.0, 0.6]
    assert choose_inputs(x, W1, 2).tolist() == [400, 783]


@pytest.mark.parametrize("sizes", [(784, 50, 10), (784, 100, 10), (784, 100, 50, 10)])
def test_drawing_follows_the_real_sizes(sizes, digit):
    x, label = digit
    net = trained_like(sizes)
    drawn = plot_architecture(net.params, sizes, x=x, label=label, max_nodes=50, max_edges=200)
    assert drawn["sizes"] == sizes
    columns = drawn["columns"]
    assert [c.size for c in columns] == list(sizes)
    assert [len(c.shown) for c in columns] == [16, *(min(s, 50) for s in sizes[1:-1]), 10]
    assert [t.get_text() for t in drawn["output_labels"]] == [str(d) for d in range(10)]
    texts = " ".join(t.get_text() for t in drawn["figure"].axes[0].texts)
    for size in sizes[1:-1]:
        assert f"{size} sigmoid" in texts
        if size > 50:
            assert "50 strongest shown" in texts
    # the edges show the largest contributions a·w between the drawn nodes, at most max_edges per layer
    acts = layer_activations(net, x)
    for k, (lines, w) in enumerate(zip(drawn["edges"], drawn["edge_values"], strict=True)):
        C = (acts[k][:, None] * net.params[f"W{k + 1}"])[np.ix_(columns[k].shown, columns[k + 1].shown)]
        assert len(lines.get_segments()) == w.size == min(200, C.size)
        assert np.abs(w).min() >= np.sort(np.abs(C).ravel())[-w.size]
    # each label says how many of the layer's edges are drawn
    assert f"of {sizes[0] * sizes[1]:,} edges" in texts
    assert drawn["probabilities"] == pytest.approx(layer_activations(net, x)[-1])
    plt.close(drawn["figure"])


def test_nodes_are_filled_by_activation(digit):
    x, label = digit
    net = trained_like((784, 30, 10))
    drawn = plot_architecture(net.params, (784, 30, 10), x=x, label=label, theme="dark")
    probs = drawn["probabilities"]
    brightness = drawn["nodes"][-1].get_facecolor()[:, :3].mean(axis=1)  # dark theme: dim = 0, white = 1
    assert np.argmax(brightness) == np.argmax(probs)
    assert np.corrcoef(brightness, probs)[0, 1] > 0.99
    plt.close(drawn["figure"])


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_renders_without_warnings_in_both_themes_also_without_a_digit(theme, digit):
    net = trained_like((784, 50, 10), activation="relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for x in (digit[0], None):
            drawn = plot_architecture(net.params, (784, 50, 10), activation="relu", x=x, theme=theme)
            assert figure_bytes(drawn["figure"]).startswith(b"\x89PNG")
            plt.close(drawn["figure"])
