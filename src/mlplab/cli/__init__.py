"""The ``mlplab`` command line: a thin layer over the library (parse, call, present)."""

from mlplab.cli.app import main

__all__ = ["main"]
