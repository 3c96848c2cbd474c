"""The textbook-shaped scripts in ``examples/`` run as a learner runs them, and print numbers that hold.

Each script runs in a subprocess with this interpreter, in a temporary working folder (so the PNG
that ``train_neuralnet.py`` saves lands there, not in the repository), with one BLAS thread.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mlplab.data import load_mnist
from mlplab.nn import TwoLayerNet

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NUMBER = r"([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"


def run_example(name: str, *args: str, cwd: Path) -> str:
    env = {**os.environ, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_two_layer_net_backprop_matches_numerical_gradient(tmp_path):
    out = run_example("two_layer_net.py", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0] == "{'W1': (784, 50), 'b1': (50,), 'W2': (50, 10), 'b2': (10,)}"

    # the printed loss is the loss of the same seeded network on the same three images
    printed_loss = float(re.fullmatch(r"loss of 3 images: " + NUMBER, lines[1]).group(1))
    # the script's first three images: cut before converting, as test_data_mnist checks (not 1 s for all of them)
    (x_train, t_train), _ = load_mnist(one_hot_label=True, dtype=np.float64, train_size=3, test_size=1)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.1, seed=0)
    assert printed_loss == pytest.approx(network.loss(x_train[:3], t_train[:3]), rel=1e-12)  # BLAS may round apart

    checks = {m.group(1): (float(m.group(2)), float(m.group(3))) for m in re.finditer(
        r"^(\w+): mean \|backprop - numerical\| = " + NUMBER + r", relative error = " + NUMBER + "$", out, re.M)}
    assert sorted(checks) == ["W1", "W2", "b1", "b2"]
    for key, (mean_diff, rel_error) in checks.items():
        assert 0 <= rel_error < 1e-6, (key, rel_error)
        assert 0 <= mean_diff < 1e-8, (key, mean_diff)


def test_train_neuralnet_accuracy_rises_and_plot_is_saved(tmp_path):
    # 601 iterations: evaluations after iteration 0 and after iteration 600 (one epoch)
    out = run_example("train_neuralnet.py", "601", cwd=tmp_path)
    rows = [(float(a), float(b)) for a, b in re.findall(r"^train acc, test acc \| " + NUMBER + ", " + NUMBER + "$",
                                                        out, re.M)]
    assert len(rows) == 2
    (train0, test0), (train1, test1) = rows
    assert 0.05 < train0 < 0.2 and 0.05 < test0 < 0.2  # untrained: about one digit in ten
    assert train1 > 0.7 and test1 > 0.7  # after one epoch of SGD at lr 0.1 (the book: about 0.78)
    assert out.splitlines()[-1] == "saved train_neuralnet.png"
    assert (tmp_path / "train_neuralnet.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (EXAMPLES / "train_neuralnet.png").exists()
