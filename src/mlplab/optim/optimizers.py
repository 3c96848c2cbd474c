"""The six optimizers of "Deep Learning from Scratch" ch. 6, written so the formula is the code.

Each optimizer keeps its state (velocities, squared-gradient sums, moments) in plain dicts keyed like
``params``, so a learner can print it. ``update`` changes the arrays in ``params`` in place, because the
network's layers hold references to those very arrays.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from mlplab.errors import ConfigError

Params = dict[str, np.ndarray]


def _check_positive(name: str, value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}; try e.g. {name}=0.1.")
    return float(value)


def _check_fraction(name: str, value: float) -> float:
    if not (0.0 <= value < 1.0):
        raise ConfigError(f"{name} must be in [0, 1), got {value!r}; the usual value is 0.9.")
    return float(value)


class Optimizer:
    """Base class: ``update(params, grads)`` moves every parameter one step, in place."""

    name: str = "optimizer"

    def __init__(self, lr: float) -> None:
        self.lr = _check_positive("lr", lr)

    def update(self, params: Params, grads: Params) -> None:
        raise NotImplementedError

    def state(self) -> dict[str, Any]:
        """The optimizer's internal state (what it remembers between steps)."""
        return {}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({fields})"

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr}


class SGD(Optimizer):
    """Stochastic gradient descent: ``W ← W − lr·∂L/∂W``.

    Reference: Robbins & Monro (1951); "Deep Learning from Scratch" §6.1.2.
    """

    name = "sgd"

    def __init__(self, lr: float = 0.01) -> None:  # the book's default (common/optimizer.py)
        super().__init__(lr)

    def update(self, params: Params, grads: Params) -> None:
        for key in params:
            params[key] -= self.lr * grads[key]


class Momentum(Optimizer):
    """Momentum: ``v ← m·v − lr·∂L/∂W``; ``W ← W + v``.

    The velocity ``v`` remembers past steps, so consistent directions speed up and zig-zags cancel.
    Reference: Polyak (1964); "Deep Learning from Scratch" §6.1.4.
    """

    name = "momentum"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        super().__init__(lr)
        self.momentum = _check_fraction("momentum", momentum)
        self.v: Params = {}

    def update(self, params: Params, grads: Params) -> None:
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            v = self.v[key]
            v *= self.momentum
            v -= self.lr * grads[key]
            params[key] += v

    def state(self) -> dict[str, Any]:
        return {"v": self.v}

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "momentum": self.momentum}


class Nesterov(Momentum):
    """Nesterov's accelerated gradient, in the form that needs only the gradient at ``W``:

    ``W ← W + m²·v − (1 + m)·lr·g``;  then  ``v ← m·v − lr·g``

    The step uses the *old* velocity ``v``. This is the look-ahead method (the new velocity is
    ``m·v − lr·∇f(θ + m·v)``, the gradient taken ahead at ``θ + m·v``, and it is added to ``θ``) written
    in the variable ``W = θ + m·v``, so ``g`` is the gradient at the point the network actually holds.
    It is also exactly ``torch.optim.SGD(lr, momentum=m, nesterov=True)`` for a constant ``lr``
    (torch's buffer is ``−v/lr``).
    Reference: Nesterov (1983); Sutskever et al. (2013) §2.2; Bengio et al. (2013) eq. 7; the
    textbook's ``common/optimizer.py`` since its fix of 2021-01-18 (older copies update ``v`` first and
    then apply the new one, a step of ``m³·v − (1 + m + m²)·lr·g``: not Nesterov).
    """

    name = "nesterov"

    def update(self, params: Params, grads: Params) -> None:
        m = self.momentum
        for key in params:
            if key not in self.v:
                self.v[key] = np.zeros_like(params[key])
            v = self.v[key]
            g = grads[key]
            params[key] += m * m * v  # old velocity: W ← W + m²·v − (1 + m)·lr·g
            params[key] -= (1 + m) * self.lr * g
            v *= m  # then v ← m·v − lr·g
            v -= self.lr * g


class AdaGrad(Optimizer):
    """AdaGrad: ``h ← h + g⊙g``;  ``W ← W − lr·g / (√h + eps)``.

    Each parameter gets its own learning rate that shrinks as its squared gradients add up.
    Reference: Duchi, Hazan & Singer (2011); "Deep Learning from Scratch" §6.1.5.
    """

    name = "adagrad"

    def __init__(self, lr: float = 0.01, *, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.eps = _check_positive("eps", eps)
        self.h: Params = {}

    def update(self, params: Params, grads: Params) -> None:
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            g = grads[key]
            self.h[key] += g * g
            params[key] -= self.lr * g / (np.sqrt(self.h[key]) + self.eps)

    def state(self) -> dict[str, Any]:
        return {"h": self.h}

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "eps": self.eps}


class RMSprop(Optimizer):
    """RMSprop: ``h ← ρ·h + (1 − ρ)·g⊙g``;  ``W ← W − lr·g / (√h + eps)``.

    Like AdaGrad, but old squared gradients fade with rate ``ρ = decay_rate``, so steps never stall.
    Reference: Tieleman & Hinton, Coursera lecture 6.5 (2012); the textbook's ``common/optimizer.py``.
    """

    name = "rmsprop"

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, *, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.decay_rate = _check_fraction("decay_rate", decay_rate)
        self.eps = _check_positive("eps", eps)
        self.h: Params = {}

    def update(self, params: Params, grads: Params) -> None:
        rho = self.decay_rate
        for key in params:
            if key not in self.h:
                self.h[key] = np.zeros_like(params[key])
            g = grads[key]
            self.h[key] *= rho
            self.h[key] += (1 - rho) * g * g
            params[key] -= self.lr * g / (np.sqrt(self.h[key]) + self.eps)

    def state(self) -> dict[str, Any]:
        return {"h": self.h}

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "decay_rate": self.decay_rate, "eps": self.eps}


class Adam(Optimizer):
    """Adam, with bias correction folded into the step size (Kingma & Ba 2015, end of §2):

    ``m ← m + (1 − β1)(g − m)``;  ``v ← v + (1 − β2)(g⊙g − v)``;
    ``lr_t = lr·√(1 − β2^t) / (1 − β1^t)``;  ``W ← W − lr_t·m / (√v + eps)``.

    This is Kingma & Ba's step ``lr·m̂ / (√v̂ + ε)`` with ``m̂ = m/(1 − β1^t)``, ``v̂ = v/(1 − β2^t)``,
    except where ε sits: it acts as ``ε / √(1 − β2^t)`` there (about 32·eps at t = 1), as in the textbook.
    Reference: Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015); the textbook §6.1.6.
    """

    name = "adam"

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, *, eps: float = 1e-7
    ) -> None:
        super().__init__(lr)
        self.beta1 = _check_fraction("beta1", beta1)
        self.beta2 = _check_fraction("beta2", beta2)
        self.eps = _check_positive("eps", eps)
        self.t = 0
        self.m: Params = {}
        self.v: Params = {}

    def update(self, params: Params, grads: Params) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = self.lr * np.sqrt(1.0 - b2**self.t) / (1.0 - b1**self.t)
        for key in params:
            if key not in self.m:
                self.m[key] = np.zeros_like(params[key])
                self.v[key] = np.zeros_like(params[key])
            g = grads[key]
            self.m[key] += (1 - b1) * (g - self.m[key])
            self.v[key] += (1 - b2) * (g * g - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + self.eps)

    def state(self) -> dict[str, Any]:
        return {"t": self.t, "m": self.m, "v": self.v}

    def hyperparameters(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


#: name → class; drives the CLI's ``--optimizer`` choices and the test parametrisation.
OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam)
}


def hyperparameter_defaults(name: str) -> dict[str, float]:
    """The settings of optimizer ``name`` besides ``lr``, with their defaults, read from its constructor
    (so a form or a check never lists them a second time): ``adam`` → ``{beta1: 0.9, beta2: 0.999, eps: 1e-7}``."""
    cls = OPTIMIZERS[name]
    return {p.name: p.default for p in inspect.signature(cls.__init__).parameters.values()
            if p.name not in ("self", "lr") and p.default is not inspect.Parameter.empty}


def make_optimizer(name: str, lr: float, **hyperparameters: float) -> Optimizer:
    """Build an optimizer by its registry name, e.g. ``make_optimizer("adam", lr=0.001)``."""
    key = name.strip().lower()
    if key not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}."
        )
    known = hyperparameter_defaults(key)
    unknown = sorted(set(hyperparameters) - set(known))
    if unknown:
        raise ConfigError(f"{key} has no setting {', '.join(unknown)}; its settings are: "
                          f"{', '.join(known) or 'none besides lr'}.")
    return OPTIMIZERS[key](lr=lr, **hyperparameters)
