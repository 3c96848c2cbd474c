"""``mlplab explain``: backprop, step by step, on one test image of a run (a thin layer over :mod:`mlplab.explain`)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("explain")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--index", type=int, default=0, show_default=True, help="Which test image (0 = the first).")
@click.option("--at", "at_eval", type=int, default=None,
              help="Use the weights as they were at evaluation K (0 = first, -1 = last), from snapshots.npz.")
@click.option("--untrained", is_flag=True, help="Use the network before its first step (rebuilt from the run's seed).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), default=None,
              help="Also write every stage with all its numbers to this JSON file.")
@click.option("--html", "html_path", type=click.Path(path_type=Path), default=None,
              help="Also write a self-contained HTML page of the stages to this file.")
@click.option("--no-check", is_flag=True, help="Skip the central-difference checks (about a second).")
def explain_command(run_dir: Path, index: int, at_eval: int | None, untrained: bool, json_path: Path | None,
                    html_path: Path | None, no_check: bool) -> None:
    """Show every stage of the forward and backward pass for one test image, with real numbers.

    Forward x → a1 = x·W1 + b1 → z1 = σ(a1) → … → y = softmax(a) → L = −log y[t]; backward
    ∂L/∂a = y − t → ∂L/∂W = zᵀ·∂L/∂a, ∂L/∂b → ∂L/∂z = ∂L/∂a·Wᵀ → … → ∂L/∂W1 = xᵀ·∂L/∂a1. Each stage
    is computed by the run's own layers and checked by central differences in float64; then one SGD
    step W ← W − lr·∂L/∂W on this image, with the loss before and after.

    \b
    Example:
      mlplab explain runs/demo                        # test image #0, final weights
      mlplab explain runs/demo --index 8 --at 2       # image #8 with the weights of evaluation 2
      mlplab explain runs/demo --untrained --json stages.json --html stages.html
    """
    from mlplab.errors import RunFolderError
    from mlplab.explain.run import explain_run
    from mlplab.explain.text import run_explanation_lines
    from mlplab.viz.training.run_figures import load_run_data

    result = explain_run(load_run_data(run_dir), index, at=at_eval, untrained=untrained, check=not no_check)
    for line in run_explanation_lines(result):
        click.echo(line)
    for path, write in ((json_path, _write_json), (html_path, _write_html)):
        if path is None:
            continue
        try:
            write(path, result)
        except OSError as exc:
            raise RunFolderError(f"cannot write {path} ({exc.strerror or type(exc).__name__}); "
                                 "choose a writable place.") from None
        click.echo(f"wrote {path}")


def _write_json(path: Path, result) -> None:  # noqa: ANN001 - a RunExplanation
    from mlplab.app.responses import finite

    path.write_text(json.dumps(finite(result.to_dict()), ensure_ascii=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def _write_html(path: Path, result) -> None:  # noqa: ANN001 - a RunExplanation
    from mlplab.explain.html import explanation_page

    path.write_text(explanation_page(result), encoding="utf-8")


COMMANDS = [explain_command]
