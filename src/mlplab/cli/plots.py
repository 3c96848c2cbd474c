"""``mlplab plot`` and ``mlplab report``: the pictures of a run folder, and one page with all of them.

Both are thin: they parse options and call :func:`mlplab.viz.training.run_figures.draw_run` and
:func:`mlplab.viz.report.write_report`, the same functions ``mlplab train`` and the web app use.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import click

# The same names as mlplab.viz.theme.THEMES / FORMATS (a test keeps them equal); spelled out here
# so that `mlplab --help` need not import matplotlib.
THEME_CHOICES = ("dark", "light")
FORMAT_CHOICES = ("png", "svg", "pdf")

theme_option = click.option("--theme", type=click.Choice(THEME_CHOICES), default="dark", show_default=True,
                            help="Colour theme of the figures and the report.")
format_option = click.option("--format", "formats", type=click.Choice(FORMAT_CHOICES), multiple=True,
                             default=("png",), show_default=True,
                             help="Figure file format; repeat for several (--format png --format svg).")


def dpi_option(command):
    """``--dpi N`` for a command that writes figures: every figure it saves is at N dpi.

    Put it under ``@click.command``; the command's function never sees ``dpi``: it runs inside
    :func:`mlplab.viz.theme.figure_dpi`, which holds the default (150) and the bounds.
    """

    @functools.wraps(command)
    def run_at_dpi(*args, dpi: int | None, **kwargs):
        from mlplab.viz.theme import figure_dpi

        with figure_dpi(dpi):
            return command(*args, **kwargs)

    return click.option("--dpi", type=int, default=None, metavar="N",
                        help="Resolution of the figures (default 150: sharp on a slide; 300 for print).")(run_at_dpi)


def figure_lines(figures, run_dir: Path) -> list[str]:
    """What was drawn, for the end of `train` and `plot`: folder, count, time, anything skipped."""
    lines = [f"figures     {figures.folder}  ({figures.n_files} files, {figures.seconds:.1f} s, "
             f"{figures.cpu_seconds:.1f} CPU-s)"]
    lines += [f"            skipped {name}: {why}" for name, why in figures.skipped.items()]
    return lines


def draw_and_report(run_dir: Path, *, theme: str, formats: tuple[str, ...], report: bool = True,
                    drawing=None) -> list[str]:
    """Draw every figure of ``run_dir`` and (optionally) its report, in the processes ``drawing``
    started with the training, if any (a :class:`~mlplab.viz.training.drawing_processes.DrawWhileTraining`);
    return the lines to print."""
    from mlplab.viz.report import draw_run_and_report

    started, cpu = time.perf_counter(), time.process_time()
    figures, page = draw_run_and_report(run_dir, theme=theme, formats=formats, report=report, workers=None,
                                         drawing=drawing)
    lines = figure_lines(figures, run_dir)
    if page is not None:
        lines.append(f"report      {page}")
    cpu = time.process_time() - cpu + figures.worker_cpu_seconds
    how = f"{figures.processes} processes" if figures.processes > 1 else "one process"
    if figures.started_early:
        how += ", started with the training"
    lines.append(f"drawing     {time.perf_counter() - started:.1f} s, {cpu:.1f} CPU-s (figures and report; {how})")
    return lines


@click.command("plot")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.argument("more_runs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--overlay", is_flag=True,
              help="Draw RUN_DIR and MORE_RUNS on shared axes (loss, accuracy) into overlay.png beside them.")
@theme_option
@format_option
@dpi_option
@click.option("--at", "--at-eval", "at_eval", type=int, default=None,
              help="Draw the run as it was at evaluation K, from its snapshots. Evaluations are counted "
                   "from 0 everywhere (0 = first, -1 = last; the figures go to eval_KK).")
@click.option("--only", default=None, help="Comma-separated figure names (default: all).")
@click.option("--no-animation", is_flag=True, help="Skip the animated GIF of the hidden units.")
def plot_command(run_dir: Path, more_runs: tuple[Path, ...], overlay: bool, theme: str, formats: tuple[str, ...],
                 at_eval: int | None, only: str | None, no_animation: bool) -> None:
    """(Re)draw every figure of a finished or interrupted run into RUN_DIR/figures.

    Figures: accuracy, loss, architecture, hidden_units (+ hidden_units.gif), confusion, mistakes,
    predictions, gradcheck, and the layer health figures layer_health, gradient_flow, activations.
    With --at-eval K they go to RUN_DIR/figures/eval_KK instead (the replay of that evaluation).

    \b
    Example:
      mlplab plot runs/20250101-120000
      mlplab plot runs/demo --theme light --format png --format svg
      mlplab plot runs/demo --dpi 300 --only accuracy,loss             # for print
      mlplab plot runs/demo --at 3 --only architecture,hidden_units   # replay evaluation 3
      mlplab plot studies/optimizers/runs/sgd studies/optimizers/runs/adam --overlay
    """
    if overlay or more_runs:
        from mlplab.errors import ConfigError
        from mlplab.viz.training.overlay import overlay_runs

        if not overlay:
            raise ConfigError("several run folders are drawn together with --overlay; add it, or give one folder.")
        click.echo(f"overlay     {overlay_runs([run_dir, *more_runs], theme=theme, fmt=formats[0])}")
        return
    from mlplab.viz.training.run_figures import draw_run

    names = None if only is None else tuple(n.strip() for n in only.split(",") if n.strip())
    figures = draw_run(run_dir, theme=theme, formats=formats, at_eval=at_eval, names=names,
                       animation=not no_animation, workers=None)
    lines = figure_lines(figures, run_dir)
    for line in lines:
        click.echo(line)


@click.command("report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@theme_option
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write the page (default: RUN_DIR/report.html).")
def report_command(run_dir: Path, theme: str, out: Path | None) -> None:
    """Write one self-contained HTML page about a run: settings, results, textbook comparison, figures.

    The images are embedded in the page and it loads nothing from anywhere, so it opens offline.

    \b
    Example:
      mlplab report runs/20250101-120000
      mlplab report runs/demo --theme light --out demo.html
    """
    from mlplab.viz.report import write_report

    started = time.perf_counter()
    path = write_report(run_dir, theme=theme, path=out)
    size = path.stat().st_size / 1e6
    click.echo(f"report      {path}  ({size:.1f} MB, {time.perf_counter() - started:.1f} s)")


COMMANDS = [plot_command, report_command]
