"""A drawing becomes an MNIST-like digit: checked against MNIST itself, not against the formula."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.data.handwriting import BOX, CENTRE, SIDE, centre_of_mass, mnist_like
from mlplab.errors import ConfigError


def test_mnists_own_digits_have_their_centre_of_mass_where_we_put_ours(mnist):
    """The convention is measured: MNIST's training digits average a centre of mass of (14, 14)."""
    (x_train, _), _ = mnist
    images = x_train[:20_000].reshape(-1, 28, 28).astype(np.float64)
    mass = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) * np.arange(28)).sum(axis=1) / mass
    cols = (images.sum(axis=1) * np.arange(28)).sum(axis=1) / mass
    assert abs(rows.mean() - CENTRE) < 0.05 and abs(cols.mean() - CENTRE) < 0.05
    assert rows.std() < 0.4 and cols.std() < 0.4  # MNIST shifted by whole pixels: within ±0.5 of the centre


def test_a_centred_square_stroke_lands_centred_and_20_pixels_wide():
    ink = np.zeros((300, 300))
    ink[50:250, 50:250] = 1.0
    ink[70:230, 70:230] = 0.0  # a square outline, 20 px thick
    x = mnist_like(ink)
    assert x.shape == (SIDE, SIDE) and x.dtype == np.float64
    r, c = centre_of_mass(x)
    assert abs(r - CENTRE) < 0.5 and abs(c - CENTRE) < 0.5
    inked = np.flatnonzero(x.sum(axis=0) > 1e-9)
    assert inked[-1] - inked[0] + 1 in (BOX, BOX + 1)  # 20 px, +1 where an edge falls inside a pixel
    assert x.min() >= 0 and x.max() == pytest.approx(1.0)


def test_the_aspect_ratio_is_kept_and_a_tall_stroke_is_20_pixels_tall():
    ink = np.zeros((280, 280))
    ink[40:240, 130:150] = 1.0  # a "1": 200 × 20 canvas pixels
    x = mnist_like(ink)
    tall = np.flatnonzero(x.sum(axis=1) > 1e-9)
    wide = np.flatnonzero(x.sum(axis=0) > 1e-9)
    assert tall[-1] - tall[0] + 1 == BOX + 1  # 20 px centred on pixel 14's middle: half pixels at both ends
    assert x[tall[0]].max() == pytest.approx(0.5) and x[tall[0] + 1].max() == pytest.approx(1.0)
    assert wide[-1] - wide[0] + 1 <= 3  # 20 × (20/200) = 2 px, smeared over at most 3 columns
    assert centre_of_mass(x) == pytest.approx((CENTRE, CENTRE), abs=0.01)


def test_an_off_centre_drawing_is_moved_by_its_centre_of_mass_not_its_box():
    # an "L": most of the ink on the left bar, so the centre of mass is left of the box's middle
    ink = np.zeros((200, 200))
    ink[20:180, 20:40] = 1.0
    ink[160:180, 20:120] = 1.0
    x = mnist_like(ink)
    assert centre_of_mass(x) == pytest.approx((CENTRE, CENTRE), abs=0.1)
    cols = np.flatnonzero(x.sum(axis=0) > 1e-9)
    assert (cols[0] + cols[-1]) / 2 > CENTRE  # the box itself sits right of the centre


def test_area_averaging_preserves_the_ink():
    """Each output pixel is the mean ink on its square: total ink scales with the area, s²."""
    rng = np.random.default_rng(0)
    ink = np.zeros((160, 160))
    ink[30:130, 40:120] = rng.random((100, 80))
    ink[30, 40] = ink[129, 119] = 1.0  # the box is exactly 100 × 80
    x = mnist_like(ink)
    scale = BOX / 100
    assert x.sum() == pytest.approx(ink.sum() * scale**2, rel=1e-9)


def test_real_mnist_digits_drawn_large_come_back_as_themselves(mnist):
    """A training digit blown up ×10 (a 280×280 "canvas") and preprocessed is the same digit again."""
    (x_train, _), _ = mnist
    correlations = []
    for digit in x_train[:100].reshape(-1, 28, 28).astype(np.float64):
        canvas = np.kron(digit, np.ones((10, 10)))
        correlations.append(np.corrcoef(mnist_like(canvas).ravel(), digit.ravel())[0, 1])
    # not 1: our centre of mass is exact where MNIST's shift was a whole pixel
    assert np.mean(correlations) > 0.95 and np.min(correlations) > 0.85


@pytest.mark.parametrize(("ink", "words"), [
    (np.zeros((50, 50)), "the canvas is empty"),
    (np.full((50, 50), 0.01), "the canvas is empty"),  # only antialiasing haze
    (np.full((50, 50), 2.0), "between 0 (paper) and 1 (ink)"),
    (np.full((50, 50), np.nan), "between 0 (paper) and 1 (ink)"),
    (np.zeros(50), "2-D image"),
])
def test_bad_drawings_are_refused_with_a_sentence(ink, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        mnist_like(ink)
