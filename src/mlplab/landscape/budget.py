"""A time budget for one computation on a landscape (one request of the web app's playground).

The parser bounds what an expression costs to evaluate once (:data:`~mlplab.landscape.expression.MAX_COST`),
but a request multiplies that by a grid, six paths, their verdicts and a search for minima. So the
server also gives each request a deadline::

    with time_limit(5.0):
        function = get_function(text)
        path = descend(function, "sgd", 0.1, 2000, start)     # stops with TimeLimitError after 5 s

It is cooperative: the places that loop — every evaluation of an expression, every optimizer step,
every step of a verdict — call :func:`check_time`, which costs one clock read. Outside a
``time_limit`` block (the CLI, the notebooks) it does nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar

from mlplab.errors import MlplabError

_deadline: ContextVar[tuple[float, float] | None] = ContextVar("landscape_deadline", default=None)


class TimeLimitError(MlplabError):
    """The computation ran past its time budget and was stopped."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop the landscape computations in this block (this thread or task) after ``seconds``."""
    token = _deadline.set((time.monotonic() + seconds, seconds))
    try:
        yield
    finally:
        _deadline.reset(token)


def check_time() -> None:
    """Raise :class:`TimeLimitError` when the current block's budget is spent."""
    budget = _deadline.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise TimeLimitError(
            f"this landscape took more than {budget[1]:g} s to compute and was stopped; use a simpler "
            "function, fewer steps or paths, or a smaller grid."
        )
