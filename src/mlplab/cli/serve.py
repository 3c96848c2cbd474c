"""``mlplab serve``: the local web app (see :mod:`mlplab.app`)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. 127.0.0.1: this computer only (any other address prints a warning).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--runs-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("runs"),
              show_default=True, help="Folder of run folders to list, and where trainings started in the app go.")
@click.option("--max-trainings", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Trainings that may run at the same time; one more request is answered 'busy'.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, envvar="MLPLAB_DATA_DIR",
              help="Folder with the four MNIST IDX files for trainings (default: bundled MNIST).")
@click.option("--allowed-host", "allowed_host", multiple=True, metavar="NAME",
              help="Another name or address students type to reach the server (repeatable; '*.lan' patterns). "
                   "This computer's own names and addresses are always answered.")
@click.option("--log-level", type=click.Choice(["warning", "info", "debug"]), default="warning", show_default=True,
              help="How much the server logs (info: every request).")
def serve_command(host: str, port: int, runs_dir: Path, max_trainings: int, data_dir: str | None,
                  allowed_host: tuple[str, ...], log_level: str) -> None:
    """Open the web app: watch runs, train live, replay evaluations, play with landscapes.

    Pages: Runs (every run in --runs-dir, also those training in a terminal), Run (curves,
    hidden units, confusion matrix, network, diagnosis, replay), Train (start, watch live, stop),
    Landscape (optimizers on a surface). Everything is served locally: it works offline.
    Ctrl-C stops the server; running trainings stop and keep everything they recorded.

    \b
    Example:
      mlplab serve                                  # then open http://127.0.0.1:8000/
      mlplab serve --port 8080 --runs-dir experiments
      mlplab serve --host 0.0.0.0 --max-trainings 2 # a classroom: others can connect (warning)
      mlplab serve --host 0.0.0.0 --allowed-host lab.local
    """
    from mlplab.app.server import (
        AppSettings,
        allowed_hosts,
        bind,
        check_folders,
        check_host,
        host_warning,
        serve,
        url_for,
    )

    answered = allowed_hosts(check_host(host), allowed_host)  # --host '' and --allowed-host '*' refused here
    check_folders(runs_dir, data_dir)
    sock = bind(host, port)  # a port in use is one clear line before anything else happens
    warning = host_warning(host)
    if warning:
        click.echo(warning, err=True)
        click.echo(f"Answering requests addressed to: {', '.join(answered)} (more with --allowed-host NAME).",
                   err=True)
    settings = AppSettings(runs_dir=runs_dir, max_trainings=max_trainings, data_dir=data_dir)
    click.echo(f"mlplab serve: open {url_for(host, port)}  (runs folder: {runs_dir.resolve()}; Ctrl-C to stop)")
    try:
        serve(settings, host, port, sock=sock, log_level=log_level, extra_hosts=allowed_host)
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its clean shutdown; it is how the user ends the server
    click.echo("mlplab serve: stopped.")


COMMANDS = [serve_command]
