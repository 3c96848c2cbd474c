"""Hidden-unit images are the columns of W1; the GIF has one frame per recorded evaluation."""

from __future__ import annotations

import io
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from mlplab.errors import ConfigError
from mlplab.viz.panels import symmetric_limit, tile_center, tile_images
from mlplab.viz.theme import figure_bytes
from mlplab.viz.training.hidden_units import hidden_units_gif, plot_hidden_units, save_hidden_units_gif, unit_images


def test_unit_image_j_is_column_j_of_W1():
    W1 = np.random.default_rng(0).standard_normal((784, 7))
    images = unit_images(W1)
    assert images.shape == (7, 28, 28)
    for j in range(7):
        assert np.array_equal(images[j], W1[:, j].reshape(28, 28))


def test_unit_images_refuse_a_non_square_input():
    with pytest.raises(ConfigError, match=r"\(784, 50\)"):
        unit_images(np.zeros((783, 5)))


def test_tiles_are_placed_row_by_row_with_empty_cells_transparent():
    tiles = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    mosaic = tile_images(tiles, ncols=3, pad=1)
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1)
    assert np.array_equal(mosaic[3:5, 4:7], tiles[4])  # tile 4: row 1, column 1
    assert np.isnan(mosaic[3:5, 8:11]).all()  # no sixth tile
    assert np.isnan(mosaic[2]).all()  # the gap between rows
    assert tile_center(4, (2, 3), 3) == (5.0, 3.5)


def test_symmetric_limit_ignores_non_finite_values_and_outliers():
    values = np.concatenate([np.linspace(-1, 1, 1000), [np.nan, np.inf, 50.0]])
    assert symmetric_limit(values, 99) == pytest.approx(1.0, abs=0.05)
    assert symmetric_limit(np.zeros(4)) > 0


@pytest.mark.parametrize(("theme", "hidden"), [("dark", 50), ("light", 100)])
def test_grid_shows_every_unit_on_one_symmetric_scale(theme, hidden):
    W1 = np.random.default_rng(1).standard_normal((784, hidden)) * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drawn = plot_hidden_units(W1, theme=theme)
        png = figure_bytes(drawn["figure"])
    plt.close(drawn["figure"])
    assert png.startswith(b"\x89PNG")
    image = drawn["image"]
    expected = tile_images(unit_images(W1), 10)
    assert np.array_equal(np.isnan(image.get_array().filled(np.nan)), np.isnan(expected))
    assert np.allclose(image.get_array().filled(np.nan), expected, equal_nan=True)
    vmin, vmax = image.get_clim()
    assert vmin == -vmax == -symmetric_limit(W1)


def test_gif_has_one_frame_per_evaluation(tmp_path):
    rng = np.random.default_rng(2)
    frames = np.stack([rng.standard_normal((784, 12)) * s for s in (0.01, 0.1, 0.3)])
    path = save_hidden_units_gif(frames, [0, 600, 1200], tmp_path / "units.gif", theme="light",
                                 test_acc=[0.1, 0.8, 0.9])
    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 3
        pictures = []
        for k in range(3):
            gif.seek(k)
            pictures.append(np.asarray(gif.convert("RGB")))
        assert gif.info["loop"] == 0
    assert not np.array_equal(pictures[0], pictures[2])  # the frames show different weights


def test_gif_of_a_single_evaluation_and_bad_shapes():
    one = hidden_units_gif(np.zeros((1, 784, 4)), [0])
    with Image.open(io.BytesIO(one)) as gif:
        assert gif.n_frames == 1
    with pytest.raises(ConfigError, match="n_evals"):
        hidden_units_gif(np.zeros((0, 784, 4)), [])
