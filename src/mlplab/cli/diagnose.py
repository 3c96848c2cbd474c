"""CLI commands (to be filled)."""

COMMANDS: list = []
