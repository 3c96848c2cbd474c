"""Damaged run folders: a table of damaged files drives the CLI (plot, report, diagnose) and the web API.

Each damage must end in one sentence naming the file (CLI: exit 2, no traceback; web: a 4xx with
``{"error": ...}``), and one damaged run never breaks the Runs list. The JSON parsers of the run
folder are fuzzed: only :class:`RunFolderError` may come out of them.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from mlplab.app import AppSettings, create_app
from mlplab.cli.app import main
from mlplab.errors import RunFolderError
from mlplab.train import TrainConfig, load_run, run_schema, train
from mlplab.train.run_folder import CONFIG, HISTORY, MODEL, SNAPSHOTS, STREAM, load_snapshots, write_npz
from mlplab.viz.training.run_figures import FIGURES, FINAL_ONLY

LAYER_STATS = "layer_stats.json"
TINY = TrainConfig(iters=41, batch_size=50, hidden=(8,), train_size=300, test_size=100, eval_every=20, seed=0)


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10  # inside the compressed first array: a CRC or inflate error
    path.write_bytes(bytes(data))


def empty(path: Path) -> None:
    path.write_bytes(b"")


def edit_json(change):
    def damage(path: Path) -> None:
        d = json.loads(path.read_text())
        change(d)
        path.write_text(json.dumps(d))
    return damage


def other_network(path: Path) -> None:  # a model of another size: shapes disagree with config.json
    write_npz(path, {"W1": np.zeros((784, 9), np.float32), "b1": np.zeros(9, np.float32),
                     "W2": np.zeros((9, 10), np.float32), "b2": np.zeros(10, np.float32)})


def absurd_sizes(d):
    d["sizes"], d["hidden"] = [784, 100_000_000, 10], [100_000_000]


PLOTS = ("plot", "report")
ALL = ("plot", "report", "diagnose")
#: file, how it is damaged, what the message must say, the commands that read it
DAMAGE = {
    "model truncated": (MODEL, truncate, "cannot be read as a NumPy archive", ALL),
    "model bit flipped": (MODEL, flip_bit, "cannot be read as a NumPy archive", ALL),
    "model zero length": (MODEL, empty, "cannot be read as a NumPy archive", ALL),
    "model of another network": (MODEL, other_network, "W1 has shape (784, 9) but config.json's sizes need", ALL),
    "model not a zip": (MODEL, lambda p: p.write_text("hello"), "cannot be read as a NumPy archive", ALL),
    "snapshots truncated": (SNAPSHOTS, truncate, "cannot be read as a NumPy archive", PLOTS),
    "snapshots bit flipped": (SNAPSHOTS, flip_bit, "cannot be read as a NumPy archive", PLOTS),
    "snapshots zero length": (SNAPSHOTS, empty, "cannot be read as a NumPy archive", PLOTS),
    "history not UTF-8": (HISTORY, lambda p: p.write_bytes(b'{"loss": "\xff\xfe"}'), "not UTF-8 text", ALL),
    "history empty object": (HISTORY, lambda p: p.write_text("{}"), "it has no 'iterations' list", ALL),
    "history null": (HISTORY, lambda p: p.write_text("null"), "holds a JSON NoneType, not an object", ALL),
    "history wrong types": (HISTORY, edit_json(lambda d: d.update(train_acc="high")),
                            "'train_acc' must be a list of numbers", ALL),
    "history lengths differ": (HISTORY, edit_json(lambda d: d["test_acc"].pop()),
                               "'test_acc' has 2 entries but 'iterations' has 3", ALL),
    "history NaN accuracy": (HISTORY, edit_json(lambda d: d["train_acc"].__setitem__(0, float("nan"))),
                             "'train_acc' holds values that are not accuracies between 0 and 1", ALL),
    "history status not text": (HISTORY, edit_json(lambda d: d.update(status=3)), "'status' must be text", ALL),
    "config sizes not whole": (CONFIG, edit_json(lambda d: d.update(sizes=[784, 8.5, 10])),
                               "'sizes' must be a list of 3 to 1000 whole numbers", ALL),
    "config sizes absurd": (CONFIG, edit_json(absurd_sizes), "describe 79,500,000,010 parameters", ALL),
    "config sizes text": (CONFIG, edit_json(lambda d: d.update(sizes="784-8-10")), "'sizes' must be a list", ALL),
    "config bad lr": (CONFIG, edit_json(lambda d: d.update(lr="fast")), "lr must be a positive number", ALL),
    "config data_dir not text": (CONFIG, edit_json(lambda d: d.update(data_dir=5)), "'data_dir' must be a folder", ALL),
    "config not JSON": (CONFIG, lambda p: p.write_text("{ not json"), "is not valid JSON", ALL),
    "layer stats wrong types": (LAYER_STATS, edit_json(lambda d: d.update(layers="many")),
                                "'layers' must be a list of objects", ("diagnose",)),
    "layer stats short series": (LAYER_STATS, edit_json(lambda d: d["layers"][0]["grad_norm"].pop()),
                                 "layer 1's 'grad_norm' must be a list of 3 entries", ("diagnose",)),
}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("good") / "run"
    train(TINY, run_dir=path)
    return path


@pytest.fixture
def damaged_run(good, tmp_path, request):
    """A copy of the good run under ``runs/x`` with one file damaged as the table row says."""
    file, damage, message, commands = DAMAGE[request.param]
    run = tmp_path / "runs" / "x"
    shutil.copytree(good, run)
    damage(run / file)
    return run, file, message, commands


def only_the_layer_figures(monkeypatch) -> list[str]:
    """The options (and, for ``report``, a narrower in-memory drawing) that make `plot` and `report` draw
    only the figures read from layer_stats.json: the ones a damaged file concerns. Drawing the other
    figures and the GIF (tested on a good run in test_cli_plots and test_report) was most of this file's time."""
    import mlplab.viz.report

    real = mlplab.viz.report.render_images

    def render_images(data, theme="dark", *, names=FIGURES, animation=True):
        return real(data, theme, names=[n for n in names if n in FINAL_ONLY], animation=False)

    monkeypatch.setattr(mlplab.viz.report, "render_images", render_images)
    return ["--only", ",".join(FINAL_ONLY), "--no-animation"]


@pytest.mark.parametrize("damaged_run", DAMAGE, indirect=True)
@pytest.mark.parametrize("command", ALL)
def test_cli_gives_one_sentence_naming_the_file(damaged_run, command, monkeypatch):
    run, file, message, commands = damaged_run
    if command not in commands:  # the command does not need the damaged file: it just works
        options = only_the_layer_figures(monkeypatch)
        result = CliRunner().invoke(main, [command, str(run), *(options if command == "plot" else [])])
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        if command == "plot" and file == LAYER_STATS:  # its figures are skipped, saying why
            for name in FINAL_ONLY:
                assert f"skipped {name}: {run / file} is damaged" in result.output and message in result.output
        if command == "report":
            assert (run / "report.html").is_file()
        return
    result = CliRunner().invoke(main, [command, str(run)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (result.exception and not isinstance(result.exception,
                                                                                         SystemExit))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {run / file} is damaged") and message in lines[0], lines[0]


def test_plot_of_a_good_copy_still_works(good, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good, run)
    result = CliRunner().invoke(main, ["plot", str(run), "--only", "accuracy", "--no-animation"])
    assert result.exit_code == 0, result.output


def test_snapshots_checked_against_the_history(good, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(good, run)
    snaps = load_snapshots(run)
    snaps["iterations"] = snaps["iterations"] + 1
    write_npz(run / SNAPSHOTS, snaps)
    with pytest.raises(RunFolderError, match=r"iterations \[1, 21, 41\] are not those of history.json"):
        load_snapshots(run)


# -- the web app ------------------------------------------------------------------------------


def app_client(root: Path) -> TestClient:
    return TestClient(create_app(AppSettings(runs_dir=root, allowed_hosts=("testserver",))))


@pytest.mark.parametrize("damaged_run", DAMAGE, indirect=True)
def test_web_api_answers_4xx_naming_the_file(damaged_run, good):
    run, file, message, commands = damaged_run
    shutil.copytree(good, run.parent / "fine")
    with app_client(run.parent) as client:
        listing = client.get("/api/runs")
        assert listing.status_code == 200
        rows = {row["name"]: row for row in listing.json()["runs"]}
        assert set(rows) == {"x", "fine"} and rows["fine"]["status"] == "completed"
        if file in (CONFIG, HISTORY):
            assert rows["x"]["status"] == "damaged" and file in rows["x"]["error"] and message in rows["x"]["error"]
        urls = ["/api/runs/x", "/api/runs/x/confusion", "/api/runs/x/figure/accuracy.png"]
        if file == LAYER_STATS:
            urls = ["/api/runs/x/figure/layer_health.png"]
        for url in urls:
            response = client.get(url)
            if url == "/api/runs/x" and response.status_code == 200:  # the detail says what is wrong
                detail = response.json()
                assert file in (detail.get("error") or "") or not detail["complete"] or file == SNAPSHOTS
                continue
            assert 400 <= response.status_code < 500, (url, response.text)
            assert file in response.json()["error"] and message in response.json()["error"], response.text


@pytest.mark.parametrize("line", ["null", "[1, 2]", '"text"', "{}", '{"event": 3}', '{"event": "loss"}',
                                  '{"event": "eval", "iteration": "x"}', '{"event": "eval", "iteration": 5, '
                                  '"train_acc": "high"}', "\xff\xfe"])
def test_a_damaged_stream_never_breaks_the_runs_list(good, tmp_path, line):
    root = tmp_path / "runs"
    shutil.copytree(good, root / "fine")
    (root / "x").mkdir()
    shutil.copy(good / CONFIG, root / "x" / CONFIG)
    (root / "x" / STREAM).write_bytes(line.encode("utf-8", "surrogateescape") + b"\n")
    with app_client(root) as client:
        response = client.get("/api/runs")
        assert response.status_code == 200, response.text
        rows = {row["name"]: row for row in response.json()["runs"]}
        assert set(rows) == {"x", "fine"}
        assert rows["x"]["status"] in ("running", "incomplete") and rows["x"]["iterations_done"] == 0
        assert client.get("/").status_code == 200


def test_a_run_whose_summary_cannot_be_read_is_listed_as_damaged(good, tmp_path, monkeypatch):
    from mlplab.app.runs_folder import RunsFolder

    root = tmp_path / "runs"
    shutil.copytree(good, root / "fine")
    shutil.copytree(good, root / "x")
    real = RunsFolder.summary

    def summary(self, name):
        if name == "x":
            raise OSError(5, "Input/output error")
        return real(self, name)

    monkeypatch.setattr(RunsFolder, "summary", summary)
    with app_client(root) as client:
        rows = {row["name"]: row for row in client.get("/api/runs").json()["runs"]}
    assert rows["x"]["status"] == "damaged" and "Input/output error" in rows["x"]["error"]
    assert rows["fine"]["status"] == "completed"


# -- fuzzing the JSON parsers ----------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=30,
)
KEYS = {  # objects with the right keys but arbitrary values reach deeper than random JSON
    CONFIG: ["sizes", "hidden", "iters", "lr", "batch_size", "activation", "optimizer", "dtype", "seed"],
    HISTORY: ["iterations", "train_acc", "test_acc", "loss", "train_loss", "status", "seconds"],
}


def parse_all(raw: bytes) -> None:
    for parse in (run_schema.parse_config, run_schema.parse_history):
        try:
            parse(raw, "file.json")
        except RunFolderError as exc:
            assert "file.json is damaged" in str(exc)
    event = run_schema.parse_stream_line(raw)
    assert event is None or isinstance(event["event"], str)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=100))
def test_fuzz_parsers_with_bytes(raw):
    parse_all(raw)


@settings(max_examples=150, deadline=None)
@given(JSON)
def test_fuzz_parsers_with_any_json(value):
    parse_all(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(KEYS)), st.data())
def test_fuzz_parsers_with_the_right_keys(file, data):
    value = data.draw(st.fixed_dictionaries({}, optional={k: JSON for k in KEYS[file]}))
    value.update(data.draw(st.fixed_dictionaries({}, optional={
        "sizes": st.lists(st.integers(-3, 10**9), max_size=4), "hidden": st.lists(st.integers(-3, 10**9), max_size=3),
        "iterations": st.lists(st.integers(-2, 50), max_size=4),
        "loss": st.lists(st.floats(), max_size=6)})))
    parse_all(json.dumps(value).encode())


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_fuzz_layer_stats(value):
    try:
        run_schema.check_layer_stats(value if isinstance(value, dict) else {"layers": value})
    except RunFolderError:
        pass


def test_a_good_run_passes_every_check(good):
    run = load_run(good)
    assert run.history.status == "completed" and run.sizes == (784, 8, 10)


@st.composite
def plausible_histories(draw) -> dict:
    """Histories with the right shape and any numbers: what parse_history lets through must be usable."""
    n_loss = draw(st.integers(0, 30))
    its = sorted(set(draw(st.lists(st.integers(0, max(n_loss - 1, 0)), max_size=6)))) if n_loss else []
    numbers = st.floats(allow_nan=True, allow_infinity=True)
    d = {"iterations": its, "loss": draw(st.lists(numbers, min_size=n_loss, max_size=n_loss)),
         "status": draw(st.sampled_from(["completed", "diverged", "interrupted", "running"]))}
    for key in ("train_acc", "test_acc"):
        d[key] = draw(st.lists(st.floats(0, 1) | st.just(float("nan")), min_size=len(its), max_size=len(its)))
    for key in ("train_loss", "test_loss", "eval_seconds"):
        if draw(st.booleans()):
            d[key] = draw(st.lists(numbers, min_size=len(its), max_size=len(its)))
    return d


@settings(max_examples=60, deadline=None)
@given(plausible_histories())
def test_an_accepted_history_can_be_diagnosed_and_drawn(d):
    import matplotlib.pyplot as plt

    from mlplab.diagnose import diagnose
    from mlplab.viz.training.curves import plot_accuracy, plot_loss

    try:
        history = run_schema.parse_history(json.dumps(d).encode(), HISTORY)
    except RunFolderError:
        return
    diagnose(history, None, TrainConfig(iters=max(len(history.loss), 1)))
    for plot in (plot_accuracy, plot_loss):
        plt.close(plot(history)["figure"])


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_accepted_layer_stats_can_be_diagnosed_and_drawn(good, data):
    import matplotlib.pyplot as plt

    from mlplab.diagnose import diagnose
    from mlplab.train.layer_stats import LayerStats, _from_json
    from mlplab.viz.diagnose import plot_activation_histograms, plot_gradient_flow, plot_layer_health

    d = _from_json(json.loads((good / LAYER_STATS).read_text()))
    n = len(d["iterations"])
    numbers = st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.integers(-5, 10**6)
    for _ in range(data.draw(st.integers(1, 6))):  # a few values changed to anything
        layer = data.draw(st.sampled_from(d["layers"]))
        k = data.draw(st.integers(0, n - 1))
        key = data.draw(st.sampled_from([*run_schema.LAYER_SERIES, *run_schema.LAYER_HISTOGRAMS, "activation"]))
        if key == "activation":
            layer[key] = data.draw(st.none() | st.text(max_size=8) | st.sampled_from(["sigmoid", "relu", "tanh"]))
        elif key in run_schema.LAYER_HISTOGRAMS:
            bins = data.draw(st.integers(0, 4))
            layer[key][k] = {"counts": data.draw(st.lists(st.integers(0, 10**6), min_size=bins, max_size=bins)),
                             "edges": data.draw(st.lists(st.floats(allow_nan=True, allow_infinity=True),
                                                         min_size=bins + 1, max_size=bins + 1)), "nonfinite": 0}
        else:
            layer[key][k] = data.draw(numbers)
    try:
        run_schema.check_layer_stats(d, LAYER_STATS)
    except RunFolderError:
        return
    stats = LayerStats.from_dict(d)
    run = load_run(good)
    diagnose(run.history, stats, run.config)
    for plot in (plot_layer_health, plot_gradient_flow, plot_activation_histograms):
        plt.close(plot(stats)["figure"])
