"""Optimizers: small stateful objects with ``update(params, grads)`` that change params in place."""

from mlplab.optim.optimizers import (
    OPTIMIZERS,
    SGD,
    AdaGrad,
    Adam,
    Momentum,
    Nesterov,
    Optimizer,
    RMSprop,
    hyperparameter_defaults,
    make_optimizer,
)

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaGrad",
    "Adam",
    "Momentum",
    "Nesterov",
    "Optimizer",
    "RMSprop",
    "hyperparameter_defaults",
    "make_optimizer",
]
