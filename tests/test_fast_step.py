"""The fast training step computes the same bits as the readable one (STYLE.md rule 2).

``FastStep`` (``train/fast_step.py``) reruns ``LayerNet.gradient`` + ``optimizer.update`` in
preallocated buffers. The equality is exact (``np.array_equal``, not a tolerance): the fast path
runs the same NumPy operations in the same order, only writing into arrays it already has.
"""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.nn import build_network
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS, make_optimizer
from mlplab.train import TrainConfig, train
from mlplab.train import trainer as trainer_module
from mlplab.train.fast_step import FAST_ACTIVATIONS, FastStep, ReadableStep, training_step

LR = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.01}
DEPTHS = {"one hidden": (20, 16, 5), "two hidden": (20, 16, 12, 5), "three hidden": (20, 8, 8, 8, 5)}


def _data(dtype, n=300, d=20, classes=5):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, d)).astype(dtype)
    t = rng.integers(0, classes, n).astype(np.uint8)  # MNIST's labels are uint8
    return x, t


def _run(step, x, t, batches):
    losses, grads_seen = [], []
    for batch in batches:
        loss, grads = step.gradient(x, t, batch)
        losses.append(loss)
        grads_seen.append({k: g.copy() for k, g in grads.items()})  # the fast step reuses its buffers
        step.update(grads)
    return losses, grads_seen


def test_every_activation_layer_has_a_fast_path():
    assert set(ACTIVATION_LAYERS.values()) == set(FAST_ACTIVATIONS)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("depth", list(DEPTHS))
@pytest.mark.parametrize("activation", list(ACTIVATION_LAYERS))
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_fast_step_is_bit_identical_to_the_readable_step(optimizer, activation, depth, dtype):
    x, t = _data(dtype)
    nets = [build_network(DEPTHS[depth], activation=activation, weight_init_std="auto", seed=0, dtype=dtype)
            for _ in range(2)]
    rng = np.random.default_rng(2)
    batches = [rng.integers(0, x.shape[0], 32) for _ in range(8)]
    fast = training_step(nets[0], make_optimizer(optimizer, LR[optimizer]), x, t, batch_size=32)
    readable = ReadableStep(nets[1], make_optimizer(optimizer, LR[optimizer]))
    assert isinstance(fast, FastStep)
    fast_losses, fast_grads = _run(fast, x, t, batches)
    losses, grads = _run(readable, x, t, batches)
    assert fast_losses == losses
    for got, want in zip(fast_grads, grads, strict=True):
        assert list(got) == list(want)
        for key in want:
            assert got[key].dtype == want[key].dtype and np.array_equal(got[key], want[key]), key
    for key in nets[1].params:
        assert np.array_equal(nets[0].params[key], nets[1].params[key]), key
    assert nets[0].last_loss == nets[1].last_loss
    start = build_network(DEPTHS[depth], activation=activation, weight_init_std="auto", seed=0, dtype=dtype)
    assert not np.array_equal(start.params["W1"], nets[0].params["W1"])  # the steps moved the weights


def test_a_batch_of_another_size_gets_new_buffers():
    x, t = _data(np.float32, n=50)
    nets = [build_network((20, 16, 5), seed=0, dtype=np.float32) for _ in range(2)]
    fast = training_step(nets[0], make_optimizer("sgd", 0.1), x, t, batch_size=100)
    readable = ReadableStep(nets[1], make_optimizer("sgd", 0.1))
    batches = [np.random.default_rng(0).permutation(50)] * 2
    assert _run(fast, x, t, batches)[0] == _run(readable, x, t, batches)[0]


@pytest.mark.parametrize("why", ["weight decay", "batch norm", "data of another dtype"])
def test_other_networks_take_the_readable_step(why):
    from mlplab.nn import MultiLayerNet, MultiLayerNetExtend

    x, t = _data(np.float64)
    if why == "weight decay":
        net = MultiLayerNet(20, [16], 5, weight_decay_lambda=0.1, seed=0)
    elif why == "batch norm":
        net = MultiLayerNetExtend(20, [16], 5, use_batchnorm=True, seed=0)
    else:
        net = build_network((20, 16, 5), seed=0, dtype=np.float32)
    assert isinstance(training_step(net, make_optimizer("sgd", 0.1), x, t, 32), ReadableStep)


@pytest.mark.parametrize("sampling", ["replacement", "shuffle"])
def test_train_gives_the_same_run_with_either_step(monkeypatch, sampling):
    x, t = _data(np.float32, n=400)
    data = ((x[:300], t[:300]), (x[300:], t[300:]))
    config = TrainConfig(iters=60, batch_size=25, hidden=(16,), lr=0.5, seed=3, sampling=sampling,
                         eval_every=20)
    fast = train(config, data=data)
    monkeypatch.setattr(trainer_module, "training_step", lambda net, opt, *_: ReadableStep(net, opt))
    readable = train(config, data=data)
    assert fast.history.loss == readable.history.loss
    assert fast.history.test_acc == readable.history.test_acc
    for key, value in readable.network.params.items():
        assert np.array_equal(fast.network.params[key], value)
