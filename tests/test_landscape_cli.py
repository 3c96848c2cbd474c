"""`mlplab descent`, `mlplab sgd` and `mlplab compare` end to end; one clear line for every mistake."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mlplab.cli import main

SEED_VERDICT = """\
function    seed: x**2/100 + y**2
gradient    df/dx = 0.02*x,  df/dy = 2*y   (exact, symbolic)
run         sgd lr=0.9, 30 steps from (-7, 2)
end         (-4.059, 0.002476), f = 0.1648
f - f*      0.1648   (f* = 0)
distance    4.059 to the nearest minimum (0, 0)   (known global minima)
|grad f|    0.08134
verdict     NOT converged: distance 4.059 > tolerance 0.001
theory      quadratic: eigenvalues 0.02 (x), 2 (y); condition number L/mu = 100
            per-step factors 1 - lr*lambda at lr 0.9: 0.982 (x), -0.8 (y); stable: lr < 2/L = 1
            y: factor -0.8: zig-zags across the valley, 10x closer every 10.3 steps
            x: factor 0.982: creeps towards the minimum, 10x closer every 127 steps
"""


def run(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def test_descent_defaults_print_the_honest_seed_verdict(tmp_path):
    out = tmp_path / "descent"
    result = run(["descent", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(SEED_VERDICT)
    assert "check       closed-form path = numeric path to" in result.output
    assert "needs       488 steps to come within 0.001 of the minimum (closed form, at lr 0.9)" in result.output
    written = {"surface.png", "contour.png", "convergence.png", "verdict.txt", "paths.csv"}
    assert {p.name for p in out.iterdir()} == written
    for name in written:
        assert f"{out / name}" in result.output
    assert (out / "verdict.txt").read_text() == result.output
    assert len((out / "paths.csv").read_text().splitlines()) == 32  # header + 31 points


def test_descent_options_reach_the_path(tmp_path):
    out = tmp_path / "d"
    result = run(["descent", "--function", "x**2/20 + y**2", "--optimizer", "Adam", "--lr", "0.3",
                  "--steps", "5", "--start", "-7,2", "--theme", "light", "--tol", "0.5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "run         adam lr=0.3, 5 steps from (-7, 2)" in result.output
    assert "not plain gradient descent" not in result.output  # the note is for non-sgd factors only
    assert "the factors 1 - lr*lambda describe plain gradient descent, not adam" in result.output


def test_a_diverging_descent_is_drawn_and_explained_not_refused(tmp_path):
    out = tmp_path / "lr5"
    result = run(["descent", "--lr", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    # y is multiplied by 1 - 5·2 = -9 per step: |2·9^k| passes the 1e10 blow-up bound at k = 11
    k = next(k for k in range(1, 40) if 2 * 9**k > 1e10)
    assert f"verdict     DIVERGED at step {k}" in result.output
    assert f"diverged at step {k}: lr·λ_max = 5 × 2 = 10 > 2" in result.output
    assert "stable for lr < 1." in result.output
    assert {"surface.png", "contour.png", "convergence.png"} <= {p.name for p in out.iterdir()}


def test_sgd_small_run(tmp_path):
    out = tmp_path / "sgd"
    result = run(["sgd", "--runs", "4", "--steps", "20", "--n", "100", "--seed", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "run         sgd lr=0.9 B=10 seed 3, 20 steps from (-7, 2)" in result.output
    assert "ensemble    4 runs (seeds 3-6)" in result.output
    assert "B = 100   measured 0.005" not in result.output  # B = N = 100 with replacement: σ/√100 = 0.05
    assert "theory 0.05 " in result.output
    assert {p.name for p in out.iterdir()} == {"sgd.png", "contour.png", "verdict.txt", "paths.csv"}


def test_compare_textbook_preset(tmp_path):
    out = tmp_path / "cmp"
    result = run(["compare", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if " lr=" in line]
    assert [r.split()[0] for r in rows] == ["sgd", "momentum", "adagrad", "adam"]
    assert "needs 89 steps (closed form, at lr 0.95)" in rows[0]
    assert {p.name for p in out.iterdir()} == {"compare_grid.png", "compare_overlay.png", "verdict.txt",
                                                "paths.csv"}
    custom = run(["compare", "--optimizer", "nesterov,rmsprop:0.05", "--lr", "0.1", "--steps", "3",
                  "--out", str(tmp_path / "c2")])
    assert "nesterov lr=0.1" in custom.output and "rmsprop lr=0.05" in custom.output


@pytest.mark.parametrize(("args", "message"), [
    (["descent", "--function", "rosenbrok"], "unknown function 'rosenbrok'; choose one of: seed"),
    (["descent", "--function", "__import__('os').system('true')"], "cannot use attribute access"),
    (["descent", "--function", "x**9999"], "exponent 9999"),
    (["descent", "--optimizer", "lbfgs"], "unknown --optimizer value 'lbfgs'"),
    (["descent", "--start", "(-7; 2)"], "--start must be two numbers x,y"),
    (["descent", "--start", "1,2,3"], "--start must be two numbers x,y"),
    (["descent", "--lr", "abc"], "--lr must be a number > 0, got 'abc'"),
    (["descent", "--steps", "-1"], "--steps must be a whole number >= 0"),
    (["descent", "--theme", "pink"], "unknown theme 'pink'"),
    (["sgd", "--batch-size", "2000"], "batch size must be between 1 and N = 1000"),
    (["sgd", "--schedule", "cosine"], "unknown --schedule value 'cosine'"),
    (["sgd", "--lr", "3", "--runs", "2"], "the path diverged"),
    (["compare", "--optimizer", "adam"], "needs a learning rate"),
    (["compare", "--preset", "paper"], "unknown --preset value 'paper'"),
])
def test_bad_values_give_one_clear_line_and_no_output(tmp_path, args, message):
    out = tmp_path / "never"
    result = CliRunner().invoke(main, [*args, "--out", str(out)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output
    assert not out.exists()


def test_a_real_process_prints_one_line_on_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mlplab", "descent", "--function", "rosenbrok",
                           "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["descent", "sgd", "compare"])
def test_every_command_has_help_with_an_example(command):
    result = run([command, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and f"mlplab {command}" in result.output
