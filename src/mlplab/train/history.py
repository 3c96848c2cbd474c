"""What a run recorded: accuracies per evaluation, loss per iteration, timing and how it ended."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class History:
    """The record of one run, grown as it trains.

    ``iterations[k]`` is the iteration after which evaluation ``k`` measured ``train_acc[k]`` and
    ``test_acc[k]`` (and the full-set losses ``train_loss[k]``, ``test_loss[k]``); ``loss[i]`` is the
    mini-batch loss of iteration ``i`` (counted from 0). Evaluations happen every epoch and once more
    after the last iteration (9999 for 10000 iterations), so ``final_*`` are the saved model's numbers.
    With a validation split, ``val_acc[k]`` and ``val_loss[k]`` are measured on the held-out training
    images at the same evaluations (both lists are empty without one).
    ``status`` is ``running``, ``completed``, ``interrupted``, ``stopped`` or ``diverged``; ``message``
    says why a run ended early.
    """

    iterations: list[int] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)  # on the held-out rows (empty without --validation)
    val_loss: list[float] = field(default_factory=list)
    eval_seconds: list[float] = field(default_factory=list)  # wall time since start at each evaluation
    loss: list[float] = field(default_factory=list)
    status: str = "running"
    message: str = ""
    seconds: float = 0.0  # training loop wall time (data loading excluded)

    @property
    def n_evaluations(self) -> int:
        return len(self.iterations)

    @property
    def measured_saved_model(self) -> bool:
        """Whether the last evaluation is of the model as saved (after the last recorded iteration).

        True for every completed, stopped or interrupted run of this mlplab; False for a run that
        diverged between evaluations, whose saved weights produced a non-finite loss.
        """
        return bool(self.iterations) and self.iterations[-1] == len(self.loss) - 1

    @property
    def final_train_acc(self) -> float | None:
        return self.train_acc[-1] if self.train_acc else None

    @property
    def final_test_acc(self) -> float | None:
        return self.test_acc[-1] if self.test_acc else None

    @property
    def final_val_acc(self) -> float | None:
        return self.val_acc[-1] if self.val_acc else None

    def accuracies_at(self, iteration: int) -> tuple[float, float] | None:
        """``(train_acc, test_acc)`` measured after ``iteration``, or ``None`` if it was not evaluated."""
        if iteration not in self.iterations:
            return None
        k = self.iterations.index(iteration)
        return self.train_acc[k], self.test_acc[k]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> History:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
