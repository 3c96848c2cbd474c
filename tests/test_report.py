"""report.html is one self-contained page: every figure embedded, nothing fetched from anywhere."""

from __future__ import annotations

import base64
import re

import pytest

from mlplab.errors import RunFolderError
from mlplab.train import TrainConfig, train
from mlplab.viz.diagnose import DIAGNOSE_FIGURES
from mlplab.viz.report import CAPTIONS, build_report, differs_from_book, images_from_files, write_report
from mlplab.viz.run_figures import ANIMATION, FIGURES, draw_run_figures, load_run_data

TINY = {"iters": 80, "train_size": 500, "test_size": 300, "eval_every": 40, "seed": 1, "hidden": (8,)}


@pytest.fixture(scope="module")
def run_and_data(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("report") / "run"
    train(TrainConfig(**TINY), run_dir=run_dir)
    return run_dir, load_run_data(run_dir)


@pytest.fixture(scope="module")
def page(run_and_data):
    run_dir, data = run_and_data
    path = write_report(run_dir, data=data)
    assert path == run_dir / "report.html"
    return path.read_text(encoding="utf-8")


def embedded_images(page: str) -> dict[str, bytes]:
    found = re.findall(r'<h2 id="([a-z_]+)">.*?<img src="data:image/(png|gif);base64,([A-Za-z0-9+/=\n]+)"', page,
                       flags=re.S)
    return {name: base64.b64decode(payload) for name, _, payload in found}


def test_report_has_every_figure_and_no_outside_reference(page):
    assert "http" not in page.lower()
    assert "<script" not in page and "<link" not in page and "src=\"data:" in page
    images = embedded_images(page)
    assert set(images) == {*FIGURES, ANIMATION, *DIAGNOSE_FIGURES}
    for name in (*FIGURES, *DIAGNOSE_FIGURES):
        assert images[name].startswith(b"\x89PNG"), name
    assert images[ANIMATION].startswith(b"GIF8")
    assert page.count("<img ") == len(images)
    for heading, _ in CAPTIONS.values():
        assert f">{heading}</h2>" in page
    assert re.search(r'<section class="diagnosis">\s*<h2>Diagnosis</h2>', page)


def test_report_states_the_numbers_and_the_textbooks(run_and_data):
    _, data = run_and_data
    page = build_report(data, {}, theme="light")
    h = data.run.history
    assert f"{h.final_test_acc:.2%}" in page and f"{h.final_train_acc:.2%}" in page
    assert "94.70%" in page and "94.65%" in page  # the book's last evaluation
    assert f"{(h.final_test_acc - 0.9465) * 100:+.2f} points" in page
    assert "hidden=8" in page  # says why the numbers need not match
    assert "#ffffff" in page  # the light theme's background


def test_report_embeds_the_files_train_just_drew(run_and_data):
    run_dir, data = run_and_data
    figures = draw_run_figures(run_dir, names=("accuracy", "loss"), data=data, animation=False)
    images = images_from_files(figures)
    assert images["accuracy"] == ("image/png", figures.paths["accuracy"][0].read_bytes())
    embedded = embedded_images(build_report(data, images))
    assert set(embedded) == {"accuracy", "loss"}
    assert embedded["loss"] == figures.paths["loss"][0].read_bytes()


def test_base64_never_spells_http():
    """Base64 may spell "hTtP" by chance; the page breaks it with a newline, which decoding ignores."""
    from mlplab.viz.report import _data_uri

    data = base64.b64decode("httpQUJDhTtP")  # bytes whose base64 text is exactly this
    uri = _data_uri("image/png", data)
    assert "http" not in uri.lower()
    assert base64.b64decode(uri.split(",", 1)[1]) == data


def test_differences_from_the_book_are_listed():
    assert differs_from_book(TrainConfig()) == []
    assert differs_from_book(TrainConfig(hidden=(100, 50), lr=0.5)) == ["hidden=100,50", "lr=0.5"]


def test_unwritable_report_path_is_a_run_folder_error(run_and_data, tmp_path):
    run_dir, data = run_and_data
    with pytest.raises(RunFolderError, match="--out"):
        write_report(run_dir, data=data, path=tmp_path / "no" / "such" / "dir" / "r.html")
