"""``mlplab sweep``: many runs over a grid or random draw of settings, locally or on a Dask cluster."""

from __future__ import annotations

import math
import os
from pathlib import Path

import click

from mlplab.cli.plots import FORMAT_CHOICES as FORMATS
from mlplab.cli.plots import THEME_CHOICES as THEMES
from mlplab.cli.plots import dpi_option
from mlplab.errors import ConfigError
from mlplab.sweep.lock import sweep_lock
from mlplab.sweep.space import SWEPT, SweepSpace, format_value, parse_values, plan_runs
from mlplab.train.config import DTYPES, SAMPLINGS, TrainConfig
from mlplab.train.limits import check_sweep_memory, sweep_size
from mlplab.train.run_folder import prepare_run_dir


class OneLineErrors(click.Command):
    """A command whose usage mistakes (``--seeds abc``) are one ``Error:`` line, like the library's."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise ConfigError(f"{exc.format_message()} (see mlplab {self.name} --help)") from None


@click.command("sweep", cls=OneLineErrors)
@click.option("--lr", default="0.1", show_default=True,
              help="Learning rates, comma-separated; with --random also a range LOW:HIGH (log-uniform).")
@click.option("--hidden", default="50", show_default=True,
              help="Hidden sizes, comma-separated; x between layers (50,100x50); with --random also LOW:HIGH.")
@click.option("--optimizer", default="sgd", show_default=True, help="Optimizers, comma-separated, or all.")
@click.option("--batch-size", default="100", show_default=True, help="Mini-batch sizes, comma-separated.")
@click.option("--activation", default="sigmoid", show_default=True, help="Activations, comma-separated, or all.")
@click.option("--weight-init-std", default="0.01", show_default=True,
              help="Initial weight stds: numbers, he, xavier, auto.")
@click.option("--weight-decay", default="0", show_default=True,
              help="L2 weight decay λ values, comma-separated, or a range LOW:HIGH (log-uniform, with --random).")
@click.option("--dropout", default="0", show_default=True, help="Dropout ratios, comma-separated (0: none).")
@click.option("--batchnorm", default="off", show_default=True, help="Batch norm: off, on, or off,on.")
@click.option("--validation", type=click.IntRange(min=0), default=0, show_default=True,
              help="Hold out N training images in every run; runs are then ranked on them, not on the test set.")
@click.option("--seeds", type=int, default=1, show_default=True, help="Seeds per configuration (0, 1, … N-1).")
@click.option("--random", "n_random", type=int, default=None, help="Draw N random configurations instead of the grid.")
@click.option("--sample-seed", type=int, default=0, show_default=True,
              help="Seed of the random draws (same seed, same plan).")
@click.option("--iters", type=int, default=10_000, show_default=True, help="Training iterations of every run.")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True)
@click.option("--sampling", type=click.Choice(SAMPLINGS), default="replacement", show_default=True)
@click.option("--eval-every", type=int, default=None, help="Iterations between evaluations (default: one epoch).")
@click.option("--train-size", type=int, default=None, help="Use only the first N training images.")
@click.option("--test-size", type=int, default=None, help="Use only the first N test images.")
@click.option("--data-dir", type=click.Path(), default=None, envvar="MLPLAB_DATA_DIR",
              help="Folder with the four IDX files (default: bundled MNIST).")
@click.option("--out", type=click.Path(), default=None, help="Sweep folder; run the same command again to resume.")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: number of cores).")
@click.option("--scheduler", default=None, help="Run on a Dask cluster instead: tcp://HOST:PORT of its scheduler.")
@click.option("--connect-timeout", type=float, default=5.0, show_default=True,
              help="Seconds to wait for the scheduler.")
@click.option("--plan", is_flag=True, help="Print the runs and an estimated time; run nothing.")
@click.option("--heatmap", default=None,
              help="Two settings for the heatmap, e.g. lr,hidden (default: the two with most values).")
@click.option("--color-by", default=None, help="Setting that colours the accuracy curves (default: lr).")
@click.option("--theme", type=click.Choice(THEMES), default="dark", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="png", show_default=True)
@click.option("--no-figures", is_flag=True, help="Write summary.csv only.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@dpi_option
def sweep_command(**opts) -> None:
    """Train every configuration of a grid (or a random draw) and compare them.

    Every run is an ordinary run folder under --out, so every figure, the report and the web app
    work on it. DIR/summary.csv has one row per run; DIR/sweep_*.png compare them. Runs go to local
    worker processes (one BLAS thread each) or, with --scheduler, to a Dask cluster.

    \b
    Example:
      mlplab sweep --lr 0.01,0.1,1 --hidden 20,50,100 --optimizer sgd,adam --seeds 3 --out runs/grid
      mlplab sweep --random 20 --lr 1e-4:1 --hidden 20:200 --iters 2000 --out runs/search --plan
      mlplab sweep --lr 0.1,1 --scheduler tcp://127.0.0.1:8786 --out runs/cluster
      mlplab sweep --random 100 --lr 1e-6:1e-2 --weight-decay 1e-8:1e-4 --validation 100 --out runs/search
    """
    space = space_from_options(opts)
    runs = plan_runs(space)
    heatmap = _heatmap_option(opts["heatmap"])
    color_by = _setting_option(opts["color_by"], "--color-by")
    for name, value in (("--workers", opts["workers"]), ("--connect-timeout", opts["connect_timeout"])):
        if value is not None and value <= 0:
            raise ConfigError(f"{name} must be > 0, got {value!r}.")
    if opts["scheduler"] and opts["workers"] is not None:
        raise ConfigError("--workers is for local sweeps; a Dask cluster has its own workers (leave --workers out).")
    check_sweep_memory([r.config for r in runs], 1 if opts["scheduler"] else opts["workers"] or os.cpu_count() or 1)
    if opts["plan"]:
        print_plan(space, runs, opts)
        return
    if not opts["out"]:
        raise ConfigError("give --out DIR, the folder for the runs (the same --out later resumes the sweep).")

    from mlplab.sweep.runner import split_done

    todo, done = split_done(runs, opts["out"])  # refuses a folder holding other runs, before anything starts
    client = _client(opts) if todo else None
    try:
        # one sweep at a time in a folder: a second one would delete this one's runs in progress
        with sweep_lock(prepare_run_dir(opts["out"]), on_message=lambda message: click.echo(message, err=True)):
            todo, done = split_done(runs, opts["out"])  # again: the folder's last holder may have added runs
            result = _run(runs, todo, done, opts, client)
            _report(result, opts, heatmap, color_by)
    finally:
        if client is not None:
            client.close()
    if result.counts().get("failed"):
        raise SystemExit(1)


def space_from_options(opts: dict) -> SweepSpace:
    """The sweep's space from the command's options; every mistake is one ConfigError line."""
    values = {name: parse_values(name, opts[name]) for name in SWEPT}
    if opts["seeds"] < 1:
        raise ConfigError(f"--seeds must be a whole number >= 1, got {opts['seeds']}.")
    if opts["n_random"] is None or opts["n_random"] >= 1:  # count the runs before building the seeds
        grid = math.prod(len(v) for v in values.values() if isinstance(v, tuple))
        sweep_size(opts["n_random"] or grid, opts["seeds"])
    base = TrainConfig(
        iters=opts["iters"], dtype=opts["dtype"], sampling=opts["sampling"], eval_every=opts["eval_every"],
        train_size=opts["train_size"], test_size=opts["test_size"], data_dir=opts["data_dir"],
        validation=opts["validation"],
    )
    return SweepSpace(values=values, seeds=tuple(range(opts["seeds"])), base=base, random=opts["n_random"],
                      sample_seed=opts["sample_seed"])


def _setting_option(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    name = text.strip().replace("-", "_")
    if name not in SWEPT:
        raise ConfigError(f"{option} {text!r} is not a swept setting; choose one of: {', '.join(SWEPT)}.")
    return name


def _heatmap_option(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    parts = [p for p in text.split(",") if p.strip()]
    if len(parts) != 2 or parts[0].strip() == parts[1].strip():
        raise ConfigError(f"--heatmap {text!r} needs two different settings, e.g. --heatmap lr,hidden.")
    x, y = (_setting_option(p, "--heatmap") for p in parts)
    return x, y  # type: ignore[return-value]


def _client(opts: dict):
    """A Dask client (fails fast), or ``None`` for a local sweep (after checking the data folder)."""
    if opts["scheduler"]:
        from mlplab.sweep.distributed import connect, version_mismatches

        client = connect(opts["scheduler"], timeout=opts["connect_timeout"])
        for line in version_mismatches(client):
            click.echo(f"warning: {line}; runs there may differ in the last bits.", err=True)
        return client
    from mlplab.data import resolve_data_dir

    resolve_data_dir(opts["data_dir"])  # a missing --data-dir fails here, not in every worker
    return None


def _run(runs, todo, done, opts, client):
    from tqdm import tqdm

    from mlplab.sweep.runner import run_sweep

    where = f"Dask at {opts['scheduler']}" if client is not None else \
        f"{min(opts['workers'] or os.cpu_count() or 1, max(len(todo), 1))} local workers"
    if done:
        click.echo(f"resuming: {len(done)} of {len(runs)} runs already complete in {opts['out']}", err=True)
    bar = tqdm(total=len(todo), unit="run", desc=f"sweep ({where})", disable=opts["quiet"] or not todo,
               dynamic_ncols=True)
    tally = {"completed": 0, "other": 0}

    def progress(outcome, row) -> None:
        tally["completed" if outcome.status == "completed" else "other"] += 1
        acc = row.get("final_test_acc")
        bar.set_postfix(ok=tally["completed"], failed=tally["other"],
                        last=f"{acc:.3f}" if acc is not None else outcome.status, refresh=False)
        bar.update(1)

    try:
        return run_sweep(runs, opts["out"], workers=opts["workers"], client=client, on_outcome=progress)
    except KeyboardInterrupt:
        bar.close()
        click.echo(f"interrupted; finished runs are kept in {opts['out']}: run the same command again to resume.",
                   err=True)
        raise SystemExit(130) from None
    finally:
        bar.close()


def _report(result, opts, heatmap, color_by) -> None:
    from mlplab.sweep.summary import load_curves, rank_configurations, varied_settings

    counts = result.counts()
    ran = len(result.outcomes)
    click.echo(f"sweep       {len(result.runs)} runs in {result.out_dir}: " + ", ".join(
        f"{counts.get(s, 0)} {s}" for s in ("completed", "diverged", "failed")) +
        f" ({len(result.skipped)} already complete, {ran} run now)")
    if ran:
        click.echo(f"time        {_duration(result.seconds)} wall, {60 * ran / result.seconds:.1f} runs/minute")
    for row in result.rows:
        if row["status"] != "completed":
            click.echo(f"{row['status']:<11} {row['name']}: {row['reason']}")
    varied = varied_settings(result.rows)
    ranked = [r for r in rank_configurations(result.rows) if r.completed]
    for k, r in enumerate(ranked[:3]):
        spread = f" ± {r.std:.2%} over {r.completed} seeds" if r.completed > 1 else ""
        failed = f", {r.failed} failed" if r.failed else ""
        score = (f"validation {r.mean:.2%}{spread} (test {r.test_mean:.2%}, not used to choose)"
                 if r.metric == "final_val_acc" else f"test {r.mean:.2%}{spread}")
        click.echo(f"{'best' if k == 0 else '':<11} {k + 1}. {r.label(varied)}: {score}{failed}")
    click.echo(f"summary     {result.out_dir / 'summary.csv'}")
    if opts["no_figures"] or not ranked:
        return
    from mlplab.viz.sweep import sweep_figures

    paths = sweep_figures(result.out_dir, result.rows, load_curves(result.out_dir, result.rows), theme=opts["theme"],
                          fmt=opts["fmt"], heatmap=heatmap, color_by=color_by)
    click.echo(f"figures     {', '.join(p.name for p in paths)}")


def print_plan(space: SweepSpace, runs, opts: dict) -> None:
    """The runs (✓ = already complete in --out), each run's estimated time and the sweep's."""
    from mlplab.sweep.estimate import estimate_runs, wall_seconds
    from mlplab.sweep.runner import split_done

    done = {r.name for r in split_done(runs, opts["out"])[1]} if opts["out"] and Path(opts["out"]).is_dir() else set()
    if opts["scheduler"]:
        from mlplab.sweep.distributed import connect, worker_threads

        client = connect(opts["scheduler"], timeout=opts["connect_timeout"])
        workers, where = worker_threads(client), f"the Dask cluster at {opts['scheduler']}"
        client.close()
    else:
        workers = opts["workers"] or os.cpu_count() or 1
        where = f"{workers} local worker{'s' if workers > 1 else ''}"
    todo = [r for r in runs if r.name not in done]
    seconds = dict(zip([r.name for r in todo], estimate_runs([r.config for r in todo]), strict=True))
    base = space.base
    click.echo(f"sweep plan  {space.describe()}, {base.iters} iterations each"
               + (f", into {opts['out']}" if opts["out"] else ""))
    for name in ("lr", "hidden", "optimizer", "batch_size", "activation", "weight_init_std"):
        values = space.setting_values(name)
        shown = str(values) if not isinstance(values, tuple) else ", ".join(format_value(name, v) for v in values)
        click.echo(f"  {name:<16} {shown}")
    width = len(str(len(runs)))
    for k, run in enumerate(runs, 1):
        status = "done" if run.name in done else f"~{_duration(seconds[run.name])}"
        click.echo(f"  {k:>{width}}  {run.name:<48} {status}")
    total = sum(seconds.values())
    click.echo(f"to run      {len(todo)} of {len(runs)} runs" + (f" ({len(done)} already complete)" if done else ""))
    click.echo(f"estimate    ~{_duration(wall_seconds(list(seconds.values()), workers))} on {where} "
               f"(~{_duration(total)} of training in all; from timing a few steps of each network here)")


def _duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``2h10m``."""
    seconds = max(float(seconds), 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


COMMANDS = [sweep_command]
