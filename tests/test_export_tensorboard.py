"""TensorBoard export: the events read back equal the run's history."""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np
import pytest

from mlplab.export.tensorboard import TensorBoardWriter, hidden_units_grid
from mlplab.train import TrainConfig, train

# tensorboard's EventAccumulator reads the files back (an independent reader); tensorboardX writes them.
# Looked up here and imported by the tests that use them: importing tensorboardX takes a second of CPU, which
# every xdist worker paid while collecting, whether it ran these tests or not.
pytestmark = pytest.mark.skipif(find_spec("tensorboard") is None or find_spec("tensorboardX") is None,
                                reason="needs tensorboard and tensorboardX: pip install -e '.[test]'")


def _accumulate(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "images": 0})
    acc.Reload()
    return acc


def test_events_equal_the_history(small_mnist, tmp_path):
    config = TrainConfig(iters=60, eval_every=20, seed=0, train_size=2000, test_size=500)
    result = train(config, data=small_mnist, observers=[TensorBoardWriter(tmp_path, loss_every=1)])
    h = result.history
    train_events, test_events = _accumulate(tmp_path / "train"), _accumulate(tmp_path / "test")

    loss = train_events.Scalars("loss")
    assert [e.step for e in loss] == list(range(60))
    np.testing.assert_allclose([e.value for e in loss], h.loss, rtol=1e-6)
    for events, expected in ((train_events, h.train_acc), (test_events, h.test_acc)):
        accuracy = events.Scalars("accuracy")
        assert [e.step for e in accuracy] == h.iterations
        np.testing.assert_allclose([e.value for e in accuracy], expected, rtol=1e-6)

    histograms = train_events.Histograms("weights/W1")
    assert [e.step for e in histograms] == h.iterations
    assert histograms[-1].histogram_value.num == 784 * 50
    assert histograms[-1].histogram_value.max == pytest.approx(float(result.network.params["W1"].max()))
    assert len(train_events.Histograms("gradients/b2")) == len(h.iterations) == 4  # 0, 20, 40 and the final 59
    image = train_events.Images("hidden_units")[-1]
    assert image.encoded_image_string[:8] == b"\x89PNG\r\n\x1a\n"


def test_histograms_read_back_count_every_finite_value(small_mnist, tmp_path):
    config = TrainConfig(iters=3, eval_every=2, seed=0, train_size=200, test_size=100)
    result = train(config, data=small_mnist, observers=[TensorBoardWriter(tmp_path)])
    h = _accumulate(tmp_path / "train").Histograms("weights/b1")[-1].histogram_value
    b1 = result.network.params["b1"].astype(np.float64)
    assert sum(h.bucket) == h.num == b1.size
    assert h.sum == pytest.approx(b1.sum(), abs=1e-6) and h.sum_squares == pytest.approx(np.sum(b1 * b1))


def test_hidden_unit_grid_layout():
    W1 = np.zeros((784, 5))
    W1[0, 3] = -2.0  # unit 3, pixel (0, 0)
    grid = hidden_units_grid(W1)
    assert grid.shape == (2 * 29 + 1, 3 * 29 + 1)  # 5 units -> 2 rows x 3 columns
    assert grid[1 + 29, 1] == -1.0  # unit 3 sits in row 1, column 0, scaled to [-1, 1]


def test_cli_option_writes_events(tmp_path):
    from click.testing import CliRunner

    from mlplab.cli import main

    args = ["train", "--iters", "30", "--eval-every", "10", "--train-size", "500", "--test-size", "200",
            "--seed", "0", "--quiet", "--no-plots", "--out", str(tmp_path / "run"),
            "--tensorboard", str(tmp_path / "tb")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    accuracy = _accumulate(tmp_path / "tb" / "test").Scalars("accuracy")
    assert [e.step for e in accuracy] == [0, 10, 20, 29]  # 29: the saved model


def test_missing_tensorboard_says_how_to_install(tmp_path, monkeypatch):
    import builtins

    from click.testing import CliRunner

    from mlplab.cli import main

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    result = CliRunner().invoke(main, ["train", "--iters", "5", "--quiet", "--no-plots",
                                       "--out", str(tmp_path / "run"), "--tensorboard", str(tmp_path / "tb")])
    assert result.exit_code == 2
    assert 'pip install "mlplab[tensorboard]"' in result.output
    assert not (tmp_path / "run").exists()  # refused before anything was written
