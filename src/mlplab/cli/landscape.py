"""``mlplab descent``, ``mlplab sgd`` and ``mlplab compare``: optimizers on 2-D landscapes.

Each command computes everything first (so a bad value or a diverging path stops it before any file
is written), then prints the honest verdict and writes its figures to the output folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from mlplab.cli.plots import dpi_option, format_option
from mlplab.errors import ConfigError
from mlplab.landscape import FUNCTIONS, SCHEDULES, TOLERANCE, get_function, judge
from mlplab.optim import OPTIMIZERS
from mlplab.train.config import SAMPLINGS
from mlplab.train.run_folder import atomic_write_text, new_run_dir, prepare_run_dir

FUNCTION_HELP = (f"A built-in ({', '.join(FUNCTIONS)}) or your own expression in x and y, "
                 "e.g. 'x**2/100 + y**2'.")
OPTIMIZER_HELP = f"One of: {', '.join(OPTIMIZERS)} (sgd = plain gradient descent)."


class Number(click.ParamType):
    """A number option whose bad values are a one-line :class:`ConfigError` (not a usage block)."""

    name = "number"

    def __init__(self, kind: type = float, minimum: float | None = None, *, above: bool = False,
                 maximum: float | None = None) -> None:
        self.kind, self.minimum, self.above, self.maximum = kind, minimum, above, maximum

    def convert(self, value, param, ctx):
        option = param.opts[0] if param is not None else "value"
        what = "a whole number" if self.kind is int else "a number"
        if self.minimum is not None:
            what += f" {'>' if self.above else '>='} {self.minimum:g}"
        if self.maximum is not None:
            what += f" and <= {self.maximum:g}"
        try:
            number = self.kind(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{option} must be {what}, got {value!r}.") from None
        low_ok = self.minimum is None or (number > self.minimum if self.above else number >= self.minimum)
        high_ok = self.maximum is None or number <= self.maximum
        if not (number == number and abs(number) != float("inf") and low_ok and high_ok):
            raise ConfigError(f"{option} must be {what}, got {value!r}.")
        return number


def parse_start(text: str | None) -> tuple[float, float] | None:
    """``"-7,2"``, ``"(-7, 2)"`` or ``"-7 2"`` → ``(-7.0, 2.0)``; anything else is a ConfigError."""
    if text is None:
        return None
    parts = [p for p in re.split(r"[,\s]+", text.strip().strip("()[]")) if p]
    try:
        x, y = (float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"--start must be two numbers x,y such as -7,2; got {text!r}.") from None
    if not all(abs(v) < 1e6 for v in (x, y)):
        raise ConfigError(f"--start must be two finite numbers of size below 1e6; got {text!r}.")
    return x, y


def check_choice(option: str, value: str, choices) -> str:
    key = value.strip().lower()
    if key not in choices:
        raise ConfigError(f"unknown {option} value {value!r}; choose one of: {', '.join(choices)}.")
    return key


def output_folder(out: str | None) -> Path:
    """``--out`` as given, else a fresh ``runs/landscape-<YYYYmmdd-HHMMSS>`` (``-2``, … if taken)."""
    return prepare_run_dir(out) if out else new_run_dir("runs", prefix="landscape-")


def finish(folder: Path, text_lines: list[str], csv_text: str, figures: list[Path]) -> None:
    """Write ``verdict.txt`` and ``paths.csv`` beside the figures and print where everything is."""
    written = [*figures, folder / "verdict.txt", folder / "paths.csv"]
    atomic_write_text(folder / "paths.csv", csv_text)
    lines = [*text_lines, "files       " + str(written[0]), *("            " + str(p) for p in written[1:])]
    atomic_write_text(folder / "verdict.txt", "\n".join(lines) + "\n")
    for line in lines:
        click.echo(line)


def common_options(command):
    """Options every landscape command has: ``--out --theme --format --dpi --html --gif --tol``."""
    options = [
        click.option("--tol", type=Number(float, 0, above=True), default=TOLERANCE, show_default=True,
                     help="Distance to a minimum below which a path counts as converged."),
        click.option("--out", default=None, help="Output folder (default: runs/landscape-<timestamp>)."),
        click.option("--theme", default="dark", show_default=True, help="Figure theme: dark or light."),
        format_option,
        dpi_option,
        click.option("--html", is_flag=True, help="Also write landscape.html: interactive 3-D, works offline."),
        click.option("--gif", is_flag=True, help="Also write path.gif: the path drawn step by step."),
    ]
    for option in reversed(options):  # the first in the list is the first in --help
        command = option(command)
    return command


function_option = click.option("--function", "function_spec", default="seed", show_default=True,
                               help=FUNCTION_HELP)
optimizer_option = click.option("--optimizer", default="sgd", show_default=True, help=OPTIMIZER_HELP)
start_option = click.option("--start", default=None,
                            help="Start point x,y (default: the function's own; -7,2 for seed).")


def check_theme_option(theme: str) -> str:
    from mlplab.viz.theme import check_theme

    return check_theme(theme)


@click.command("descent", short_help="Gradient descent on a 2-D function, with the honest verdict.")
@function_option
@optimizer_option
@click.option("--lr", type=Number(float, 0, above=True), default=None,
              help="Learning rate (default: the function's own; 0.9 for seed).")
@click.option("--steps", type=Number(int, 0, maximum=100_000), default=30, show_default=True, help="Steps to take.")
@start_option
@common_options
def descent_command(function_spec, optimizer, lr, steps, start, tol, out, theme, formats, html, gif) -> None:
    """Gradient descent (or any optimizer) on a 2-D function, with the honest verdict.

    Prints f - f*, the distance to the nearest minimum and the gradient norm, says "converged" only
    below --tol, and for quadratics the per-direction factors 1 - lr*lambda, the stability limit 2/L
    and how many steps it would really take. Writes surface.png, contour.png and convergence.png.

    \b
    Example:
      mlplab descent                              # the seed: x**2/100 + y**2, lr 0.9, 30 steps from (-7, 2)
      mlplab descent --steps 500 --gif --html     # long enough to converge, animated and interactive
      mlplab descent --function rosenbrock --optimizer adam --lr 0.05 --steps 300
      mlplab descent --function "x**2/20 + y**2" --start=-7,2 --theme light
      mlplab descent --format svg --format png --dpi 300   # for a slide and for print
    """
    from mlplab.landscape import descend, paths_csv

    theme = check_theme_option(theme)
    function = get_function(function_spec)
    path = descend(function, check_choice("--optimizer", optimizer, OPTIMIZERS), lr, steps, parse_start(start))
    # A diverging path is drawn, not refused: it is what a teacher wants to show, and the verdict says why.
    verdict = judge(path, tol)
    folder = output_folder(out)

    from mlplab.viz.landscape.files import descent_files

    figures = descent_files(verdict, folder, theme=theme, formats=formats, gif=gif, html=html)
    finish(folder, verdict.lines(), paths_csv([path]), figures)


@click.command("sgd", short_help="SGD on a finite sum: noise, seeds, batch sizes, schedules.")
@function_option
@optimizer_option
@click.option("--lr", type=Number(float, 0, above=True), default=None,
              help="Initial learning rate (default: the function's own; 0.9 for seed).")
@click.option("--steps", type=Number(int, 1, maximum=20_000), default=100, show_default=True, help="Steps per run.")
@click.option("--batch-size", type=Number(int, 1), default=10, show_default=True, help="Examples per mini-batch.")
@click.option("--noise", type=Number(float, 0), default=0.5, show_default=True,
              help="sigma: each example adds sigma*xi_i.w to f, so the gradient noise is sigma/sqrt(B).")
@click.option("--n", "n_examples", type=Number(int, 3, maximum=1_000_000), default=1000, show_default=True,
              help="N, the number of examples in the finite sum.")
@click.option("--runs", type=Number(int, 1, maximum=1000), default=30, show_default=True,
              help="Seeds in the ensemble.")
@click.option("--schedule", default="constant", show_default=True,
              help=f"Learning-rate schedule: {', '.join(SCHEDULES)}.")
@click.option("--sampling", default="replacement", show_default=True,
              help="replacement: independent random batches (as mlplab train); shuffle: each example once per epoch.")
@click.option("--seed", type=Number(int, 0), default=0, show_default=True,
              help="Seed of the examples and of the first run (run k uses seed + k).")
@start_option
@common_options
def sgd_command(function_spec, optimizer, lr, steps, batch_size, noise, n_examples, runs, schedule, sampling,
                seed, start, tol, out, theme, formats, html, gif) -> None:
    """SGD on a real finite sum f(w) = (1/N) sum_i [f(w) + sigma xi_i.w]: noise, ensembles, batch sizes.

    The xi_i are drawn once from --seed and centred, so the mini-batch gradient is exactly unbiased
    with noise sigma/sqrt(B) per coordinate. Prints the verdict on one run, the ensemble against the
    predicted noise ellipse, the measured noise per batch size (1, 10, 100, N) and the schedules.

    \b
    Example:
      mlplab sgd                                  # seed defaults: lr 0.9, 100 steps, batch 10, sigma 0.5, N 1000
      mlplab sgd --batch-size 1 --schedule inv-sqrt --steps 1000
      mlplab sgd --sampling shuffle --batch-size 1000   # B = N without replacement: exact gradient
    """
    from mlplab.landscape import paths_csv
    from mlplab.landscape.sgd_study import run_sgd_study

    theme = check_theme_option(theme)
    function = get_function(function_spec)
    study = run_sgd_study(
        function, optimizer=check_choice("--optimizer", optimizer, OPTIMIZERS),
        lr=function.lr if lr is None else lr, steps=steps, batch_size=batch_size, noise=noise, n=n_examples,
        runs=runs, seed=seed, schedule=check_choice("--schedule", schedule, SCHEDULES),
        sampling=check_choice("--sampling", sampling, SAMPLINGS), start=parse_start(start),
    )
    lines = [*judge(study.run, tol, stochastic=True).lines(), *study.lines()]
    folder = output_folder(out)

    from mlplab.viz.landscape.files import sgd_files

    figures = sgd_files(study, folder, theme=theme, formats=formats, gif=gif, html=html)
    finish(folder, lines, paths_csv([*study.runs, study.full_batch]), figures)


@click.command("compare", short_help="Optimizers side by side (the textbook's figure as a preset).")
@click.option("--preset", default="textbook", show_default=True,
              help="textbook: 'Deep Learning from Scratch' fig. 6-8 (x**2/20 + y**2, 30 steps from (-7, 2), "
                   "sgd 0.95, momentum 0.1, adagrad 1.5, adam 0.3).")
@click.option("--function", "function_spec", default=None, help=FUNCTION_HELP + " Default: the preset's.")
@click.option("--optimizer", "optimizer_specs", multiple=True,
              help="NAME:LR, repeatable or comma-separated, e.g. --optimizer sgd:0.1,adam:0.3 "
                   f"(default: the preset's). Names: {', '.join(OPTIMIZERS)}.")
@click.option("--lr", type=Number(float, 0, above=True), default=None,
              help="Learning rate for every --optimizer given without :LR.")
@click.option("--steps", type=Number(int, 0, maximum=100_000), default=None, help="Steps (default: the preset's, 30).")
@click.option("--start", default=None, help="Start point x,y (default: the preset's, -7,2).")
@common_options
def compare_command(preset, function_spec, optimizer_specs, lr, steps, start, tol, out, theme, formats, html,
                    gif) -> None:
    """Optimizers side by side on one function: the textbook's figure as a preset.

    Prints one verdict line per optimizer (distance to the minimum, f - f*, and the steps it would
    need) and writes compare_grid.png and compare_overlay.png.

    \b
    Example:
      mlplab compare                              # the textbook's four optimizers on x**2/20 + y**2
      mlplab compare --function rosenbrock --start=-1.5,2 --steps 500 --optimizer momentum:0.001,adam:0.05
      mlplab compare --optimizer nesterov:0.1 --optimizer rmsprop:0.1 --gif
    """
    from mlplab.landscape import paths_csv
    from mlplab.landscape.compare import PRESETS, compare_optimizers, parse_optimizer_list

    theme = check_theme_option(theme)
    chosen = PRESETS[check_choice("--preset", preset, PRESETS)]
    function = get_function(function_spec or chosen.function)
    specs = chosen.optimizers
    if optimizer_specs:
        text = ",".join(optimizer_specs)
        if lr is not None:  # give every bare name the --lr
            text = ",".join(p if ":" in p or not p.strip() else f"{p}:{lr}" for p in text.split(","))
        specs = parse_optimizer_list(text)
    start_point = parse_start(start) or (chosen.start if function_spec is None else None)
    paths = compare_optimizers(function, specs, chosen.steps if steps is None else steps, start_point)
    verdicts = [judge(p, tol) for p in paths]
    lines = [f"function    {function.label}",
             f"run         {paths[0].steps} steps from ({paths[0].start[0]:g}, {paths[0].start[1]:g}), "
             f"tolerance {tol:g}",
             f"{'optimizer':<22}{'end point':<24}{'f - f*':>11}{'distance':>11}{'|grad f|':>11}   verdict"]
    for v in verdicts:
        end = f"({v.path.end[0]:.4g}, {v.path.end[1]:.4g})"
        gap = "-" if v.f_gap is None else f"{v.f_gap:.4g}"
        dist = "-" if v.distance is None else f"{v.distance:.4g}"
        lines.append(f"{v.path.label:<22}{end:<24}{gap:>11}{dist:>11}{v.gradient_norm:>11.4g}   "
                     + compare_word(v))
    folder = output_folder(out)

    from mlplab.viz.landscape.files import compare_files

    figures = compare_files(paths, verdicts, folder, theme=theme, formats=formats, gif=gif, html=html)
    finish(folder, lines, paths_csv(paths), figures)


def compare_word(v) -> str:
    """``converged at step 12`` or ``NOT converged; needs 89 steps (closed form, at lr 0.95)``."""
    if v.converged:
        return f"converged at step {v.steps_needed}"
    if v.path.diverged_at is not None:
        return f"DIVERGED at step {v.path.diverged_at}"
    if v.steps_needed is not None:
        return f"NOT converged; needs {v.steps_needed} steps ({v.steps_source})"
    return "NOT converged" + (f"; {v.steps_source}" if v.steps_source else "")


COMMANDS = [descent_command, sgd_command, compare_command]
