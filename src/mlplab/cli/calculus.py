"""``mlplab tangent`` and ``mlplab gradient-field``: ch. 4's calculus figures (book gradient_1d.py, gradient_2d.py)."""

from __future__ import annotations

import click
import numpy as np

from mlplab.cli.landscape import check_theme_option, output_folder
from mlplab.landscape.calculus import BOOK_1D, BOOK_1D_POINTS, BOOK_2D, BOOK_GRID


def _function(formula: str):
    from mlplab.landscape.functions import get_function

    return get_function(formula)


@click.command("tangent", short_help="A 1-D function and its tangents from the numerical derivative.")
@click.option("--function", "formula", default=BOOK_1D, show_default=True, help="f(x), an expression in x.")
@click.option("--at", "points", default=",".join(f"{p:g}" for p in BOOK_1D_POINTS), show_default=True,
              help="Comma-separated x values to draw tangents at.")
@click.option("--range", "x_range", default="0,20", show_default=True, help="x range LOW,HIGH of the plot.")
@click.option("--out", default=None, help="Output folder (default: runs/landscape-<timestamp>).")
@click.option("--theme", default="dark", show_default=True, help="Figure theme: dark or light.")
def tangent_command(formula: str, points: str, x_range: str, out: str | None, theme: str) -> None:
    """Draw f(x) and its tangent at each point, with the slope from central differences (book fig 4-7).

    \b
    Example:
      mlplab tangent                                   # the book's 0.01x² + 0.1x at 5 and 10
      mlplab tangent --function "sin(x)" --at 0,1.5 --range -3,3
    """
    from mlplab.cli.options import parse_float_list
    from mlplab.viz.landscape.calculus import plot_tangents
    from mlplab.viz.theme import save_figure

    fn = _function(formula)
    low, high = parse_float_list(x_range, "--range", count=2)
    path = save_figure(plot_tangents(lambda x: fn(x, np.zeros_like(x)), parse_float_list(points, "--at"),
                                     x_range=(low, high), formula=formula, theme=check_theme_option(theme)),
                       output_folder(out) / "tangent.png")
    click.echo(f"figure      {path}")


@click.command("gradient-field", short_help="The −∇f arrow field of a 2-D function (numerical gradient).")
@click.option("--function", "formula", default=BOOK_2D, show_default=True, help="f(x, y), an expression or a name.")
@click.option("--out", default=None, help="Output folder (default: runs/landscape-<timestamp>).")
@click.option("--theme", default="dark", show_default=True, help="Figure theme: dark or light.")
def gradient_field_command(formula: str, out: str | None, theme: str) -> None:
    """Draw −∇f as arrows on the book's grid (−2 … 2.25, step 0.25), gradients by central differences (fig 4-9).

    \b
    Example:
      mlplab gradient-field                            # the book's x0² + x1²
      mlplab gradient-field --function "x**2 + 3*y**2" --theme light
    """
    from mlplab.viz.landscape.calculus import plot_gradient_field
    from mlplab.viz.theme import save_figure

    fn = _function(formula)
    path = save_figure(plot_gradient_field(lambda p: float(fn(p[0], p[1])), BOOK_GRID, BOOK_GRID, formula=formula,
                                           theme=check_theme_option(theme)), output_folder(out) / "gradient_field.png")
    click.echo(f"figure      {path}")


COMMANDS = [tangent_command, gradient_field_command]
