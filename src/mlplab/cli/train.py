"""``mlplab train`` and ``mlplab gradcheck``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
import numpy as np

from mlplab.cli.app import INTERRUPTED
from mlplab.cli.options import parse_int_list
from mlplab.cli.plots import FORMAT_CHOICES, dpi_option, draw_and_report, format_option, theme_option
from mlplab.cli.progress import ProgressBar
from mlplab.data.reference import is_book_run, load_book_curve
from mlplab.nn.layers import ACTIVATION_LAYERS
from mlplab.optim import OPTIMIZERS
from mlplab.train import TrainConfig, load_dataset, new_run_dir, train
from mlplab.train.config import DTYPES, SAMPLINGS
from mlplab.train.limits import (
    MNIST_CLASSES,
    MNIST_FEATURES,
    check_gradcheck,
    check_training,
    format_bytes,
    format_seconds,
    growth_bytes,
    quick_training_seconds,
)

#: A run longer than this gets a note with its estimated time before it starts.
LONG_RUN_SECONDS = 3600.0


def summary_lines(result) -> list[str]:
    """The end-of-run summary, also used by other interfaces."""
    h, c = result.history, result.config
    lines = [
        f"network     {result.network.describe()}, {c.optimizer} lr={c.lr:g}, batch {c.batch_size}, "
        f"{len(h.loss)} of {c.iters} iterations, seed {c.seed}",
        f"status      {h.status}" + (f": {h.message}" if h.message else ""),
    ]
    lines += accuracy_lines(h, c, result.network.sizes)
    lines.append(f"time        {h.seconds:.1f} s training loop")
    if result.run_dir is not None:
        lines.append(f"run folder  {result.run_dir}")
    return lines


def accuracy_lines(h, config, sizes) -> list[str]:
    """The saved model's accuracies and, for the textbook's own run, the book's at its last evaluation."""
    if not h.train_acc:
        return []
    if h.measured_saved_model:
        which = f"final model (after {len(h.loss)} iterations, {h.n_evaluations} evaluations)"
    else:  # diverged between evaluations: the saved weights were never measured
        which = f"last evaluation (after iteration {h.iterations[-1]}; the saved weights were not measured)"
    val = f"  validation {h.val_acc[-1]:.2%}" if h.val_acc else ""
    lines = [f"accuracy    train {h.train_acc[-1]:.2%}{val}  test {h.test_acc[-1]:.2%}  {which}"]
    if is_book_run(config, sizes):
        book = load_book_curve()
        mine = h.accuracies_at(book.last_iteration)
        if mine is not None:  # compared where the book measured last, not at this run's end
            lines += [f"            train {mine[0]:.2%}  test {mine[1]:.2%}  after iteration {book.last_iteration}, "
                      "the book's last evaluation",
                      f"textbook    train {book.final_train_acc:.2%}  test {book.final_test_acc:.2%}  "
                      f"after iteration {book.last_iteration} (its published run, no seed)"]
    return lines


@click.command("train")
@click.option("--iters", type=click.IntRange(min=1), default=10_000, show_default=True, help="Training iterations.")
@click.option("--batch-size", type=click.IntRange(min=1), default=100, show_default=True, help="Mini-batch size.")
@click.option("--lr", type=float, default=0.1, show_default=True, help="Learning rate.")
@click.option("--hidden", default="50", show_default=True,
              help="Hidden layer sizes, comma-separated (100,50 = two layers).")
@click.option("--activation", type=click.Choice(list(ACTIVATION_LAYERS)), default="sigmoid", show_default=True)
@click.option("--optimizer", type=click.Choice(list(OPTIMIZERS), case_sensitive=False), default="sgd",
              show_default=True)
@click.option("--weight-init-std", default="0.01", show_default=True,
              help="Initial weight std: a number, he, xavier, auto, or the book's relu (= he), sigmoid (= xavier).")
@click.option("--batchnorm", is_flag=True, help="Batch normalization after each hidden Affine (book §6.3).")
@click.option("--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Share of hidden units dropped in training, e.g. 0.15 (book §6.4.3; 0: none).")
@click.option("--weight-decay", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="L2 weight decay λ: adds λ/2·Σ‖W‖² to the loss, e.g. 0.1 (book §6.4.2).")
@click.option("--validation", type=click.IntRange(min=0), default=0, show_default=True,
              help="Hold out N training images (a seeded split) and record val_acc/val_loss (book §6.5.1).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Random seed (default: a fresh one, recorded in config.json).")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
              help="Floating-point type for data and weights.")
@click.option("--sampling", type=click.Choice(SAMPLINGS), default="replacement", show_default=True,
              help="replacement: textbook's random batches; shuffle: each row once per epoch.")
@click.option("--eval-every", type=click.IntRange(min=1), default=None,
              help="Iterations between evaluations (default: one epoch).")
@click.option("--train-size", type=click.IntRange(min=1), default=None, help="Use only the first N training images.")
@click.option("--test-size", type=click.IntRange(min=1), default=None, help="Use only the first N test images.")
@click.option("--data-dir", type=click.Path(), default=None, envvar="MLPLAB_DATA_DIR",
              help="Folder with the four IDX files (default: bundled MNIST).")
@click.option("--out", type=click.Path(), default=None, help="Run folder to write (default: runs/<timestamp>).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--no-plots", is_flag=True, help="Do not draw the figures and report.html after training.")
@click.option("--tensorboard", "tensorboard_dir", type=click.Path(), default=None,
              help='Also write TensorBoard event files to this folder (needs pip install "mlplab[tensorboard]").')
@format_option
@dpi_option
@theme_option
def train_command(**opts) -> None:
    """Train the network on MNIST and write a run folder, with its figures and report.html.

    The figures and the report are drawn however the run ended (finished, Ctrl-C, diverged);
    `mlplab plot RUN_DIR` and `mlplab report RUN_DIR` redraw them later.

    \b
    Example:
      mlplab train                                  # textbook: 784-50-10, 10000 iters, lr 0.1
      mlplab train --hidden 100 --optimizer adam --lr 0.001 --seed 1 --out runs/adam
      mlplab train --iters 2000 --theme light --format png --format svg --dpi 300
      mlplab train --tensorboard runs/tb && tensorboard --logdir runs/tb
      mlplab train --hidden 100,100 --activation relu --batchnorm --dropout 0.15 --validation 10000
    """
    observers = ()
    if opts["tensorboard_dir"]:
        from mlplab.export.tensorboard import TensorBoardWriter

        observers = (TensorBoardWriter(opts["tensorboard_dir"]),)  # says how to install it if missing
    with contextlib.ExitStack() as stack:
        result, drawing = run_training(opts, observers, stack)
        for line in summary_lines(result):
            click.echo(line)
        if not opts["no_plots"] and result.run_dir is not None:
            for line in plot_lines(result.run_dir, opts, drawing):
                click.echo(line)
    for line in diagnosis_lines(result.run_dir):
        click.echo(line)
    if result.history.status == "diverged":
        raise SystemExit(1)
    if result.history.status == "interrupted":
        raise SystemExit(INTERRUPTED)


def diagnosis_lines(run_dir: Path | None) -> list[str]:
    """The insights that fire on this run (nothing when the run is healthy)."""
    from mlplab.diagnose import diagnose_run, format_insights
    from mlplab.errors import MlplabError

    if run_dir is None:
        return []
    try:
        insights = [i for i in diagnose_run(run_dir) if i.severity != "info"]
    except MlplabError:
        return []
    if not insights:
        return []
    return ["diagnosis   (mlplab diagnose " + str(run_dir) + ")", *format_insights(insights).splitlines()]


def plot_lines(run_dir: Path, opts: dict, drawing=None) -> list[str]:
    """Draw the run's figures and report (in the ``drawing`` processes started with the training, if
    any: :class:`~mlplab.viz.training.drawing_processes.DrawWhileTraining`); a failure here must not
    hide the training summary."""
    from mlplab.errors import MlplabError

    try:
        return draw_and_report(run_dir, theme=opts["theme"], formats=opts["formats"], drawing=drawing)
    except MlplabError as exc:
        return [f"figures     not drawn: {exc}"]
    except KeyboardInterrupt:
        return [f"figures     skipped (Ctrl-C); draw them with: mlplab plot {run_dir} && mlplab report {run_dir}"]


def config_from_options(opts: dict) -> TrainConfig:
    std = opts["weight_init_std"]
    try:
        std = float(std)
    except ValueError:
        pass
    return TrainConfig(
        iters=opts["iters"], batch_size=opts["batch_size"], lr=opts["lr"],
        hidden=parse_int_list(opts["hidden"], "--hidden"), activation=opts["activation"],
        optimizer=opts["optimizer"].lower(), weight_init_std=std, seed=opts["seed"], dtype=opts["dtype"],
        sampling=opts["sampling"], eval_every=opts["eval_every"], train_size=opts["train_size"],
        test_size=opts["test_size"], data_dir=opts["data_dir"], batchnorm=opts["batchnorm"],
        dropout=opts["dropout"], weight_decay=opts["weight_decay"], validation=opts["validation"],
    )


def run_training(opts: dict, observers: tuple, stack: contextlib.ExitStack):
    """Build the config, load the data, prepare the run folder, train with a progress bar; return
    the result and the processes that draw its figures (a :class:`DrawWhileTraining`, or ``None``).

    The data is loaded before the run folder is made, so a wrong --data-dir leaves no empty folder.
    The drawing processes start once the data is loaded: they get ready on the core the training
    loop leaves idle (:mod:`mlplab.viz.training.drawing_processes`); ``stack`` stops them.
    """
    config = config_from_options(opts)
    check_training(config)  # before the data, the run folder and the network
    note = duration_note(config)
    if note:
        click.echo(note, err=True)
    if not opts["no_plots"]:
        from mlplab.viz.training.drawing_processes import DrawWhileTraining, cpu_sample, drawing_for_training

        loading = cpu_sample()  # how busy the machine is, measured while the data loads
    data = load_dataset(config)
    run_dir = Path(opts["out"]) if opts["out"] else new_run_dir("runs")
    early = None
    if not opts["no_plots"]:
        drawing = drawing_for_training(since=loading)
        if drawing is not None:
            early = DrawWhileTraining(stack.enter_context(drawing), opts["theme"], opts["formats"] or ("png",))
            observers = (early, *observers)
    result = train(config, data=data, run_dir=run_dir, observers=(ProgressBar(disable=opts["quiet"]), *observers))
    return result, early


class PositiveFloat(click.ParamType):
    """A finite number above 0 (``click.FloatRange`` lets NaN through: every comparison with NaN is false)."""

    name = "positive number"

    def convert(self, value, param, ctx):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not (np.isfinite(number) and number > 0):
            self.fail(f"must be a positive number such as 1e-6, got {value!r}.", param, ctx)
        return number


def duration_note(config: TrainConfig) -> str | None:
    """A line saying how long a very long run would take (measured on this network), else ``None``."""
    if quick_training_seconds(config) < LONG_RUN_SECONDS:
        return None  # the FLOP count alone shows it is short: nothing to measure
    from mlplab.sweep.estimate import run_seconds, step_seconds

    seconds = run_seconds(config, *step_seconds(config, steps=2, tries=1))
    if seconds < LONG_RUN_SECONDS:
        return None
    return (f"note: {config.iters:,} iterations would take about {format_seconds(seconds)} here and the history "
            f"would grow by {format_bytes(growth_bytes(config))}; Ctrl-C stops the run and keeps it.")


@click.command("gradcheck")
@click.option("--samples", type=click.IntRange(min=1, max=100), default=3, show_default=True,
              help="Training images to check on.")
@click.option("--hidden", default="50", show_default=True, help="Hidden layer sizes, comma-separated.")
@click.option("--activation", type=click.Choice(list(ACTIVATION_LAYERS)), default="sigmoid", show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--tolerance", type=PositiveFloat(), default=1e-6, show_default=True,
              help="Largest relative error accepted (a positive number).")
@click.option("--data-dir", type=click.Path(), default=None, envvar="MLPLAB_DATA_DIR")
@click.option("--plot", "plot_path", is_flag=False, flag_value="gradcheck.png", default=None,
              type=click.Path(path_type=Path),
              help="Also draw |numerical - backprop| per parameter to this file (--plot alone: gradcheck.png).")
@theme_option
@dpi_option
def gradcheck_command(samples, hidden, activation, seed, tolerance, data_dir, plot_path, theme) -> None:
    """Check backprop against numerical (central-difference) gradients, per parameter.

    \b
    Example:
      mlplab gradcheck --samples 3
      mlplab gradcheck --plot                      # also writes gradcheck.png
      mlplab gradcheck --hidden 100,50 --plot figures/gradcheck.svg --theme light
    """
    from mlplab.data import load_mnist
    from mlplab.nn import build_network, gradient_check

    if plot_path is not None:
        check_plot_path(plot_path)  # before the seconds of checking, not after
    hidden_sizes = parse_int_list(hidden, "--hidden")
    check_gradcheck((MNIST_FEATURES, *hidden_sizes, MNIST_CLASSES), samples)  # before anything is allocated
    (x_train, t_train), _ = load_mnist(data_dir=data_dir)
    x, t = x_train[:samples].astype(np.float64), t_train[:samples]  # float64 for a meaningful check
    sizes = (x.shape[1], *hidden_sizes, int(t_train.max()) + 1)
    # A larger init than the textbook's 0.01 so that the gradients are not all tiny.
    network = build_network(sizes, activation=activation, weight_init_std=0.1, seed=seed, dtype=np.float64)
    checks, numerical, backprop = gradient_check(network, x, t)
    click.echo(f"{'param':<6} {'shape':<12} {'mean |num-bp|':>14} {'max |num-bp|':>13} {'rel. error':>11}")
    worst = 0.0
    for c in checks:
        worst = max(worst, c.relative_error)
        click.echo(f"{c.name:<6} {str(c.shape):<12} {c.mean_abs_diff:>14.3e} {c.max_abs_diff:>13.3e} "
                   f"{c.relative_error:>11.3e}")
    verdict = "OK" if worst < tolerance else "FAILED"
    click.echo(f"{verdict}: largest relative error {worst:.2e} (tolerance {tolerance:g})")
    if plot_path is not None:
        draw_gradcheck(plot_path, (checks, numerical, backprop), theme=theme, tolerance=tolerance,
                       subtitle=f"{network.describe()} network, std 0.1 init, seed {seed}, "
                                f"{samples} training digit{'s' if samples > 1 else ''}, float64")
        click.echo(f"plot        {plot_path}")
    if worst >= tolerance:
        raise SystemExit(1)


def check_plot_path(path: Path) -> None:
    from mlplab.errors import ConfigError

    if path.suffix.lstrip(".") not in FORMAT_CHOICES:
        raise ConfigError(f"--plot {path}: the file name must end in .png, .svg or .pdf.")


def draw_gradcheck(path: Path, result: tuple, *, theme: str, tolerance: float, subtitle: str) -> None:
    from mlplab.errors import RunFolderError
    from mlplab.viz.theme import save_figure
    from mlplab.viz.training.gradcheck import plot_gradient_check

    fig = plot_gradient_check(*result, theme=theme, tolerance=tolerance, subtitle=subtitle)["figure"]
    try:
        save_figure(fig, path)
    except OSError as exc:
        raise RunFolderError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); "
                             "give another file with --plot.") from None


COMMANDS = [train_command, gradcheck_command]
