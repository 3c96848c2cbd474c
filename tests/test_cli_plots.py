"""`mlplab plot`, `mlplab report`, and the figures `mlplab train` / `mlplab gradcheck --plot` write."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from mlplab.cli.app import main
from mlplab.cli.plots import FORMAT_CHOICES, THEME_CHOICES, plot_command, report_command
from mlplab.train import TrainConfig, load_run, train
from mlplab.viz.theme import FORMATS, THEMES
from mlplab.viz.training.run_figures import ANIMATION, FIGURES

SMALL = ["--iters", "60", "--train-size", "500", "--test-size", "300", "--eval-every", "30", "--hidden", "8",
         "--seed", "0", "--quiet"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "run"
    train(TrainConfig(iters=60, train_size=500, test_size=300, eval_every=30, hidden=(8,), seed=0), run_dir=path)
    return path


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_choices_are_the_themes_and_formats_of_the_library():
    assert THEME_CHOICES == THEMES and FORMAT_CHOICES == FORMATS


@pytest.mark.parametrize("command", [plot_command, report_command])
def test_help_has_an_example(command):
    assert "Example:" in command.help


def test_plot_draws_every_figure(run_dir):
    result = invoke("plot", run_dir)
    assert result.exit_code == 0, result.output
    names = {p.name for p in (run_dir / "figures").iterdir()}
    assert names == {f"{n}.png" for n in FIGURES} | {"hidden_units.gif"}
    assert f"figures     {run_dir / 'figures'}  ({len(FIGURES) + 1} files" in result.output


def test_plot_at_an_earlier_evaluation_in_svg(run_dir):
    result = invoke("plot", run_dir, "--at-eval", "0", "--only", "architecture,hidden_units", "--format", "svg",
                    "--theme", "light")
    assert result.exit_code == 0, result.output
    folder = run_dir / "figures" / "eval_00"
    assert sorted(p.name for p in folder.iterdir()) == ["architecture.svg", "hidden_units.svg"]


def test_report_writes_one_self_contained_page(run_dir, tmp_path, outside_references, monkeypatch):
    """The command: --out and --theme reach the page, and it asks for every figure and the GIF. The
    figures themselves are one-pixel stand-ins here; the real ones, drawn in memory and embedded, are
    test_report::test_report_has_every_figure_and_no_outside_reference (the same write_report)."""
    import io

    from PIL import Image

    import mlplab.viz.report

    def pixel(kind: str) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", (1, 1)).save(buffer, kind)
        return buffer.getvalue()

    asked = []

    def render_images(data, theme="dark", *, names=FIGURES, animation=True):
        asked.append((theme, tuple(names), animation))
        images = {name: ("image/png", pixel("PNG")) for name in names}
        return images | ({ANIMATION: ("image/gif", pixel("GIF"))} if animation else {})

    monkeypatch.setattr(mlplab.viz.report, "render_images", render_images)
    out = tmp_path / "page.html"
    result = invoke("report", run_dir, "--out", out, "--theme", "light")
    assert result.exit_code == 0, result.output
    assert asked == [("light", tuple(FIGURES), True)]
    page = out.read_text(encoding="utf-8")
    assert result.output.startswith(f"report      {out}")
    assert outside_references(page) == [] and page.count("<img ") == len(FIGURES) + 1
    assert "#ffffff" in page  # the light theme's background


@pytest.mark.parametrize("command", ["plot", "report"])
def test_missing_run_folder_is_one_error_line(command, tmp_path):
    line = one_error_line(invoke(command, tmp_path / "nowhere"))
    assert "does not exist" in line


def test_damaged_run_folder_is_one_error_line(run_dir, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "config.json").write_text((run_dir / "config.json").read_text())
    (damaged / "history.json").write_text("{ not json")
    assert "damaged" in one_error_line(invoke("plot", damaged))
    assert "damaged" in one_error_line(invoke("report", damaged))


def test_bad_options_are_one_error_line(run_dir):
    assert "unknown figure" in one_error_line(invoke("plot", run_dir, "--only", "nonsense"))
    assert "at_eval" in one_error_line(invoke("plot", run_dir, "--at-eval", "7"))
    result = invoke("plot", run_dir, "--theme", "blue")
    assert result.exit_code == 2 and "Invalid value for '--theme'" in result.output


def test_train_writes_figures_and_report_also_when_the_run_diverged(tmp_path):
    out = tmp_path / "diverged"
    result = invoke("train", *SMALL, "--out", out, "--activation", "relu", "--weight-init-std", "he",
                    "--lr", "1e20", "--theme", "light")
    assert result.exit_code == 1, result.output  # diverged, as before
    assert load_run(out).history.status == "diverged"
    expected = {f"{n}.png" for n in FIGURES} | {"hidden_units.gif"}
    assert {p.name for p in (out / "figures").iterdir()} == expected
    assert f"report      {out / 'report.html'}" in result.output
    assert (out / "report.html").is_file()


def test_train_no_plots(tmp_path):
    bare = tmp_path / "bare"
    result = invoke("train", *SMALL, "--out", bare, "--no-plots")
    assert result.exit_code == 0, result.output
    assert not (bare / "figures").exists() and not (bare / "report.html").exists()
    assert (bare / "model.npz").is_file()


def test_gradcheck_plot(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("gradcheck", "--hidden", "4", "--samples", "1", "--plot", "--theme", "light")
    assert result.exit_code == 0, result.output
    assert "OK: largest relative error" in result.output and "plot        gradcheck.png" in result.output
    assert (tmp_path / "gradcheck.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # a wrong file name is refused before the check runs
    assert ".png, .svg or .pdf" in one_error_line(invoke("gradcheck", "--hidden", "4", "--plot", tmp_path / "g.jpg"))


def test_animation_name_is_stable():
    """The web app and the report refer to the GIF by this name."""
    assert ANIMATION == "hidden_units_animation"


def test_replay_option_is_spelled_as_the_issue_says(run_dir):
    """`mlplab plot RUN_DIR --at EVAL` (and its long form --at-eval) replays an evaluation."""
    result = invoke("plot", run_dir, "--at", "1", "--only", "confusion")
    assert result.exit_code == 0, result.output
    assert (run_dir / "figures" / "eval_01" / "confusion.png").is_file()


def test_top_level_api_names():
    import mlplab

    assert callable(mlplab.descend) and callable(mlplab.write_report) and mlplab.sweep.__name__ == "mlplab.sweep"
    with pytest.raises(AttributeError):
        mlplab.no_such_name  # noqa: B018
