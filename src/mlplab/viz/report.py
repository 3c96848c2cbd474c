"""``report.html``: one self-contained page about a run, to open offline or send to someone.

Everything is inside the file: the styles, and every figure as a base64 ``data:`` image. There are
no scripts and no links to anything outside it, so it shows the same on a laptop without network
as in a mail attachment. It holds the configuration, the saved model's numbers, a comparison with the
textbook's published accuracies (for the book's own settings, at its last evaluation) and every
figure of :mod:`mlplab.viz.training.run_figures` with a caption that says how to read it.
"""

from __future__ import annotations

import base64
import html
import os
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from mlplab.data.reference import ReferenceCurve, book_differences, load_book_curve
from mlplab.errors import RunFolderError
from mlplab.explain.html import report_section as backprop_section
from mlplab.train.run_folder import atomic_write_text, clean_stale_temp_files
from mlplab.viz.theme import check_theme, colors
from mlplab.viz.training.drawing_processes import DrawWhileTraining
from mlplab.viz.training.run_figures import (
    ANIMATION,
    FIGURES,
    FigureSet,
    RunData,
    draw_run,
    load_run_data,
    render_images,
)

REPORT = "report.html"

#: Section title and how to read each figure (the same words as the README's figure table).
CAPTIONS: dict[str, tuple[str, str]] = {
    "accuracy": ("Accuracy", "Share of correctly classified digits on the training set (solid) and the test set "
                 "(dashed) at each evaluation; the shaded band is the gap between them (overfitting would "
                 "widen it). For the textbook's own settings only, faint grey lines show the book's published "
                 "run. The inset zooms on the end of the run, where the curves are too close to tell apart. A run "
                 "that held training images out (--validation) also shows its accuracy on them (dash-dot)."),
    "loss": ("Loss", "Cross-entropy of each mini-batch (faint: noisy, since every batch is different), its "
             "moving average, and the loss on the whole test set at each evaluation."),
    "architecture": ("The network", "The network at its real sizes. Left: test digit #0 and the input pixels "
                     "that drive the hidden layer hardest for it. Edges are the strongest learned weights "
                     "(blue negative, red positive, thicker = larger); each node is filled by its activation "
                     "for this digit, the outputs by their softmax probability, the prediction ringed."),
    "hidden_units": ("Hidden units", "Each hidden unit's input weights drawn as a 28×28 image: red pixels "
                     "excite the unit, blue ones inhibit it. The units learn strokes and blob detectors."),
    ANIMATION: ("Hidden units while learning", "The same grid at every evaluation: from random noise to "
                "strokes. All frames share one colour scale (the colour bar), so the weights are seen "
                "growing from their small start; the last frame is the final model."),
    "confusion": ("Confusion matrix", "Rows: the true digit; columns: the prediction; each cell counts test "
                  "digits. The diagonal is right; the colour is the share of the row, so the most "
                  "frequent confusions stand out."),
    "mistakes": ("Mistakes", "Misclassified test digits, the most confidently wrong first: "
                 "true → predicted, and the probability the network gave its (wrong) answer."),
    "predictions": ("Predictions", "A few test digits, each beside its 10 softmax probabilities; the "
                    "predicted class is green when right, vermilion when wrong (the true class outlined)."),
    "gradcheck": ("Gradient check", "Backpropagation against central differences on the network this run started from "
                  "(rebuilt from its seed, as the book's gradient_check.py checks a fresh network): "
                  "|numerical − backprop| for every weight (log colour scale) and each parameter's relative "
                  "error, which should be far below the tolerance."),
    "layer_health": ("Layer health", "Per layer, at each evaluation and on a log scale: the weight norm ‖W‖, the "
                     "gradient norm ‖∇W‖ and the update ratio ‖ΔW‖/‖W‖ of the last step (healthy runs sit "
                     "near 1e-3, the dashed line; far above means the learning rate is too high, far below too low). "
                     "Bottom: lr·λ_max, the learning rate times the sharpest curvature of the loss surface; above "
                     "the stability limit (2 for SGD) a step overshoots along that direction and the loss grows."),
    "gradient_flow": ("Gradient flow", "The gradient norm of each layer at each evaluation, first layer to last: "
                      "a first layer whose gradient is orders of magnitude below the last one's is not learning "
                      "(vanishing gradients)."),
    "activations": ("Activations", "Histograms of each hidden layer's activations on a fixed probe batch at every "
                    "evaluation: mass piling up at 0 and 1 (sigmoid) or ±1 (tanh) means saturated units, a "
                    "ReLU layer stuck at 0 means dead units."),
}

_STYLE = """
body {{ background: {background}; color: {foreground}; font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
       sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5em; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid {muted}; padding-bottom: 0.2em; }}
table {{ border-collapse: collapse; margin: 0.5em 0; }}
#backprop table {{ display: block; overflow-x: auto; }}  /* wider than a phone: it scrolls, not the page */
td, th {{ padding: 0.2em 1em 0.2em 0; text-align: left; vertical-align: top; }}
th {{ font-weight: 600; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.muted {{ color: {muted}; }}
.status {{ display: inline-block; padding: 0.05em 0.6em; border-radius: 0.8em; color: {background};
           background: {status}; font-weight: 600; }}
figure {{ margin: 0.5em 0 1.5em 0; }}
figure img {{ max-width: 100%; height: auto; display: block; }}
figcaption {{ color: {muted}; max-width: 60em; margin-top: 0.3em; }}
code {{ font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 0.95em; }}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.2%}"


def _data_uri(mime: str, data: bytes) -> str:
    """``data:image/png;base64,…``: the image inside the page, so it needs no file and no network."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def comparison_html(data: RunData, book: ReferenceCurve) -> str:
    """The run beside the textbook at the book's last evaluation (after iteration 9600), for the book's
    own settings only; any other run gets one line saying why it is not compared."""
    run, h = data.run, data.run.history
    differs = book_differences(run.config, run.sizes)
    if differs:
        return ("<p class=muted>Not compared: this run differs from the textbook's ch. 4 run ("
                + html.escape(", ".join(differs)) + "), so the book's numbers say nothing about it.</p>")
    mine = h.accuracies_at(book.last_iteration)
    if mine is None:
        return (f"<p class=muted>Not compared: this run has no evaluation after iteration {book.last_iteration}, "
                "the book's last one.</p>")
    rows = []
    for name, at_book, theirs in (("train", mine[0], book.final_train_acc), ("test", mine[1], book.final_test_acc)):
        rows.append(f"<tr><th>{name} accuracy</th><td class=num>{_pct(at_book)}</td>"
                    f"<td class=num>{_pct(theirs)}</td><td class=num>{(at_book - theirs) * 100:+.2f} points</td></tr>")
    return (f"<table><tr><th>after iteration {book.last_iteration}</th><th>this run</th><th>textbook</th>"
            "<th>difference</th></tr>" + "".join(rows) + "</table>"
            f"<p class=muted>Both at the book's last evaluation (after iteration {book.last_iteration}); the summary "
            "above gives this run's final model, which had the remaining updates. The run used the textbook's "
            "settings, so its numbers should be close (the book set no seed, so they are not identical). "
            f"Textbook: {html.escape(book.source)}</p>")


def summary_html(data: RunData) -> str:
    run, h = data.run, data.run.history
    c = run.config
    if h.measured_saved_model:
        which = f"final model, after {len(h.loss):,} iterations"
    else:
        which = f"last evaluation, after iteration {h.iterations[-1]:,}; the saved weights were not measured"
    rows = [
        ("network", run.network.describe()),
        ("status", h.status + (f": {h.message}" if h.message else "")),
        ("iterations", f"{len(h.loss):,} of {c.iters:,} ({h.n_evaluations} evaluations)"),
        (f"train accuracy ({which})", _pct(h.final_train_acc)),
        (f"test accuracy ({which})", _pct(h.final_test_acc)),
        (f"test loss ({which})", "–" if not h.test_loss else f"{h.test_loss[-1]:.4f}"),
        *([(f"validation accuracy ({which}; {c.validation:,} held-out training images)", _pct(h.val_acc[-1])),
           (f"validation loss ({which})", f"{h.val_loss[-1]:.4f}")] if h.val_acc else []),
        ("training time", f"{h.seconds:.1f} s"),
        ("test digits", f"{data.x_test.shape[0]:,}"),
    ]
    return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows) \
        + "</table>"


def config_html(data: RunData) -> str:
    items = data.run.config.to_dict()
    cells = "".join(f"<tr><th><code>{html.escape(str(k))}</code></th><td><code>{html.escape(str(v))}</code></td></tr>"
                    for k, v in items.items())
    return f"<table>{cells}</table>"


def build_report(data: RunData, images: dict[str, tuple[str, bytes]], *, theme: str = "dark",
                 diagnosis: str = "", backprop: str | None = None) -> str:
    """The whole page as a string. ``images`` maps figure names to ``(mime type, bytes)``;
    ``diagnosis`` is the HTML fragment of :func:`mlplab.diagnose.diagnosis_html`, ``backprop`` that of
    :func:`mlplab.explain.html.report_section` (computed here when not given)."""
    c = colors(check_theme(theme))
    status_colour = c["good"] if data.run.history.status == "completed" else c["bad"]
    style = _STYLE.format(background=c["background"], foreground=c["foreground"], muted=c["reference"],
                          status=status_colour)
    h = data.run.history
    title = f"mlplab run {data.run.path.name}: {data.run.network.describe()}"
    parts = [
        "<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{style}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p><span class="status">{html.escape(h.status)}</span> '
        f'<span class="muted">folder <code>{html.escape(str(data.run.path))}</code></span></p>',
        "<h2>Summary</h2>", summary_html(data),
        "<h2>Compared with the textbook</h2>", comparison_html(data, load_book_curve()),
        diagnosis,
    ]
    for name in (*FIGURES[:4], ANIMATION, *FIGURES[4:]):
        if name not in images:
            continue
        heading, caption = CAPTIONS[name]
        mime, payload = images[name]
        parts.append(f'<h2 id="{name}">{html.escape(heading)}</h2><figure>'
                     f'<img src="{_data_uri(mime, payload)}" alt="{html.escape(heading)}">'
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    # mlplab.explain: every stage of backprop for one test image
    parts.append(backprop if backprop is not None else backprop_section(data))
    parts += ["<h2>Configuration</h2>", config_html(data),
              f'<p class="muted">Written by mlplab {html.escape(_version())} on '
              f"{datetime.now():%Y-%m-%d %H:%M}. Redraw with <code>mlplab report "
              f"{html.escape(str(data.run.path))}</code>.</p>",
              "</body></html>"]
    return "\n".join(parts) + "\n"


def diagnosis_section(run_dir: str | os.PathLike) -> str:
    """The "Diagnosis" fragment, or a line saying why there is none (the report is still written)."""
    from mlplab.diagnose import diagnosis_html

    try:
        return diagnosis_html(run_dir)
    except RunFolderError as exc:
        return f'<section class="diagnosis"><h2>Diagnosis</h2><p>Not available: {html.escape(str(exc))}</p></section>'


def _version() -> str:
    try:
        return version("mlplab")
    except PackageNotFoundError:
        return "(not installed)"


def images_from_files(figures: FigureSet) -> dict[str, tuple[str, bytes]]:
    """The PNGs (and the GIF) that :func:`draw_run` wrote, read back for embedding."""
    images = {}
    for name, paths in figures.paths.items():
        for path in paths:
            if path.suffix in (".png", ".gif"):
                images[name] = (f"image/{path.suffix[1:]}", path.read_bytes())
    return images


def write_report(
    run_dir: str | os.PathLike,
    *,
    theme: str = "dark",
    figures: FigureSet | None = None,
    data: RunData | None = None,
    path: str | os.PathLike | None = None,
    sections: dict[str, str] | None = None,
) -> Path:
    """Write ``RUN/report.html`` (or ``path``) and return its path.

    With ``figures`` (what :func:`draw_run` just wrote) the report embeds those files, so
    nothing is drawn twice; any figure missing there (or everything, without ``figures``) is drawn
    in memory.
    """
    out = Path(path) if path is not None else Path(run_dir) / REPORT
    if not out.parent.is_dir():  # say so before spending seconds on drawing
        raise RunFolderError(f"cannot write the report to {out}: folder {out.parent} does not exist; "
                             "create it or choose another place with --out.")
    data = data if data is not None else load_run_data(run_dir)
    images = images_from_files(figures) if figures is not None else {}
    skipped = figures.skipped if figures is not None else {}  # what cannot be drawn is not tried again
    missing = [name for name in FIGURES if name not in images and name not in skipped]
    if missing or (ANIMATION not in images and ANIMATION not in skipped):
        rendered = render_images(data, theme, names=missing, animation=ANIMATION not in images)
        images.update(rendered)
    clean_stale_temp_files(out.parent)  # a killed `report` left its half-written page here
    try:
        sections = sections if sections is not None else report_sections(run_dir, data)
        atomic_write_text(out, build_report(data, images, theme=theme, **sections))
    except OSError as exc:
        raise RunFolderError(
            f"cannot write the report to {out} ({exc.strerror or type(exc).__name__}); "
            "choose a writable place with --out."
        ) from None
    return out


def draw_run_and_report(
    run_dir: str | os.PathLike, *, theme: str = "dark", formats: tuple[str, ...] = ("png",), report: bool = True,
    workers: int | None = 1, drawing: DrawWhileTraining | None = None,
) -> tuple[FigureSet, Path | None]:
    """Every figure of the run and (with ``report``) ``report.html``: what ``mlplab train`` and a training
    started from the web app do when it ends. The run folder is read once for both; ``workers`` as for
    :func:`~mlplab.viz.training.run_figures.draw_run` (the CLI and the web app pass ``None``: two processes);
    ``drawing``: the processes started with the training, and what they drew while it ran."""
    data = load_run_data(run_dir)
    sections: dict[str, str] = {}

    def prepare() -> None:  # the text of the page, while a worker process still draws figures
        sections.update(report_sections(run_dir, data))

    figures = draw_run(run_dir, theme=theme, formats=formats or ("png",), data=data,
                       workers=workers, processes=drawing.processes if drawing else None,
                       drawn_at_start=drawing.future if drawing else None, while_waiting=prepare if report else None)
    page = write_report(run_dir, theme=theme, figures=figures, data=data, sections=sections or None) if report else None
    return figures, page


def report_sections(run_dir: str | os.PathLike, data: RunData) -> dict[str, str]:
    """The page's computed HTML fragments (no figure among them): the diagnosis and backprop, step by step."""
    return {"diagnosis": diagnosis_section(run_dir), "backprop": backprop_section(data)}
