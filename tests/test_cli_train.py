"""`mlplab train` and `mlplab gradcheck` end to end, and one clear line for every user mistake."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from mlplab.cli import main

SMALL = ["--iters", "60", "--train-size", "1000", "--test-size", "300", "--seed", "0", "--quiet"]


def run(args, **kw):
    return CliRunner().invoke(main, args, catch_exceptions=False, **kw)


def test_train_writes_a_run_folder(tmp_path):
    out = tmp_path / "run"
    result = run(["train", *SMALL, "--eval-every", "20", "--no-plots", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "status      completed" in result.output and f"run folder  {out}" in result.output
    for name in ("config.json", "history.json", "metrics.csv", "model.npz"):
        assert (out / name).is_file()
    history = json.loads((out / "history.json").read_text())
    assert history["iterations"] == [0, 20, 40, 59] and len(history["loss"]) == 60  # 59: the saved model
    assert f"test {history['test_acc'][-1]:.2%}" in result.output


def test_final_accuracy_printed_is_the_saved_models(mnist, tmp_path, saved_model_accuracy):
    """1000 iterations: the book evaluates at 0 and 600 only; the summary must be the model in model.npz."""
    out = tmp_path / "run"
    result = run(["train", "--iters", "1000", "--seed", "0", "--quiet", "--no-plots", "--out", str(out)])
    assert result.exit_code == 0, result.output
    (_, t_train), (x_test, t_test) = mnist
    saved = saved_model_accuracy(out, x_test, t_test)
    line = next(line for line in result.output.splitlines() if line.startswith("accuracy"))
    assert f"test {saved:.2%}" in line and "final model (after 1000 iterations" in line
    assert "textbook" not in result.output  # 1000 iterations is not the book's run: no book numbers


def test_summary_compares_the_book_at_its_last_evaluation_only_for_the_book_run():
    from mlplab.cli.train import accuracy_lines
    from mlplab.train import History, TrainConfig

    h = History(iterations=[0, 9600, 9999], train_acc=[0.1, 0.9472, 0.9484], test_acc=[0.1, 0.9454, 0.9462],
                loss=[0.2] * 10_000)
    lines = accuracy_lines(h, TrainConfig(seed=0), (784, 50, 10))
    assert lines == [
        "accuracy    train 94.84%  test 94.62%  final model (after 10000 iterations, 3 evaluations)",
        "            train 94.72%  test 94.54%  after iteration 9600, the book's last evaluation",
        "textbook    train 94.70%  test 94.65%  after iteration 9600 (its published run, no seed)",
    ]
    assert len(accuracy_lines(h, TrainConfig(seed=0, lr=0.5), (784, 50, 10))) == 1
    assert len(accuracy_lines(h, TrainConfig(seed=0, train_size=300), (784, 50, 10))) == 1
    diverged = History(iterations=[0, 600], train_acc=[0.1, 0.5], test_acc=[0.1, 0.5], loss=[0.2] * 700)
    assert "the saved weights were not measured" in accuracy_lines(diverged, TrainConfig(lr=0.5), (784, 50, 10))[0]


def test_train_options_reach_the_config(tmp_path):
    out = tmp_path / "run"
    args = ["train", *SMALL, "--hidden", "32,16", "--activation", "relu", "--optimizer", "Adam",
            "--lr", "0.003", "--batch-size", "50", "--sampling", "shuffle", "--dtype", "float64",
            "--weight-init-std", "he", "--no-plots", "--out", str(out)]
    assert run(args).exit_code == 0
    config = json.loads((out / "config.json").read_text())
    assert config["sizes"] == [784, 32, 16, 10]
    assert (config["optimizer"], config["lr"], config["batch_size"]) == ("adam", 0.003, 50)
    assert (config["sampling"], config["dtype"], config["weight_init_std"]) == ("shuffle", "float64", "he")


@pytest.mark.parametrize("args,message", [
    (["--lr", "abc"], "'abc' is not a valid float"),
    (["--lr", "-1"], "lr must be a positive number"),
    (["--batch-size", "0"], "0 is not in the range x>=1"),
    (["--hidden", "50,x"], "not a comma-separated list of whole numbers"),
    (["--optimizer", "lbfgs"], "'lbfgs' is not one of"),
    (["--data-dir", "/no/such/folder"], "data folder /no/such/folder does not exist"),
    (["--out", "/proc/forbidden/run"], "cannot write the output folder"),
])
def test_user_mistakes_give_one_line(args, message):
    result = CliRunner().invoke(main, ["train", *SMALL, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_unreadable_data_is_one_line_in_a_real_process(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-m", "mlplab", "train", "--data-dir", str(tmp_path), "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: data file") and "Traceback" not in proc.stderr


def test_diverging_run_exits_non_zero_and_keeps_the_record(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", *SMALL, "--lr", "1e8", "--activation", "relu",
                                       "--weight-init-std", "he", "--no-plots", "--out", str(out)])
    assert result.exit_code == 1
    assert "the loss became nan at iteration" in result.output
    assert json.loads((out / "history.json").read_text())["status"] == "diverged"


def test_a_run_diverging_from_its_start_names_the_initial_weights(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", *SMALL, "--hidden", "50,50,50", "--activation", "relu",
                                       "--weight-init-std", "1000", "--no-plots", "--out", str(out)])
    assert result.exit_code == 1
    status = next(line for line in result.output.splitlines() if line.startswith("status"))
    assert "the start was already off" in status and "--weight-init-std he instead of 1000" in status
    assert "smaller learning rate" not in status


def test_gradcheck_passes_and_reports_every_parameter():
    result = run(["gradcheck", "--samples", "2", "--hidden", "10"])  # 784-10-10: the same four parameters, fast
    assert result.exit_code == 0
    for name in ("W1", "b1", "W2", "b2"):
        assert f"\n{name} " in result.output
    assert "OK: largest relative error" in result.output


def test_gradcheck_fails_above_tolerance():
    result = CliRunner().invoke(main, ["gradcheck", "--samples", "1", "--hidden", "5", "--tolerance", "1e-16"])
    assert result.exit_code == 1 and "FAILED" in result.output


def test_train_prints_the_diagnosis_when_a_rule_fires(tmp_path):
    # --no-plots for both runs: the diagnosis is printed either way, and drawing the healthy run's
    # figures and report (which the slice args[1:11] once let happen) took three quarters of this test
    args = ["train", "--iters", "300", "--eval-every", "100", "--train-size", "2000", "--test-size", "300",
            "--seed", "0", "--quiet", "--no-plots"]
    result = run([*args, "--lr", "1000", "--out", str(tmp_path / "high")])
    assert "lr-too-high" in result.output and "lr-too-low" not in result.output
    healthy = run([*args, "--lr", "0.5", "--out", str(tmp_path / "ok")])
    assert "status      completed" in healthy.output and "diagnosis" not in healthy.output
