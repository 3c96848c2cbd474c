"""The app factory, its pages and error handling, and :func:`serve` (what ``mlplab serve`` runs).

Safety, in one place:

- it listens on 127.0.0.1 unless told otherwise (``--host``; any other address prints a warning);
- it answers only requests addressed to the names it listens on (``Host`` header checked, so a web
  page elsewhere cannot reach it through DNS rebinding), and POSTs must be JSON (a form on another
  site cannot start a training);
- every parameter is bounded (:mod:`~mlplab.app.schemas`), run names stay inside the runs folder
  (:mod:`~mlplab.app.runs_folder`), expressions are parsed by a whitelist, never evaluated;
- every error is answered as ``{"error": message}`` with a 4xx status, which the pages show;
- stopping the server stops the trainings and waits for them to write their run folders.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import ipaddress
import logging
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mlplab.app import api_explain, api_landscape, api_runs, api_train
from mlplab.app.api_train import TrainingManager
from mlplab.app.responses import FiniteJSONResponse, NotFoundError, answer, error_response, status_of
from mlplab.app.runs_folder import RunDataCache, RunsFolder, check_name
from mlplab.app.schemas import limits, validation_message
from mlplab.errors import ConfigError, MlplabError

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
#: route → page; each page is ``templates/page.html`` around ``templates/<page>.html``, run by ``static/<page>.js``
PAGES = {"/": "runs", "/train": "train", "/landscape": "landscape"}
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")
log = logging.getLogger("mlplab.app")


@dataclass(frozen=True)
class AppSettings:
    """What ``mlplab serve`` is told: where runs live, how many trainings at once, which hosts to answer."""

    runs_dir: Path = Path("runs")
    max_trainings: int = 1
    data_dir: str | None = None
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")

    def __post_init__(self) -> None:
        if not isinstance(self.max_trainings, int) or self.max_trainings < 1:
            raise ConfigError(f"max_trainings must be a whole number >= 1, got {self.max_trainings!r}.")


def plotly_js() -> Path:
    """``plotly.min.js`` as shipped inside the installed ``plotly`` package (no CDN: works offline)."""
    import plotly

    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not path.is_file():
        raise NotFoundError(f"the plotly package has no {path.name} at {path}; reinstall it: pip install plotly.")
    return path


def create_app(settings: AppSettings | None = None) -> FastAPI:
    """A FastAPI app serving the pages and the API over ``settings.runs_dir``."""
    settings = settings or AppSettings()
    runs = RunsFolder(Path(settings.runs_dir).resolve())
    render_lock = threading.Lock()
    trainings = TrainingManager(runs, max_trainings=settings.max_trainings, data_dir=settings.data_dir,
                                render_lock=render_lock)
    closing = threading.Event()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        closing.set()
        trainings.shutdown()

    app = FastAPI(title="mlplab", default_response_class=FiniteJSONResponse, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")  # the docs page needs a CDN
    app.state.runs = runs
    app.state.run_data = RunDataCache()
    app.state.render_lock = render_lock
    app.state.trainings = trainings
    app.state.closing = closing
    app.state.settings = settings
    if "*" not in settings.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts))

    @app.exception_handler(MlplabError)
    async def _mlplab_error(request: Request, exc: MlplabError) -> Response:
        return error_response(str(exc), status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(validation_message(list(exc.errors())), 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        path = request.url.path
        if exc.status_code == 404:
            message = f"there is no page or API endpoint {path!r}; the pages are {', '.join(PAGES)} and /run/NAME."
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {path!r}; see the API table in the README (web app, API)."
        else:
            message = f"{exc.detail} ({request.method} {path})."
        return error_response(message, exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # A bug, not the user's fault; still an answer the page can show instead of a stuck spinner.
        log.exception("unexpected error on %s", request.url.path)
        return error_response(f"internal error ({type(exc).__name__}: {exc}); please report it.", 500)

    app.include_router(api_runs.router)
    app.include_router(api_train.router)
    app.include_router(api_landscape.router)
    app.include_router(api_explain.router)

    @app.get("/api/options")
    def options() -> Response:
        """The choices and bounds of every form, and the runs folder."""
        return answer({**limits(), "runs_dir": str(runs.root), "max_trainings": settings.max_trainings})

    for route, page in PAGES.items():
        app.add_api_route(route, _page(page), methods=["GET"], include_in_schema=False)

    @app.get("/run/{name:path}", include_in_schema=False)
    def run_page(name: str) -> Response:
        check_name(name)
        return render_page("run")

    @app.get("/static/{filename}", include_in_schema=False)
    def static(filename: str) -> Response:
        path = STATIC / filename
        if "/" in filename or filename.startswith(".") or not path.is_file():
            raise NotFoundError(f"there is no static file {filename!r}.")
        return _file(path)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)  # no icon, and no 404 in the browser's console

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> Response:
        return FileResponse(plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})

    return app


def _file(path: Path) -> FileResponse:
    # no-store: after an upgrade of mlplab the browser must not keep the old page's scripts
    return FileResponse(path, headers={"Cache-Control": "no-store"})


def render_page(page: str) -> HTMLResponse:
    """The shared shell (header, styles, plotly.js, common.js) around one page's own markup and script."""
    shell = (TEMPLATES / "page.html").read_text(encoding="utf-8")
    main = (TEMPLATES / f"{page}.html").read_text(encoding="utf-8")
    html = shell.replace("{{title}}", page).replace("{{script}}", f"{page}.js").replace("{{main}}", main.rstrip("\n"))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def _page(page: str):
    def serve_page() -> Response:
        return render_page(page)
    return serve_page


# ---------------------------------------------------------------------------------------------------
# Serving


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1`` and ``localhost`` are reachable from this computer only."""
    if host.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_warning(host: str) -> str | None:
    """The warning printed when the app listens on an address other computers can reach."""
    if is_loopback(host):
        return None
    return (f"Warning: listening on {host}, so other computers on the network can open this app, "
            "start trainings and read your runs. It has no login; use --host 127.0.0.1 unless you mean it.")


def allowed_hosts(host: str) -> tuple[str, ...]:
    """The ``Host`` header values to answer: the loopback names, or anything when bound to another address."""
    return ("127.0.0.1", "localhost", "[::1]") if is_loopback(host) else ("*",)


def bind(host: str, port: int) -> socket.socket:
    """Open the listening socket first, so a port in use is one clear line, not a uvicorn traceback."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port {port} on {host} is already in use (another mlplab serve?); "
                              f"choose another with --port {port + 1}.") from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise ConfigError(f"not allowed to listen on port {port}; ports below 1024 need root. "
                              "Use --port 8000.") from None
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror}); check --host and --port.") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def make_server(app: FastAPI, sock_host: str, port: int, *, log_level: str = "warning"):
    """A uvicorn server for ``app`` whose Ctrl-C first ends the live streams and the trainings."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:  # noqa: ANN001 - signal handler signature
            app.state.closing.set()  # live streams end now instead of holding the shutdown
            for job in app.state.trainings.jobs.values():
                job.stop.set()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=sock_host, port=port, log_level=log_level, timeout_graceful_shutdown=5,
                            access_log=False)
    return Server(config)


def url_for(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(settings: AppSettings, host: str = "127.0.0.1", port: int = 8000, *, sock: socket.socket | None = None,
          log_level: str = "warning") -> None:
    """Build the app and serve on ``sock`` (bound here if not given) until Ctrl-C, which stops the
    trainings after they have written their run folders."""
    sock = sock if sock is not None else bind(host, port)
    app = create_app(dataclasses.replace(settings, allowed_hosts=allowed_hosts(host)))
    server = make_server(app, host, port, log_level=log_level)
    server.run(sockets=[sock])


__all__ = ["AppSettings", "allowed_hosts", "bind", "create_app", "host_warning", "is_loopback", "serve", "url_for"]
