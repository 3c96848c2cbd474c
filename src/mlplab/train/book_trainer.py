"""The book's ``Trainer`` (``common/trainer.py``, used from ch. 6 on): the same constructor and lists.

    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=20, mini_batch_size=100,
                      optimizer="SGD", optimizer_param={"lr": 0.01})
    trainer.train()
    trainer.train_acc_list, trainer.test_acc_list, trainer.train_loss_list

It runs the book's loop step for step, so a book script gives the book's numbers: each step draws a
batch with replacement, takes the gradient (training mode), updates, and records the loss of the
batch *after* the update (a second forward pass, in evaluation mode). Once per "epoch" — when the
step number is a multiple of ``train_size / mini_batch_size``, a float as in the book, so for sizes
that do not divide only some epochs are evaluated — it records accuracy on the training and test
sets (their first ``evaluate_sample_num_per_epoch`` rows, if given). Like mlplab's own loop, the
steps run on one BLAS thread and the evaluations on all of them: same numbers, much faster on a
busy machine.

mlplab's own loop, with a config, a run folder and observers, is :func:`mlplab.train.train`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlplab.errors import ConfigError
from mlplab.nn.networks import LayerNet
from mlplab.optim import OPTIMIZERS, Optimizer
from mlplab.train.threads import blas_threads


class Trainer:
    """Train ``network`` on ``(x_train, t_train)`` and watch ``(x_test, t_test)``, the book's way.

    Parameters
    ----------
    network : any network with ``params``, ``gradient``, ``loss`` and ``accuracy`` (all of mlplab's).
    epochs, mini_batch_size : ``int(epochs · train_size / mini_batch_size)`` steps in all.
    optimizer : a name of :data:`mlplab.optim.OPTIMIZERS`, any case ("SGD", "Adam", …).
    optimizer_param : the optimizer's keyword arguments; ``None`` means ``{"lr": 0.01}``, the book's.
    evaluate_sample_num_per_epoch : measure accuracy on only this many rows of each set (faster).
    verbose : print the loss of every step and the accuracies of every epoch, as the book does.
    seed : ``None`` draws batches from NumPy's global state (``np.random.choice``, as the book), an
        int or ``Generator`` from its own stream.

    After ``train()``: ``train_loss_list`` (one loss per step), ``train_acc_list`` and
    ``test_acc_list`` (one per evaluated epoch), and ``final_test_acc`` on the whole test set.
    """

    def __init__(
        self,
        network: LayerNet,
        x_train: np.ndarray,
        t_train: np.ndarray,
        x_test: np.ndarray,
        t_test: np.ndarray,
        epochs: int = 20,
        mini_batch_size: int = 100,
        optimizer: str = "SGD",
        optimizer_param: dict[str, Any] | None = None,
        evaluate_sample_num_per_epoch: int | None = None,
        verbose: bool = True,
        *,
        seed: int | np.random.Generator | None = None,
    ) -> None:
        name = optimizer.lower()
        if name not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}.")
        if mini_batch_size < 1:
            raise ConfigError(f"mini_batch_size must be >= 1, got {mini_batch_size!r}.")
        self.network = network
        self.x_train, self.t_train = x_train, t_train
        self.x_test, self.t_test = x_test, t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.verbose = verbose
        self.optimizer: Optimizer = OPTIMIZERS[name](**({"lr": 0.01} if optimizer_param is None else optimizer_param))
        self.rng = None if seed is None else np.random.default_rng(seed)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)  # a float, as in the book
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list: list[float] = []
        self.train_acc_list: list[float] = []
        self.test_acc_list: list[float] = []
        self.final_test_acc: float | None = None

    def train_step(self) -> None:
        """One mini-batch step; at the start of each epoch, also measure both accuracies."""
        if self.rng is None:
            batch_mask = np.random.choice(self.train_size, self.batch_size)  # with replacement
        else:
            batch_mask = self.rng.integers(0, self.train_size, size=self.batch_size)
        x_batch, t_batch = self.x_train[batch_mask], self.t_train[batch_mask]

        with blas_threads(1):  # a mini-batch's small products: one BLAS thread (see mlplab.train.threads)
            grads = self.network.gradient(x_batch, t_batch)
            self.optimizer.update(self.network.params, grads)
            loss = self.network.loss(x_batch, t_batch)  # after the update, evaluation mode: the book's number
        self.train_loss_list.append(loss)
        if self.verbose:
            print(f"train loss:{loss}")

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1
            n = self.evaluate_sample_num_per_epoch  # None: the whole sets (a slice [:None] is all)
            train_acc = self.network.accuracy(self.x_train[:n], self.t_train[:n])
            test_acc = self.network.accuracy(self.x_test[:n], self.t_test[:n])
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)
            if self.verbose:
                print(f"=== epoch:{self.current_epoch}, train acc:{train_acc}, test acc:{test_acc} ===")
        self.current_iter += 1

    def train(self) -> float:
        """Run every step, then measure (and return) the accuracy on the whole test set."""
        for _ in range(self.max_iter):
            self.train_step()
        self.final_test_acc = self.network.accuracy(self.x_test, self.t_test)
        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print(f"test acc:{self.final_test_acc}")
        return self.final_test_acc
