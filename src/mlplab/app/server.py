"""The app factory, its pages and error handling, and :func:`serve` (what ``mlplab serve`` runs).

Safety, in one place:

- it listens on 127.0.0.1 unless told otherwise (``--host``; any other address prints a warning);
- it answers only requests addressed to its own names (``Host`` header checked, so a web page
  elsewhere cannot reach it through DNS rebinding): the loopback names, and with ``--host 0.0.0.0``
  also this computer's host names and addresses plus every ``--allowed-host``; POSTs must be JSON (a
  form on another site cannot start a training);
- every parameter is bounded and strictly typed (:mod:`~mlplab.app.schemas`); run names and the files
  served stay inside the runs folder, symlinks included (:mod:`~mlplab.app.runs_folder`); expressions
  are parsed by a whitelist, never evaluated, with a cost limit, and a landscape request has a time limit;
- ``--runs-dir`` and ``--data-dir`` are checked before the server starts (:func:`check_folders`);
- every error is answered as ``{"error": message}`` with a 4xx status, which the pages show;
- stopping the server stops the trainings and waits for them to write their run folders.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import ipaddress
import logging
import os
import re
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mlplab.app import api_explain, api_landscape, api_predict, api_runs, api_sweeps, api_train
from mlplab.app.api_train import TrainingManager
from mlplab.app.responses import FiniteJSONResponse, NotFoundError, answer, error_response, status_of
from mlplab.app.runs_folder import RunDataCache, RunsFolder, check_name
from mlplab.app.schemas import limits, validation_message
from mlplab.errors import ConfigError, MlplabError

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
#: route → page; each page is ``templates/page.html`` around ``templates/<page>.html``, run by ``static/<page>.js``
PAGES = {"/": "runs", "/train": "train", "/landscape": "landscape"}
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


class HostCheck:
    """Answer only requests whose ``Host`` is one of ``allowed_hosts`` (``*.example.org`` patterns allowed).

    A page on ``evil.example`` whose name is made to point at this computer (DNS rebinding) sends
    ``Host: evil.example``: it gets a 400 with a sentence instead of the API.
    """

    def __init__(self, app: Any, allowed_hosts: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = tuple(h.lower() for h in allowed_hosts)

    def allows(self, host: str) -> bool:
        return any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
                   for pattern in self.allowed)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1").strip().lower()
        host = header[: header.find("]") + 1] if header.startswith("[") else header.split(":")[0]
        if host and self.allows(host):
            await self.app(scope, receive, send)
            return
        shown = host[:60] or "(none)"
        await error_response(
            f"this server does not answer to the name {shown!r} (Host header); open it by this computer's "
            f"name or address, or start it with --allowed-host {shown if host else 'NAME'}.", 400,
        )(scope, receive, send)


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
        app.add_middleware(HostCheck, allowed_hosts=settings.allowed_hosts)

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
    app.include_router(api_predict.router)
    app.include_router(api_sweeps.router)
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

    @app.get("/palette.css", include_in_schema=False)
    def palette_css() -> Response:
        """The colours of mlplab.viz.palette as CSS variables: the pages and their scripts read these."""
        from mlplab.viz.palette import css_variables

        return Response(css_variables(), media_type="text/css", headers={"Cache-Control": "no-store"})

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


def _bracketed(address: str) -> str:
    """An IPv6 address as a ``Host`` header writes it: ``[fe80::1]``."""
    return f"[{address}]" if ":" in address and not address.startswith("[") else address


def machine_names() -> set[str]:
    """This computer's names and addresses as far as the standard library can tell: host name, fully
    qualified name, what they resolve to, and the address outgoing traffic leaves from."""
    names = {socket.gethostname(), socket.getfqdn()} - {""}
    found = {n.lower() for n in names}
    for name in names:
        with contextlib.suppress(OSError, UnicodeError):
            found.update(_bracketed(str(info[4][0]).split("%")[0]) for info in socket.getaddrinfo(name, None))
    # connect() on UDP sends nothing: it only asks the routing table which address would be used
    for family, target in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            found.add(_bracketed(str(probe.getsockname()[0]).split("%")[0]))
    return found


def allowed_hosts(host: str, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The ``Host`` header values to answer: the loopback names, plus — when listening on another
    address — that address, this computer's own names and addresses, and ``extra`` (``--allowed-host``)."""
    for name in extra:
        check_allowed_host(name)
    loopback = ("127.0.0.1", "localhost", "[::1]")
    if is_loopback(host) and not extra:
        return loopback
    names = set(loopback) | {h.lower() for h in extra}
    if not is_loopback(host):
        names |= machine_names()
        if host not in ("0.0.0.0", "::", "[::]"):
            names.add(_bracketed(host.strip("[]")).lower())
    return tuple(sorted(names))


def check_allowed_host(name: str) -> str:
    """One ``--allowed-host`` value: a name, an address or ``*.domain``; never a bare ``*``."""
    if name.strip() == "*":
        raise ConfigError("--allowed-host '*' would answer any name, so a web page elsewhere could reach this "
                          "server (DNS rebinding); give the names students type, e.g. --allowed-host lab.local.")
    pattern = name[2:] if name.startswith("*.") else name
    if not re.fullmatch(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?", pattern):
        raise ConfigError(f"--allowed-host {name!r} is not a host name or address; give e.g. --allowed-host "
                          "lab.local, --allowed-host 192.168.1.5 or --allowed-host '*.school.lan'.")
    return name


def check_host(host: str) -> str:
    """Refuse an empty ``--host``: to the socket library it silently means every interface."""
    if not host.strip():
        raise ConfigError("--host is empty, which would listen on every network interface; give --host 127.0.0.1 "
                          "(this computer only) or --host 0.0.0.0 (every interface, e.g. a classroom).")
    return host.strip()


def check_folders(runs_dir: str | os.PathLike, data_dir: str | os.PathLike | None) -> None:
    """Before serving: the runs folder exists (or can be created) and can be read and written, and the
    data folder, if given, is a readable folder — each problem one sentence."""
    runs = Path(runs_dir)
    if runs.exists() and not runs.is_dir():
        raise ConfigError(f"--runs-dir {runs} is a file, not a folder; give a folder for the runs.")
    try:
        runs.mkdir(parents=True, exist_ok=True)
        probe = runs / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        next(os.scandir(runs), None)
    except OSError as exc:
        raise ConfigError(f"--runs-dir {runs} cannot be created, read and written ({exc.strerror or exc}); "
                          "choose a folder of yours, e.g. --runs-dir runs.") from None
    if data_dir is None:
        return
    data = Path(data_dir).expanduser()
    if not data.is_dir():
        raise ConfigError(f"--data-dir {data} is not a folder; give the folder holding the four MNIST IDX files, "
                          "or leave --data-dir out to use the bundled MNIST.")
    try:
        next(os.scandir(data), None)
    except OSError as exc:
        raise ConfigError(f"--data-dir {data} cannot be read ({exc.strerror or exc}); check its permissions.") from None


def bind(host: str, port: int) -> socket.socket:
    """Open the listening socket first, so a port in use is one clear line, not a uvicorn traceback."""
    host = check_host(host)
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
          log_level: str = "warning", extra_hosts: tuple[str, ...] = ()) -> None:
    """Build the app and serve on ``sock`` (bound here if not given) until Ctrl-C, which stops the
    trainings after they have written their run folders. ``extra_hosts`` are more ``Host`` names to answer."""
    sock = sock if sock is not None else bind(host, port)
    app = create_app(dataclasses.replace(settings, allowed_hosts=allowed_hosts(host, extra_hosts)))
    server = make_server(app, host, port, log_level=log_level)
    server.run(sockets=[sock])


__all__ = ["AppSettings", "HostCheck", "allowed_hosts", "bind", "check_folders", "check_host", "create_app",
           "host_warning", "is_loopback", "serve", "url_for"]
