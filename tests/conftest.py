"""Shared test set-up: a non-interactive matplotlib backend and small, fast data."""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator
from html.parser import HTMLParser

os.environ.setdefault("MPLBACKEND", "Agg")
# One BLAS thread per test process (and for the programs the tests start): pytest-xdist already runs a
# process per core, and two processes with two OpenBLAS threads each on two cores spend their CPU
# spinning in each other's way (see mlplab.train.threads; measured on the gradient and sharpness
# tests: 20 % less CPU, and shorter). Set before NumPy loads OpenBLAS, and in threadpoolctl for the case
# a plugin imported NumPy first.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1, user_api="blas")

from mlplab.data import load_mnist  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    """The bundled MNIST, float32, flattened: ((x_train, t_train), (x_test, t_test))."""
    return load_mnist()


@pytest.fixture(scope="session")
def small_mnist(mnist):
    """2000 training and 500 test images: enough to learn something in a second."""
    (x_train, t_train), (x_test, t_test) = mnist
    return (x_train[:2000], t_train[:2000]), (x_test[:500], t_test[:500])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


#: Hidden-layer functions written out here, independently of mlplab.nn.
_HIDDEN = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "relu": lambda a: np.maximum(a, 0)}


def _saved_model_accuracy(run_dir, x_test, t_test, activation: str = "sigmoid") -> float:
    """Score ``model.npz`` with plain NumPy: a 784-H-10 net, argmax of the scores."""
    with np.load(run_dir / "model.npz") as m:
        W1, b1, W2, b2 = (m[k].astype(np.float64) for k in ("W1", "b1", "W2", "b2"))
    hidden = _HIDDEN[activation](x_test.astype(np.float64) @ W1 + b1)  # (N, 784) @ (784, H) -> (N, H)
    scores = hidden @ W2 + b2  # (N, H) @ (H, 10) -> (N, 10); softmax would not change the argmax
    return float(np.mean(np.argmax(scores, axis=1) == t_test))


@pytest.fixture(scope="session")
def saved_model_accuracy():
    """``saved_model_accuracy(run_dir, x_test, t_test, activation="sigmoid")``: the accuracy of a run's
    ``model.npz`` (one hidden layer), computed independently of mlplab's network code."""
    return _saved_model_accuracy


class References(HTMLParser):
    """Every tag name, and every attribute that makes a browser load something, as the browser reads them."""

    LOADING = {"src", "href", "srcset", "action", "poster", "data", "background", "formaction"}

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [(name, value or "") for name, value in attrs if name in self.LOADING]


def _outside_references(page: str) -> list[str]:
    """What in an HTML page would make a browser load something from outside it (empty: nothing)."""
    parser = References()
    parser.feed(page)
    bad = [f"<{tag}>" for tag in parser.tags if tag in ("script", "link", "iframe", "object", "embed", "base")]
    bad += [f"{name}={value[:40]}" for name, value in parser.urls
            if not (value.startswith("data:") or value.startswith("#"))]
    style = "".join(re.findall(r"<style>(.*?)</style>", page, flags=re.S))
    bad += re.findall(r"url\(|@import", style)
    return bad


@pytest.fixture(scope="session")
def outside_references():
    """``outside_references(page)``: scripts, links and every src/href/… that is not a data: URI or #anchor."""
    return _outside_references


@contextlib.contextmanager
def _served(app, port: int = 0) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on loopback ``port`` (if it is free, else on any free one), as
    `mlplab serve` serves it; yields its base URL and, on exit, stops its trainings and the server."""
    from mlplab.app.server import bind, make_server
    from mlplab.errors import ConfigError

    try:
        sock = bind("127.0.0.1", port)
    except ConfigError:  # taken meanwhile
        sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    server = make_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the server did not start"
        threading.Event().wait(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.closing.set()
        for job in app.state.trainings.jobs.values():
            job.stop.set()
        server.should_exit = True
        thread.join(20)


@pytest.fixture(scope="session")
def serve_in_thread():
    """``with serve_in_thread(app[, port]) as base_url: …`` — the real server for the browser tests."""
    return _served


# ---- the browser tests: one Chromium per test process ---------------------------------------------------------

class SharedBrowser:
    """One headless Chromium (one persistent context: a fresh user-data dir) for the browser test modules,
    which a test process runs one after another (pytest_collection_modifyitems), and one loopback port that
    their servers take in turn. Chromium and Playwright's driver start once rather than once per module, and
    plotly.js, which each page loads, keeps the same address: Chromium has it in its cache, compiled, after the
    first pages instead of again in every module (together 2 s of CPU per module).

    Closed before a test of any other module: while Playwright's sync API is open, asyncio sees an event loop
    running in this thread, which the other tests (nbclient, Dask) must not see."""

    def __init__(self) -> None:
        self.modules: set[str] = set()  # the files of the browser test modules
        self.port = 0  # the port of the last server, for the next one
        self._playwright = None
        self._context = None
        self._closed = False

    def context(self, launch):
        """The browser context, started with ``launch(playwright.chromium)`` if it is not open (a Chromium that
        died in one module is started again for the next)."""
        if self._context is not None and self._closed:
            self.close()
        if self._context is None:
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            try:
                self._context = launch(self._playwright.chromium)
            except BaseException:
                self._playwright.stop()
                raise
            self._closed = False
            self._context.on("close", lambda _: setattr(self, "_closed", True))
        return self._context

    @contextlib.contextmanager
    def serve(self, app) -> Iterator[str]:
        """``_served(app)`` on the port of the previous browser module's server, when it is free."""
        with _served(app, self.port) as url:
            self.port = int(url.rsplit(":", 1)[1])
            yield url

    def close(self) -> None:
        if self._context is not None:
            try:
                if not self._closed:
                    self._context.close()
            finally:
                self._context = None
                self._playwright.stop()


_shared_browser = SharedBrowser()


@pytest.fixture(scope="session")
def shared_browser() -> Iterator[SharedBrowser]:
    """The Chromium and the port of the browser test modules (see SharedBrowser)."""
    yield _shared_browser
    _shared_browser.close()


def pytest_collection_modifyitems(session, config, items):
    """The browser test modules first, one after another (each in the order found): one Chromium serves them
    all. And pytest-xdist's worksteal, which gives a worker that has run out the last tests of another's
    queue, then gives it short tests, rather than a few browser tests that would need a Chromium, a server
    and trained runs of their own. Every worker computes the same order, as xdist requires."""
    by_file: dict[str, list] = {}
    for item in items:
        by_file.setdefault(str(item.path), []).append(item)
    _shared_browser.modules = {path for path, its in by_file.items()
                               if all(it.get_closest_marker("browser") for it in its)}
    items[:] = sorted(items, key=lambda it: str(it.path) not in _shared_browser.modules)  # a stable sort


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    yield  # the test's own fixtures first (pages, servers)
    if nextitem is None or str(nextitem.path) not in _shared_browser.modules:
        _shared_browser.close()
