"""report.html is one self-contained page: every figure embedded, nothing fetched from anywhere."""

from __future__ import annotations

import base64
import dataclasses
import re

import pytest

from mlplab.data.reference import book_differences, load_book_curve
from mlplab.errors import RunFolderError
from mlplab.nn import build_network
from mlplab.train import History, TrainConfig, train
from mlplab.viz.report import CAPTIONS, build_report, images_from_files, write_report
from mlplab.viz.training.run_figures import ANIMATION, FIGURES, draw_run, load_run_data

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


def test_outside_references_are_found(outside_references):
    """The check itself: each of these pages loads something from outside."""
    for page in ('<img src="https://example.org/a.png">', '<a href="report2.html">x</a>',
                 '<script>1</script>', '<link rel=stylesheet href=x.css>', "<style>body{background:url(x.png)}</style>",
                 '<img srcset="//cdn/x.png 2x" src="data:image/png;base64,AA==">'):
        assert outside_references(page), page
    assert outside_references('<img src="data:image/png;base64,aHR0cA=="><a href="#loss">') == []


def test_report_has_every_figure_and_no_outside_reference(page, outside_references):
    assert outside_references(page) == []
    assert "src=\"data:" in page
    images = embedded_images(page)
    assert set(images) == {*FIGURES, ANIMATION}
    for name in FIGURES:
        assert images[name].startswith(b"\x89PNG"), name
    assert images[ANIMATION].startswith(b"GIF8")
    assert page.count("<img ") == len(images)
    for heading, _ in CAPTIONS.values():
        assert f">{heading}</h2>" in page
    assert re.search(r'<section class="diagnosis">\s*<h2>Diagnosis</h2>', page)


def test_report_states_the_saved_models_numbers_and_no_book_for_another_run(run_and_data):
    _, data = run_and_data
    page = build_report(data, {}, theme="light")
    h = data.run.history
    assert h.iterations[-1] == len(h.loss) - 1 == 79  # the last evaluation is the saved model
    assert f"test accuracy (final model, after 80 iterations)</th><td>{h.final_test_acc:.2%}" in page
    assert f"{h.final_train_acc:.2%}" in page
    assert "Not compared" in page and "hidden=8" in page and "train_size=500" in page  # and why
    assert "94.65%" not in page  # the book's numbers say nothing about this run
    assert "#ffffff" in page  # the light theme's background


def test_report_states_the_validation_numbers_of_a_run_that_held_images_out(tmp_path, run_and_data):
    run_dir = tmp_path / "run"
    train(TrainConfig(**{**TINY, "validation": 100}), run_dir=run_dir)
    data = load_run_data(run_dir)
    h = data.run.history
    # the network's own accuracy on the held-out rows, measured here independently of the history
    from mlplab.train.prepare import load_dataset, validation_rows

    (x_train, t_train), _ = load_dataset(data.run.config)
    _, held_out = validation_rows(data.run.config, x_train.shape[0])
    predicted = data.run.network.predict(x_train[held_out]).argmax(axis=1)
    measured = float((predicted == t_train[held_out].reshape(-1)).mean())
    assert h.val_acc[-1] == pytest.approx(measured)
    page = build_report(data, {})
    assert ("validation accuracy (final model, after 80 iterations; 100 held-out training images)</th>"
            f"<td>{measured:.2%}") in page
    assert f"{h.val_loss[-1]:.4f}" in page
    _, plain = run_and_data  # no images held out: no validation rows
    assert "validation accuracy" not in build_report(plain, {})


def test_report_compares_the_book_run_at_iteration_9600_and_shows_the_final_model(run_and_data):
    """A textbook run's page: the book's last evaluation (9600) beside this run's, the final model apart."""
    _, data = run_and_data
    history = History(iterations=[0, 9600, 9999], train_acc=[0.1, 0.9512, 0.9530], test_acc=[0.1, 0.9481, 0.9499],
                      train_loss=[2.3, 0.2, 0.19], test_loss=[2.3, 0.2, 0.18], eval_seconds=[0, 1, 2],
                      loss=[0.2] * 10_000, status="completed")
    book_run = dataclasses.replace(data.run, config=TrainConfig(seed=0), history=history,
                                   network=build_network((784, 50, 10), seed=0))
    assert book_differences(book_run.config, book_run.sizes) == []
    page = build_report(dataclasses.replace(data, run=book_run), {})
    book = load_book_curve()
    assert book.last_iteration == 9600 and f"{book.final_test_acc:.2%}" == "94.65%"  # the CSV's last row
    # a run folder of an older mlplab (no final evaluation) or a diverged run: the page says what it shows
    older = dataclasses.replace(history, iterations=[0, 9600], train_acc=[0.1, 0.9512], test_acc=[0.1, 0.9481],
                                train_loss=[2.3, 0.2], test_loss=[2.3, 0.2], eval_seconds=[0, 1])
    older_page = build_report(dataclasses.replace(data, run=dataclasses.replace(book_run, history=older)), {})
    assert "test accuracy (last evaluation, after iteration 9,600; the saved weights were not measured)" in older_page
    assert "test accuracy (final model, after 10,000 iterations)</th><td>94.99%" in page
    assert "<th>after iteration 9600</th>" in page
    assert "<td class=num>94.81%</td><td class=num>94.65%</td><td class=num>+0.16 points</td>" in page


def test_report_embeds_the_files_train_just_drew(run_and_data):
    run_dir, data = run_and_data
    figures = draw_run(run_dir, names=("accuracy", "loss"), data=data, animation=False)
    images = images_from_files(figures)
    assert images["accuracy"] == ("image/png", figures.paths["accuracy"][0].read_bytes())
    embedded = embedded_images(build_report(data, images))
    assert set(embedded) == {"accuracy", "loss"}
    assert embedded["loss"] == figures.paths["loss"][0].read_bytes()


def test_data_uri_is_plain_base64_even_where_it_spells_http():
    from mlplab.viz.report import _data_uri

    data = base64.b64decode("httpQUJDhTtP")  # bytes whose base64 text spells "http" twice
    uri = _data_uri("image/png", data)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1], validate=True) == data  # validate: no stray characters


def test_unwritable_report_path_is_a_run_folder_error(run_and_data, tmp_path):
    run_dir, data = run_and_data
    with pytest.raises(RunFolderError, match="--out"):
        write_report(run_dir, data=data, path=tmp_path / "no" / "such" / "dir" / "r.html")
