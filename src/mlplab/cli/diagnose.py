"""``mlplab diagnose``: what went wrong (or right) in a run, with the numbers that show it, the settings
to change, and (``--verify``) a measurement of whether they help."""

from __future__ import annotations

import click

from mlplab.cli.plots import dpi_option, theme_option


@click.command("diagnose")
@click.argument("run_dir", type=click.Path())
@click.option("--verify", is_flag=True,
              help="Rerun the run's settings and each prescription from the run's seed for a short budget, "
                   "draw both in figures/verify.png and say which one is a fix.")
@click.option("--budget", type=click.IntRange(min=1), default=None,
              help="Iterations of each --verify rerun (default: one epoch, at least 600, at most the run's length; "
                   "over-fitting: the run's length).")
@theme_option
@dpi_option
def diagnose_command(run_dir: str, verify: bool, budget: int | None, theme: str) -> None:
    """Check a finished run folder for common training problems and print what to change.

    Rules: NaN/inf loss, learning rate too high or too low, saturated sigmoid/tanh units, dead ReLU
    units, vanishing gradients, over-fitting and under-fitting. Each finding shows its evidence and
    its options, computed from the run (a learning rate from the loss surface's sharpness λ_max, an
    initial weight scale from the measured pre-activations, …). With --verify each is measured.
    Exits 0 whatever it finds; 2 if the folder is missing or damaged.

    \b
    Example:
      mlplab train --lr 300 --iters 1200 --seed 1 --out runs/lr300
      mlplab diagnose runs/lr300
      mlplab diagnose runs/lr300 --verify --budget 600
    """
    from mlplab.diagnose import diagnose_run, format_insights
    from mlplab.train import load_run

    insights = diagnose_run(run_dir)  # first: a damaged folder gives one error line and nothing else
    run = load_run(run_dir)
    c, h = run.config, run.history
    click.echo(f"{run.path}: {run.network.describe()}, {c.optimizer} lr={c.lr:g}, "
               f"{len(h.loss)} of {c.iters} iterations, status {h.status}")
    click.echo(format_insights(insights))
    if verify:
        _verify(run_dir, insights, budget, theme)


def _verify(run_dir: str, insights: list, budget: int | None, theme: str) -> None:
    from mlplab.diagnose.verify import verify_run
    from mlplab.viz.diagnose import draw_verification

    if not any(i.prescriptions for i in insights):
        click.echo("\nverify: no finding has settings to try; nothing to rerun.")
        return
    click.echo("\nverify: rerunning the run's settings and each option from the run's seed "
               "(same initial weights, same mini-batches) ...")
    verifications = verify_run(run_dir, budget=budget, insights=insights)
    for v in verifications:
        for line in v.lines():
            click.echo(f"  {line}")
    click.echo(f"figure: {draw_verification(verifications, run_dir, theme=theme)}")


COMMANDS = [diagnose_command]
