"""A tqdm progress bar as a training observer (interface floor: the trainer knows nothing of it)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from mlplab.train.observers import Observer, TrainingState

if TYPE_CHECKING:
    from tqdm import tqdm


class ProgressBar(Observer):
    """Shows iterations, the current loss and the last train/test accuracies on stderr."""

    def __init__(self, every: int = 50, disable: bool = False) -> None:
        self.every = every
        self.disable = disable
        self.bar: tqdm | None = None
        self.shown = 0

    def on_start(self, state: TrainingState) -> None:
        from tqdm import tqdm  # here, not at the top: `mlplab --help` need not load it (~25 ms)

        self.bar = tqdm(total=state.config.iters, unit="it", file=sys.stderr, disable=self.disable,
                        dynamic_ncols=True, desc=state.network.describe())

    def on_iteration(self, state: TrainingState) -> None:
        done = state.iteration + 1
        if self.bar is not None and (done % self.every == 0 or done == state.config.iters):
            self.bar.update(done - self.shown)
            self.shown = done
            self._show(state, refresh=False)

    def on_evaluation(self, state: TrainingState) -> None:
        if self.bar is not None and len(state.history.loss) == state.config.iters:
            self._show(state, refresh=True)  # the final model's numbers, measured after the last step

    def _show(self, state: TrainingState, *, refresh: bool) -> None:
        postfix = {"loss": f"{state.loss:.3f}"}
        h = state.history
        if h.train_acc:
            postfix.update(train=f"{h.train_acc[-1]:.4f}", test=f"{h.test_acc[-1]:.4f}")
        self.bar.set_postfix(postfix, refresh=refresh)

    def on_end(self, state: TrainingState) -> None:
        if self.bar is not None:
            self.bar.close()
