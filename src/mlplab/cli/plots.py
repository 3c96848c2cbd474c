"""``mlplab plot`` and ``mlplab report``: the pictures of a run folder, and one page with all of them.

Both are thin: they parse options and call :func:`mlplab.viz.run_figures.draw_run` and
:func:`mlplab.viz.report.write_report`, the same functions ``mlplab train`` and the web app use.
"""

from __future__ import annotations

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


def figure_lines(figures, run_dir: Path) -> list[str]:
    """What was drawn, for the end of `train` and `plot`: folder, count, time, anything skipped."""
    lines = [f"figures     {figures.folder}  ({figures.n_files} files, {figures.seconds:.1f} s, "
             f"{figures.cpu_seconds:.1f} CPU-s)"]
    lines += [f"            skipped {name}: {why}" for name, why in figures.skipped.items()]
    return lines


def draw_and_report(run_dir: Path, *, theme: str, formats: tuple[str, ...], report: bool = True) -> list[str]:
    """Draw every figure of ``run_dir`` and (optionally) its report; return the lines to print."""
    from mlplab.viz.report import draw_run_and_report

    started, cpu = time.perf_counter(), time.process_time()
    figures, page = draw_run_and_report(run_dir, theme=theme, formats=formats, report=report, workers=None)
    lines = figure_lines(figures, run_dir)
    if page is not None:
        lines.append(f"report      {page}")
    cpu = time.process_time() - cpu + figures.worker_cpu_seconds
    lines.append(f"drawing     {time.perf_counter() - started:.1f} s, {cpu:.1f} CPU-s (figures and report, "
                 "all processes)")
    return lines


@click.command("plot")
@click.argument("run_dir", type=click.Path(path_type=Path))
@theme_option
@format_option
@click.option("--at", "--at-eval", "at_eval", type=int, default=None,
              help="Draw the run as it was at evaluation K (0 = first, -1 = last), from its snapshots.")
@click.option("--only", default=None, help="Comma-separated figure names (default: all).")
@click.option("--no-animation", is_flag=True, help="Skip the animated GIF of the hidden units.")
def plot_command(run_dir: Path, theme: str, formats: tuple[str, ...], at_eval: int | None, only: str | None,
                 no_animation: bool) -> None:
    """(Re)draw every figure of a finished or interrupted run into RUN_DIR/figures.

    Figures: accuracy, loss, architecture, hidden_units (+ hidden_units.gif), confusion, mistakes,
    predictions, gradcheck, and the layer health figures layer_health, gradient_flow, activations.
    With --at-eval K they go to RUN_DIR/figures/eval_KK instead (the replay of that evaluation).

    \b
    Example:
      mlplab plot runs/20250101-120000
      mlplab plot runs/demo --theme light --format png --format svg
      mlplab plot runs/demo --at 3 --only architecture,hidden_units   # replay evaluation 3
    """
    from mlplab.viz.run_figures import draw_run

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
