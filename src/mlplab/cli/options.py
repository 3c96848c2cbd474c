"""Small parsers shared by CLI commands: they turn text into values or a one-line error."""

from __future__ import annotations

import click


def parse_int_list(text: str, name: str) -> tuple[int, ...]:
    """``"100,50"`` → ``(100, 50)``; anything else is a click usage error naming the option."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of whole numbers, e.g. 100,50.",
                                 param_hint=name) from None
    if not values or any(v < 1 for v in values):
        raise click.BadParameter(f"{text!r}: every size must be a whole number >= 1.", param_hint=name)
    return values



def parse_float_list(text: str, name: str, count: int | None = None) -> tuple[float, ...]:
    """``"0,20"`` → ``(0.0, 20.0)``: finite numbers, ``count`` of them if given; else a usage error."""
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        values = ()
    if not values or not all(abs(v) < float("inf") for v in values) or (count is not None and len(values) != count):
        what = f"{count} comma-separated numbers" if count else "comma-separated numbers"
        raise click.BadParameter(f"{text!r} is not {what}, e.g. 0,20.", param_hint=name)
    return values
