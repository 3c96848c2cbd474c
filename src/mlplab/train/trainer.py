"""The textbook's training loop (ch. 4.5), with the run folder and observers around it.

    for i in range(iters):
        pick a mini-batch of batch_size rows
        grads = network.gradient(x_batch, t_batch)      # backprop
        optimizer.update(network.params, grads)         # W ← W − lr·∂L/∂W for SGD
        record the loss
        if i % iters_per_epoch == 0: measure train and test accuracy on the full sets
    measure once more after the last iteration, unless it was just measured

Differences from the book, each on purpose: the loss recorded for iteration ``i`` is the one from the
forward pass that backprop already ran (the book runs a second forward pass after the update just to
record it); the model at the end is measured too (the book's last evaluation is after iteration 9600,
399 updates before the end), so the "final" numbers are those of the saved model; randomness comes
from an explicit seed; a NaN loss, Ctrl-C or a stop request end the run cleanly with everything
recorded so far written to the run folder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlplab.data import load_mnist
from mlplab.data.mnist import load_mnist_split
from mlplab.errors import ConfigError, DataError
from mlplab.nn.networks import LayerNet, build_network, evaluate
from mlplab.optim import make_optimizer
from mlplab.train.config import TrainConfig
from mlplab.train.fast_step import training_step
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStatsRecorder
from mlplab.train.limits import check_training
from mlplab.train.observers import Observer, SnapshotRecorder, StreamWriter, TrainingState, end_observers
from mlplab.train.run_folder import (
    config_record,
    prepare_run_dir,
    save_results,
    unwritten_error,
    write_config,
)
from mlplab.train.threads import blas_threads

Dataset = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass
class TrainResult:
    """What :func:`train` returns: the trained network, its history and where it was saved."""

    network: LayerNet
    history: History
    config: TrainConfig
    run_dir: Path | None


def batches_with_replacement(rng: np.random.Generator, n: int, batch_size: int) -> Iterator[np.ndarray]:
    """The textbook's sampling: each batch is ``batch_size`` indices drawn independently (a row may
    appear twice in a batch, and some rows are never seen in an epoch)."""
    while True:
        yield rng.integers(0, n, size=batch_size)


def batches_from_shuffles(rng: np.random.Generator, n: int, batch_size: int) -> Iterator[np.ndarray]:
    """Each epoch, a fresh permutation cut into consecutive batches: every row once per epoch."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]
        if n < batch_size:
            yield order


def load_dataset(config: TrainConfig) -> Dataset:
    """MNIST (or ``config.data_dir``) in the run's dtype, cut to ``train_size`` / ``test_size``."""
    (x_train, t_train), (x_test, t_test) = load_mnist(dtype=np.dtype(config.dtype), data_dir=config.data_dir)
    if config.train_size is not None:
        x_train, t_train = x_train[: config.train_size], t_train[: config.train_size]
    if config.test_size is not None:
        x_test, t_test = x_test[: config.test_size], t_test[: config.test_size]
    return (x_train, t_train), (x_test, t_test)


def load_test_set(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """The run's test set alone (``x (N, 784)``, ``t (N,)``), as :func:`load_dataset` cuts it: what the
    figures of a run need, without reading and converting the 60,000 training images."""
    x_test, t_test = load_mnist_split("test", dtype=np.dtype(config.dtype), data_dir=config.data_dir)
    if config.test_size is not None:
        x_test, t_test = x_test[: config.test_size], t_test[: config.test_size]
    return x_test, t_test


def check_dataset(data: Dataset) -> None:
    """Refuse data that cannot train: mismatched lengths or NaN/inf values."""
    for name, (x, t) in zip(("training", "test"), data, strict=True):
        if x.shape[0] != np.asarray(t).shape[0]:
            raise DataError(f"the {name} set has {x.shape[0]} inputs but {np.asarray(t).shape[0]} labels.")
        if x.shape[0] == 0:
            raise DataError(f"the {name} set is empty.")
        if not np.all(np.isfinite(x)):
            bad = int(np.sum(~np.isfinite(x)))
            raise DataError(
                f"the {name} inputs contain {bad} NaN or infinite values; clean or drop those rows "
                "before training (a single NaN turns every weight into NaN)."
            )


def resolve_seed(config: TrainConfig) -> TrainConfig:
    """Pick a seed when none was given, so that the run folder can always reproduce the run."""
    if config.seed is not None:
        return config
    return config.replace(seed=int(np.random.SeedSequence().entropy % 2**32))


def initial_network(config: TrainConfig, n_features: int = 784, n_classes: int = 10,
                    dtype: np.dtype | None = None) -> LayerNet:
    """The network as :func:`train` starts it: the seed's first stream draws the initial weights.

    ``SeedSequence(seed).spawn(2)`` gives two independent streams, one for the weights and one for
    the batches, so the same seed rebuilds the same starting point (``mlplab explain --untrained``,
    ``mlplab diagnose``) without replaying any batch. ``dtype`` overrides the run's (float64 for checks).
    """
    if config.seed is None:
        raise ConfigError("this run has no seed, so its initial weights cannot be rebuilt; train with a seed.")
    init_seq, _ = np.random.SeedSequence(config.seed).spawn(2)
    return build_network(
        (n_features, *config.hidden, max(n_classes, 2)),
        activation=config.activation, weight_init_std=config.weight_init_std,
        seed=np.random.default_rng(init_seq), dtype=np.dtype(dtype or config.dtype),
        weight_decay_lambda=config.weight_decay, use_batchnorm=config.batchnorm, dropout_ratio=config.dropout,
    )


def validation_rows(config: TrainConfig, n_train: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, validation_rows)``: ``config.validation`` of the ``n_train`` training rows held out.

    The held-out rows are a seeded random choice (the book's ch. 6 shuffles, then takes the first 20 %),
    drawn from a third stream of the seed (``SeedSequence(seed).spawn(3)[2]``), so the weights and the
    batches' streams are those of the same seed without validation. Both index arrays are sorted.
    """
    if config.validation >= n_train:
        raise ConfigError(f"validation must be smaller than the {n_train} training images, got "
                          f"{config.validation}; hold out fewer, e.g. --validation {max(n_train // 5, 1)}.")
    if config.seed is None:
        raise ConfigError("a validation split needs a seed; train with a seed.")
    order = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(3)[2]).permutation(n_train)
    return np.sort(order[config.validation:]), np.sort(order[: config.validation])


def train(
    config: TrainConfig | None = None,
    *,
    data: Dataset | None = None,
    run_dir: str | Path | None = None,
    observers: Iterable[Observer] = (),
    should_stop: Callable[[], bool] | None = None,
    record_layer_stats: bool = True,
) -> TrainResult:
    """Train a network as ``config`` says and return it with its :class:`History`.

    With ``run_dir``, the run folder is written there (config first, results at the end however
    the run ended). ``data`` replaces MNIST with ``((x_train, t_train), (x_test, t_test))``
    (integer labels). ``should_stop`` is polled every iteration (the web app's Stop button).
    ``record_layer_stats`` (with ``run_dir``) writes ``layer_stats.json`` for :mod:`mlplab.diagnose`.

    Example
    -------
    >>> result = train(TrainConfig(iters=600, seed=0))
    >>> result.history.test_acc[-1]  # doctest: +SKIP
    0.79
    """
    config = resolve_seed(config or TrainConfig())
    if data is None:
        data = load_dataset(config)
    check_dataset(data)
    (x_train, t_train), (x_test, t_test) = data
    t_train, t_test = np.asarray(t_train), np.asarray(t_test)
    if t_train.ndim != 1 or t_test.ndim != 1:
        raise ConfigError("the trainer needs integer labels (N,), not one-hot rows.")
    x_train = x_train.reshape(x_train.shape[0], -1)
    x_test = x_test.reshape(x_test.shape[0], -1)
    x_val = t_val = None
    if config.validation:  # held out before anything trains: the validation rows are never a batch
        keep, held = validation_rows(config, x_train.shape[0])
        x_val, t_val = x_train[held], t_train[held]
        x_train, t_train = x_train[keep], t_train[keep]
    n_train = x_train.shape[0]
    n_classes = int(max(t_train.max(), t_test.max())) + 1
    # before the network exists: a size too large for this machine is one sentence, not a MemoryError
    check_training(config, n_features=x_train.shape[1], n_classes=n_classes, rows=(n_train, x_test.shape[0]),
                   include_data=False)

    network = initial_network(config, x_train.shape[1], n_classes)
    _, batch_seq = np.random.SeedSequence(config.seed).spawn(2)
    optimizer = make_optimizer(config.optimizer, config.lr, **config.optimizer_options)
    sample = batches_from_shuffles if config.sampling == "shuffle" else batches_with_replacement
    batches = sample(np.random.default_rng(batch_seq), n_train, config.batch_size)
    eval_every = config.eval_every or max(n_train // config.batch_size, 1)

    history = History()
    all_observers = list(observers)
    if run_dir is not None:
        run_dir = prepare_run_dir(run_dir)
        write_config(run_dir, config_record(config, network, n_train=n_train, n_test=x_test.shape[0]))
        # the caller's observers first: what they keep at an evaluation (the web app's live network) is
        # there before the stream announces that evaluation to whoever follows it
        all_observers = [
            *all_observers, StreamWriter(run_dir), SnapshotRecorder(run_dir),
            # No eval_every: the final evaluation may come at any iteration (a stop request, Ctrl-C),
            # so the recorder keeps the weights before every step (copied into two buffers that take turns).
            *([LayerStatsRecorder(run_dir, x_train, t_train=t_train)] if record_layer_stats else []),
        ]
    state = TrainingState(config=config, network=network, optimizer=optimizer, history=history, run_dir=run_dir)
    for obs in all_observers:
        obs.on_start(state)

    started = time.perf_counter()

    def measure(i: int) -> None:
        """Evaluate the network as it is after iteration ``i`` on both full sets; tell the observers."""
        train_acc, train_loss = evaluate(network, x_train, t_train)
        test_acc, test_loss = evaluate(network, x_test, t_test)
        if x_val is not None:
            val_acc, val_loss = evaluate(network, x_val, t_val)
            history.val_acc.append(val_acc)
            history.val_loss.append(val_loss)
        history.iterations.append(i)
        history.train_acc.append(train_acc)
        history.test_acc.append(test_acc)
        history.train_loss.append(train_loss)
        history.test_loss.append(test_loss)
        history.eval_seconds.append(time.perf_counter() - started)
        state.iteration = i
        for obs in all_observers:
            obs.on_evaluation(state)

    # network.gradient + optimizer.update; for the common networks in preallocated buffers (the same bits)
    step = training_step(network, optimizer, x_train, t_train, config.batch_size)
    # A diverging run overflows long before its loss turns NaN; we detect that explicitly below,
    # so NumPy's warnings would only be noise on the learner's screen.
    # One BLAS thread for the steps and the evaluations (mlplab.train.threads says why).
    with np.errstate(over="ignore", invalid="ignore"), blas_threads(1):
        try:
            for i in range(config.iters):
                batch = next(batches)
                loss, grads = step.gradient(x_train, t_train, batch)
                if not np.isfinite(loss):
                    history.status = "diverged"
                    history.message = (
                        f"the loss became {loss} at iteration {i} with lr={config.lr:g}; "
                        f"try a smaller learning rate, e.g. --lr {config.lr / 10:g}."
                    )
                    break
                step.update(grads)
                history.loss.append(loss)
                state.iteration, state.loss, state.grads = i, loss, grads
                for obs in all_observers:
                    obs.on_iteration(state)
                if i % eval_every == 0:
                    measure(i)
                if should_stop is not None and should_stop():
                    history.status = "stopped"
                    history.message = f"stopped on request after iteration {i}."
                    break
            else:
                history.status = "completed"
        except KeyboardInterrupt:
            history.status = "interrupted"
            history.message = f"interrupted (Ctrl-C) after {len(history.loss)} iterations; the partial run is kept."
        finally:
            if history.status == "running":  # an unexpected exception: still keep what we have
                history.status = "failed"
            elif history.status != "diverged":
                measure_final_model(history, measure)
            history.seconds = time.perf_counter() - started
            # history and model first, then the observers' files; each write on its own (a full disk)
            failed = save_results(run_dir, history, network) if run_dir is not None else []
            failed += end_observers(all_observers, state)
            if failed and sys.exc_info()[0] is None:
                raise unwritten_error(run_dir, failed)
    return TrainResult(network=network, history=history, config=config, run_dir=run_dir)


def measure_final_model(history: History, measure: Callable[[int], None]) -> None:
    """Evaluate once more after the last iteration unless it was an evaluation point already.

    So the history ends with the numbers of the model that is saved (10000 iterations: evaluations
    after iterations 0, 600, …, 9600 as in the book, then one after iteration 9999). Also for a run
    stopped or interrupted early; a second Ctrl-C skips it. A diverged run gets none: its weights are
    the ones that produced a non-finite loss, and its history ends with its last sound evaluation.
    """
    last = len(history.loss) - 1  # the last iteration whose update was made and recorded
    if last < 0 or (history.iterations and history.iterations[-1] == last):
        return
    try:
        measure(last)
    except KeyboardInterrupt:
        history.message += " The final evaluation was skipped (Ctrl-C)."
