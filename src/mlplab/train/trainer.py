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

from mlplab.errors import ConfigError
from mlplab.nn.networks import LayerNet, build_network, evaluate
from mlplab.optim import make_optimizer
from mlplab.train.config import TrainConfig
from mlplab.train.divergence import diverged_message
from mlplab.train.fast_step import training_step
from mlplab.train.history import History
from mlplab.train.layer_stats import LayerStatsRecorder
from mlplab.train.observers import Observer, SnapshotRecorder, StreamWriter, TrainingState, end_observers
from mlplab.train.prepare import (
    Dataset,
    TrainingData,
    load_dataset,
    load_test_set,  # noqa: F401 - not used here, but importable from mlplab.train.trainer as before
    prepare_data,
    validation_rows,  # noqa: F401 - the same
)
from mlplab.train.run_folder import (
    config_record,
    prepare_run_dir,
    save_results,
    unwritten_error,
    write_config,
)
from mlplab.train.threads import blas_threads


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


def mini_batches(config: TrainConfig, n_train: int) -> Iterator[np.ndarray]:
    """The run's batches of row indices, from the seed's second stream (the first draws the weights)."""
    _, batch_seq = np.random.SeedSequence(config.seed).spawn(2)
    sample = batches_from_shuffles if config.sampling == "shuffle" else batches_with_replacement
    return sample(np.random.default_rng(batch_seq), n_train, config.batch_size)


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
    data = prepare_data(config, load_dataset(config) if data is None else data)
    network = initial_network(config, data.n_features, data.n_classes)
    optimizer = make_optimizer(config.optimizer, config.lr, **config.optimizer_options)
    batches = mini_batches(config, data.n_train)
    eval_every = config.eval_every or max(data.n_train // config.batch_size, 1)  # the book's iters_per_epoch
    history = History()
    run_dir = start_run_folder(run_dir, config, network, data)
    observers = run_observers(observers, run_dir, data, record_layer_stats)
    state = TrainingState(config=config, network=network, optimizer=optimizer, history=history, run_dir=run_dir)
    for obs in observers:
        obs.on_start(state)

    started = time.perf_counter()
    # network.gradient + optimizer.update; for the common networks in preallocated buffers (the same bits)
    step = training_step(network, optimizer, data.x_train, data.t_train, config.batch_size)
    # A diverging run overflows long before its loss turns NaN; we detect that explicitly below,
    # so NumPy's warnings would only be noise on the learner's screen.
    # One BLAS thread for the steps and the evaluations (mlplab.train.threads says why).
    with np.errstate(over="ignore", invalid="ignore"), blas_threads(1):
        try:
            for i in range(config.iters):
                batch = next(batches)  # a mini-batch: batch_size row indices
                loss, grads = step.gradient(data.x_train, data.t_train, batch)  # backprop
                if not np.isfinite(loss):  # stop before the update: the history keeps only finite losses
                    history.status = "diverged"
                    history.message = diverged_message(loss, i, config, history.loss, network.sizes)
                    break
                step.update(grads)  # W ← W − lr·∂L/∂W for SGD
                history.loss.append(loss)  # record the loss
                state.iteration, state.loss, state.grads = i, loss, grads
                for obs in observers:
                    obs.on_iteration(state)
                if i % eval_every == 0:  # accuracy on the full sets
                    measure(i, data, state, observers, started)
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
            finish(state, data, observers, started)
    return TrainResult(network=network, history=history, config=config, run_dir=run_dir)


def start_run_folder(run_dir: str | Path | None, config: TrainConfig, network: LayerNet,
                     data: TrainingData) -> Path | None:
    """Create the run folder and write ``config.json`` before the first step, so that even a run that
    fails at once says what it was; ``None`` (no folder) stays ``None``."""
    if run_dir is None:
        return None
    run_dir = prepare_run_dir(run_dir)
    write_config(run_dir, config_record(config, network, n_train=data.n_train, n_test=data.n_test))
    return run_dir


def run_observers(observers: Iterable[Observer], run_dir: Path | None, data: TrainingData,
                  record_layer_stats: bool) -> list[Observer]:
    """The caller's observers, then, with a run folder, the ones that write its files.

    The caller's come first: what they keep at an evaluation (the web app's live network) is there
    before the stream announces that evaluation to whoever follows it.
    """
    if run_dir is None:
        return list(observers)
    return [
        *observers, StreamWriter(run_dir), SnapshotRecorder(run_dir),
        # No eval_every: the final evaluation may come at any iteration (a stop request, Ctrl-C),
        # so the recorder keeps the weights before every step (copied into two buffers that take turns).
        *([LayerStatsRecorder(run_dir, data.x_train, t_train=data.t_train)] if record_layer_stats else []),
    ]


def measure(i: int, data: TrainingData, state: TrainingState, observers: list[Observer], started: float) -> None:
    """Evaluate the network as it is after iteration ``i`` on the full sets and tell the observers.

    The book's per-epoch accuracies, with the mean losses and, with a validation split, the held-out
    rows; ``started`` is when the loop began (``time.perf_counter()``), for ``history.eval_seconds``.
    """
    network, history = state.network, state.history
    train_acc, train_loss = evaluate(network, data.x_train, data.t_train)
    test_acc, test_loss = evaluate(network, data.x_test, data.t_test)
    if data.x_val is not None:
        val_acc, val_loss = evaluate(network, data.x_val, data.t_val)
        history.val_acc.append(val_acc)
        history.val_loss.append(val_loss)
    history.iterations.append(i)
    history.train_acc.append(train_acc)
    history.test_acc.append(test_acc)
    history.train_loss.append(train_loss)
    history.test_loss.append(test_loss)
    history.eval_seconds.append(time.perf_counter() - started)
    state.iteration = i
    for obs in observers:
        obs.on_evaluation(state)


def finish(state: TrainingState, data: TrainingData, observers: list[Observer], started: float) -> None:
    """However the run ended: measure the final model, time the loop, write the history and the model,
    end the observers; then raise for any file that could not be written.

    Called from the loop's ``finally``: when an exception is on its way up (an observer's bug), that
    exception is the one the caller sees, so unwritten files are raised only without one.
    """
    history = state.history
    if history.status == "running":  # an unexpected exception: still keep what we have
        history.status = "failed"
    elif history.status != "diverged":
        measure_final_model(history, lambda last: measure(last, data, state, observers, started))
    history.seconds = time.perf_counter() - started
    # history and model first, then the observers' files; each write on its own (a full disk)
    failed = save_results(state.run_dir, history, state.network) if state.run_dir is not None else []
    failed += end_observers(observers, state)
    if failed and sys.exc_info()[0] is None:
        raise unwritten_error(state.run_dir, failed)


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
