"""How many BLAS threads each kind of matrix product gets.

A mini-batch step multiplies (100, 784) by (784, 50): a product so small that splitting it over two
threads costs more in hand-over than it saves, and when other programs share the cores, OpenBLAS's
waiting threads make it many times slower (measured here: 0.6 s vs 12 s for 1200 iterations on a
busy 2-core machine). An evaluation multiplies (10000, 784) by (784, 50): big enough to share, but
the trainer runs it on one thread too. After a product on several threads, OpenBLAS's idle threads
keep spinning (for about 2^28 cycles, ~0.1 s) waiting for more work, and the steps that follow
leave them nothing to do: the default run burned 1.74 s of CPU per second of wall time, most of it
spinning. On one thread the CPU is spent on work (CPU/wall ≈ 1.0); an evaluation takes ~0.1 s of CPU
(70,000 rows), and on a shared machine it is even faster in wall time than on two threads (measured
0.17–0.26 s vs 0.31–0.63 s per evaluation with 4 other jobs running). The threads do not change the
numbers: each step's products run on one thread either way.
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


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Use ``n`` BLAS threads inside the block, then restore the previous count."""
    with _blas().limit(limits=n, user_api="blas"):
        yield
