"""``mlplab study init|batchnorm|overfit|optimizers|search``: the book's ch. 6 experiments, one command each.

Thin: each command runs :mod:`mlplab.study`'s ``run_<name>`` and :func:`mlplab.viz.study.draw_study`,
then prints the numbers beside the book's.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import click

from mlplab.cli.plots import THEME_CHOICES

#: study command → (module in mlplab.study, what it reproduces)
STUDIES = {
    "init": ("init", "weight initialisation: activation histograms and MNIST loss (book figs 6-10 … 6-15)"),
    "batchnorm": ("batchnorm", "with and without batch norm over 16 weight scales (book fig 6-19)"),
    "overfit": ("overfit", "over-fitting on 300 images, then weight decay 0.1 and dropout 0.15 (figs 6-20 … 6-23)"),
    "optimizers": ("optimizers", "six optimizers on MNIST, loss curves on one chart (book fig 6-9)"),
    "search": ("search", "random search over lr and weight decay, ranked on validation (book fig 6-24)"),
}


@click.group("study")
def study_group() -> None:
    """Run one of the book's ch. 6 studies and write a folder with its figures and report.html.

    Every study trains its settings on one seed (identical initial weights and batches) and prints
    its numbers beside the book's. --quick runs a few seconds' version (for tests; not comparable).

    \b
    Example:
      mlplab study init --out studies/init
      mlplab study overfit --quick --out /tmp/overfit
    """


def _command(name: str, module: str, summary: str) -> click.Command:
    @click.command(name, help=f"""{summary[0].upper()}{summary[1:]}.

    \b
    Example:
      mlplab study {name} --out studies/{name}
      mlplab study {name} --quick --theme light --out /tmp/{name}
    """)
    @click.option("--out", type=click.Path(path_type=Path), default=None,
                  help=f"Folder to write (default: studies/{name}).")
    @click.option("--quick", is_flag=True, help="A few seconds' version: fewer images and iterations.")
    @click.option("--theme", type=click.Choice(THEME_CHOICES), default="dark", show_default=True)
    @click.option("--format", "fmt", type=click.Choice(("png", "svg", "pdf")), default="png", show_default=True,
                  help="Figure format besides the PNG the page embeds.")
    def command(out: Path | None, quick: bool, theme: str, fmt: str) -> None:
        from mlplab.viz.study import draw_study

        run = getattr(importlib.import_module(f"mlplab.study.{module}"), f"run_{module}")
        result = run(out or Path("studies") / name, quick=quick)
        paths = draw_study(result, theme=theme, fmt=fmt)
        click.echo(f"study       {name}{' (quick)' if quick else ''} in {result.folder}")
        click.echo(f"numbers     {json.dumps(result.numbers, default=_short)}")
        click.echo(f"book        {json.dumps(result.book, default=_short)}")
        click.echo(f"figures     {', '.join(p.name for p in paths if p.name != 'report.html')}")
        click.echo(f"report      {result.folder / 'report.html'}")

    return command


def _short(value: object) -> str:
    return str(value)


for _name, (_module, _summary) in STUDIES.items():
    study_group.add_command(_command(_name, _module, _summary))

COMMANDS = [study_group]
