"""Confusion matrix, mistakes and predictions draw the network's real answers."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

from mlplab.viz.theme import figure_bytes
from mlplab.viz.training.confusion import (
    confusion_matrix,
    most_confident_mistakes,
    plot_confusion,
    plot_mistakes,
    row_normalised,
)
from mlplab.viz.training.predictions import choose_examples, plot_predictions


@pytest.fixture(scope="module")
def answers():
    """60 fake digits, labels, and softmax outputs that are right about 2/3 of the time."""
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 60)
    scores = rng.standard_normal((60, 10))
    scores[np.arange(60), labels] += 2.0
    probs = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    images = rng.random((60, 784))
    return images, labels, probs


def png_without_warnings(fig) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = figure_bytes(fig)
    plt.close(fig)
    return data


def test_confusion_matrix_counts_every_pair():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    m = confusion_matrix(labels, predicted, 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert m.sum() == labels.size
    assert np.trace(m) / m.sum() == np.mean(labels == predicted)
    assert row_normalised(m).sum(axis=1) == pytest.approx([1, 1, 1])
    assert row_normalised(np.zeros((2, 2), int)).tolist() == [[0, 0], [0, 0]]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_confusion_plot_writes_the_counts_and_colours_by_row_share(theme, answers):
    _, labels, probs = answers
    m = confusion_matrix(labels, probs.argmax(axis=1))
    drawn = plot_confusion(m, theme=theme)
    assert [[int(t.get_text()) for t in row] for row in drawn["texts"]] == m.tolist()
    assert np.allclose(drawn["image"].get_array(), row_normalised(m))
    assert f"{np.trace(m) / m.sum():.2%}" in drawn["figure"].axes[0].get_title()
    assert png_without_warnings(drawn["figure"]).startswith(b"\x89PNG")


def test_mistakes_are_misclassified_most_confident_first(answers):
    images, labels, probs = answers
    idx = most_confident_mistakes(labels, probs, 100)
    predicted = probs.argmax(axis=1)
    assert set(idx) == set(np.flatnonzero(predicted != labels))
    confidence = probs[idx, predicted[idx]]
    assert np.all(np.diff(confidence) <= 0)
    drawn = plot_mistakes(images, labels, probs, n=8, theme="light")
    assert drawn["indices"].tolist() == idx[:8].tolist()
    first = idx[0]
    assert drawn["captions"][0].get_text() == f"{labels[first]}→{predicted[first]} {probs[first].max():.0%}"
    assert png_without_warnings(drawn["figure"]).startswith(b"\x89PNG")


def test_no_mistakes_is_said_in_the_figure(answers):
    images, labels, _ = answers
    perfect = np.eye(10)[labels]
    drawn = plot_mistakes(images, labels, perfect)
    assert drawn["indices"].size == 0 and drawn["image"] is None
    png_without_warnings(drawn["figure"])


def test_examples_mix_first_digits_with_first_mistakes():
    labels = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])
    predicted = labels.copy()
    predicted[[3, 7, 8]] = 0
    assert choose_examples(labels, predicted, n=5, n_wrong=2).tolist() == [0, 1, 2, 3, 7]
    assert choose_examples(labels, labels, n=3).tolist() == [0, 1, 2]


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_prediction_bars_are_the_softmax_outputs(theme, answers):
    images, labels, probs = answers
    drawn = plot_predictions(images, labels, probs, theme=theme)
    assert len(drawn["bars"]) == drawn["indices"].size == 8
    for row, bars in zip(drawn["indices"], drawn["bars"], strict=True):
        assert [b.get_height() for b in bars] == pytest.approx(probs[row].tolist())
    assert png_without_warnings(drawn["figure"]).startswith(b"\x89PNG")
