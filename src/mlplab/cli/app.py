"""The ``mlplab`` command group and its error handling.

Commands live in one module per topic (``train``, ``plots``, ``landscape``, ``serve``, ``diagnose``,
``sweep``), each exporting ``COMMANDS``. Heavy imports (matplotlib, web server) happen inside the
command functions so that ``mlplab --help`` stays quick.
"""

from __future__ import annotations

import importlib
import sys

import click

from mlplab.errors import MlplabError

COMMAND_MODULES = ("train", "plots", "landscape", "calculus", "serve", "diagnose", "sweep", "explain", "study")
#: The exit status shells expect after Ctrl-C: 128 + SIGINT (2).
INTERRUPTED = 130


class FriendlyGroup(click.Group):
    """A group that turns user mistakes (:class:`MlplabError`) into one line on stderr and exit 2,
    and Ctrl-C into one line and exit 130."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except MlplabError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted (Ctrl-C).", err=True)
            sys.exit(INTERRUPTED)


@click.group(cls=FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mlplab")
def main() -> None:
    """mlplab: train a neural network from scratch in NumPy and watch it learn.

    \b
    Example:
      mlplab train                 # the textbook's 784-50-10 run on the bundled MNIST
      mlplab train --help          # every setting
    """


for _name in COMMAND_MODULES:
    _module = importlib.import_module(f"mlplab.cli.{_name}")
    for _command in _module.COMMANDS:
        main.add_command(_command)
