"""HTML of the stages, without scripts: the "Backprop, step by step" section of ``report.html`` and the page
``mlplab explain --html`` writes. The samples are those of the terminal view (:mod:`mlplab.explain.text`);
the interactive version (heat maps, hover formulas) is the web app's Backprop page.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import numpy as np

from mlplab.explain.run import RunExplanation, explain_run
from mlplab.explain.stages import Stage
from mlplab.explain.text import CHECK_TOLERANCE, number, sample

if TYPE_CHECKING:
    from mlplab.viz.training.run_figures import RunData

#: The test image the report explains (the same digit as the report's architecture figure).
REPORT_INDEX = 0

_PAGE_STYLE = """
body { background: #111418; color: #e6e6e6; font: 15px/1.5 system-ui, sans-serif; max-width: 1100px;
       margin: 0 auto; padding: 1.5em; }
h2 { font-size: 1.25em; border-bottom: 1px solid #a3aab4; }
table { border-collapse: collapse; } td, th { padding: 0.2em 1em 0.2em 0; text-align: left; vertical-align: top; }
.muted { color: #a3aab4; } code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
"""


def digit_svg(x: np.ndarray, size: int = 112) -> str:
    """The image ``x`` (784 values in [0, 1]) as a small inline SVG, ink dark on white."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    side = int(round(np.sqrt(x.size)))
    if side * side != x.size:
        return ""
    cells = "".join(f'<rect x="{k % side}" y="{k // side}" width="1" height="1" fill-opacity="{x[k]:.3f}"/>'
                    for k in np.flatnonzero(x > 0))
    return (f'<svg viewBox="0 0 {side} {side}" width="{size}" height="{size}" role="img" '
            f'aria-label="the test image"><rect width="{side}" height="{side}" fill="#fff"/>'
            f'<g fill="#000">{cells}</g></svg>')


def _row(stage: Stage) -> str:
    check = "—" if stage.check is None else f"{stage.check:.1e}" + ("" if stage.check < CHECK_TOLERANCE else " ⚠")
    shape = "×".join(str(s) for s in stage.shape) or "scalar"
    nowrap = ' style="white-space: nowrap"'
    return (f"<tr><th{nowrap}><code>{html.escape(stage.name)}</code></th>"
            f"<td{nowrap}><code>{html.escape(stage.formula)}</code></td><td class=num>{shape}</td>"
            f"<td><code>{html.escape(sample(stage.value))}</code></td><td class=num{nowrap}>{check}</td></tr>")


def explanation_section(r: RunExplanation) -> str:
    """``<section id="backprop">`` with the image, every stage, the checks and the SGD step."""
    e = r.explanation
    head = "<tr><th>stage</th><th>formula</th><th>shape</th><th>numbers (sample)</th><th>check</th></tr>"
    worst = max(e.checks.values(), default=0.0)
    y = e.stage("y").value.reshape(-1)
    return "\n".join([
        '<section id="backprop"><h2>Backprop, step by step</h2>',
        f'<div style="display:flex;gap:1.2em;align-items:center">{digit_svg(e.stage("x").value)}<p>'
        f"Test image #{r.index}, label <b>t = {e.label}</b>, prediction <b>{e.prediction}</b> "
        f"(y[{e.prediction}] = {number(y[e.prediction])}); loss <code>L = −log y[{e.label}] = "
        f"{number(e.loss)}</code>. Weights: {html.escape(r.weights)}. Each stage is computed by the network's own "
        "layers; the forward checks compare each layer's backward with central differences of its forward, "
        "the backward checks compare ∂L/∂v with central differences of L itself "
        f"(float64, h = {e.h:g}; the largest relative error is {worst:.1e}).</p></div>",
        f"<h3>Forward</h3><table>{head}{''.join(_row(s) for s in e.forward)}</table>",
        f"<h3>Backward</h3><table>{head}{''.join(_row(s) for s in e.backward)}</table>",
        f"<p>One SGD step on this image, <code>W ← W − lr·∂L/∂W</code> with lr = {e.lr:g}: the loss on it goes "
        f"from {number(e.loss)} to <b>{number(e.loss_after)}</b>.</p>",
        f'<p class="muted">All the numbers: <code>mlplab explain {html.escape(r.run)} --index {r.index} --json '
        "stages.json</code>; step through them in the web app's Backprop page.</p></section>",
    ])


def report_section(data: RunData) -> str:
    """The report's section for test image :data:`REPORT_INDEX`, or a line saying why there is none."""
    from mlplab.errors import MlplabError

    try:
        return explanation_section(explain_run(data, REPORT_INDEX))
    except MlplabError as exc:
        return f'<section id="backprop"><h2>Backprop, step by step</h2><p>Not available: {html.escape(str(exc))}</p>' \
               "</section>"


def explanation_page(r: RunExplanation) -> str:
    """A whole self-contained page around :func:`explanation_section` (``mlplab explain --html``)."""
    title = f"mlplab explain {r.run}: test image #{r.index}"
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_PAGE_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=muted>{html.escape(r.network)}</p>\n"
            f"{explanation_section(r)}\n</body></html>\n")
