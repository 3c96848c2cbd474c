"""How many BLAS threads each kind of matrix product gets.

A mini-batch step multiplies (100, 784) by (784, 50): a product so small that splitting it over two
threads costs more in hand-over than it saves, and when other programs share the cores, OpenBLAS's
waiting threads make it many times slower (measured here: 0.6 s vs 12 s for 1200 iterations on a
busy 2-core machine). An evaluation multiplies (10000, 784) by (784, 50): big enough for every core.
So the trainer runs its steps on one BLAS thread and its evaluations on all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def _blas() -> ThreadpoolController:
    global _controller  # one inspection of the loaded libraries per process, not per run
    if _controller is None:
        _controller = ThreadpoolController()
    return _controller


def blas_thread_count() -> int:
    """The BLAS thread count in force now (1 if NumPy's BLAS cannot be seen)."""
    counts = [lib.num_threads for lib in _blas().select(user_api="blas").lib_controllers]
    return max(counts, default=1)


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Use ``n`` BLAS threads inside the block, then restore the previous count."""
    with _blas().limit(limits=n, user_api="blas"):
        yield
