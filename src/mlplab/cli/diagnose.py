"""``mlplab diagnose``: what went wrong (or right) in a run, with the numbers that show it."""

from __future__ import annotations

import click


@click.command("diagnose")
@click.argument("run_dir", type=click.Path())
def diagnose_command(run_dir: str) -> None:
    """Check a finished run folder for common training problems and print what to try.

    Rules: NaN/inf loss, learning rate too high or too low, saturated sigmoid/tanh units, dead ReLU
    units, vanishing gradients, over-fitting and under-fitting. Each finding shows its evidence.
    Exits 0 whatever it finds; 2 if the folder is missing or damaged.

    \b
    Example:
      mlplab train --lr 1000 --iters 2000 --out runs/lr1000
      mlplab diagnose runs/lr1000
    """
    from mlplab.diagnose import diagnose_run, format_insights
    from mlplab.train import load_run

    insights = diagnose_run(run_dir)  # first: a damaged folder gives one error line and nothing else
    run = load_run(run_dir)
    c, h = run.config, run.history
    click.echo(f"{run.path}: {run.network.describe()}, {c.optimizer} lr={c.lr:g}, "
               f"{len(h.loss)} of {c.iters} iterations, status {h.status}")
    click.echo(format_insights(insights))


COMMANDS = [diagnose_command]
