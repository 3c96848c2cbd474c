"""``python -m mlplab`` runs the CLI."""

from mlplab.cli import main

main()
