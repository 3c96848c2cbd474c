"""Diagnose a run like an expert: rules over the recorded history and layer statistics.

>>> for insight in diagnose_run("runs/lr1000"):          # doctest: +SKIP
...     print(insight.title)
Learning rate too high (lr=1000)
Saturated hidden units

``diagnose(history, layer_stats, config)`` works on in-memory records; ``diagnose_run(run_dir)``
reads them from a run folder; ``format_insights`` makes the short table ``mlplab diagnose`` prints;
``diagnosis_html`` the same as an HTML fragment for the report. Each finding carries its
``prescriptions`` (:mod:`mlplab.diagnose.prescribe`); :mod:`mlplab.diagnose.verify` measures them.
"""

from __future__ import annotations

import html
import os
import textwrap

from mlplab.diagnose.insight import SEVERITIES, Insight
from mlplab.diagnose.prescribe import prescribe
from mlplab.diagnose.rules import RULES
from mlplab.errors import DataError, RunFolderError
from mlplab.train.config import TrainConfig
from mlplab.train.history import History
from mlplab.train.layer_stats import LAYER_STATS, LayerStats, load_layer_stats
from mlplab.train.run_folder import load_run

#: Findings that a more specific one already explains: (dropped rule, rules that explain it).
EXPLAINED_BY = {
    # A NaN insight already names the learning rate as the cause, with the same evidence.
    "lr-too-high": ("nan-loss",),
    # Dead or saturated units pass no gradient back: the small first-layer gradient is their effect.
    "vanishing-gradients": ("dead-relu", "saturation"),
    # A plateau is the symptom; these are its causes, each with a more useful suggestion.
    "plateau": ("nan-loss", "lr-too-high", "lr-too-low", "saturation", "dead-relu", "vanishing-gradients"),
}


def diagnose(history: History, layer_stats: LayerStats | None, config: TrainConfig) -> list[Insight]:
    """Run every rule in :data:`~mlplab.diagnose.rules.RULES`; ``layer_stats`` may be ``None``."""
    found = [insight for rule in RULES if (insight := rule(history, layer_stats, config)) is not None]
    fired = {insight.rule for insight in found}
    return [i for i in found if not fired.intersection(EXPLAINED_BY.get(i.rule, ()))]


def diagnose_run(run_dir: str | os.PathLike, *, prescriptions: bool = True) -> list[Insight]:
    """Diagnose a run folder. Without ``layer_stats.json`` only the loss-based rules can speak, and an
    ``info`` insight says so. Raises :class:`RunFolderError` for a missing or damaged folder.

    With ``prescriptions`` each finding gets its computed settings (:mod:`mlplab.diagnose.prescribe`:
    this loads the training data and measures the run's start, about a second or two).
    """
    run = load_run(run_dir)
    try:
        stats = load_layer_stats(run_dir)
    except RunFolderError:
        if (run.path / LAYER_STATS).exists():
            raise  # damaged, not merely absent
        stats = None
    insights = diagnose(run.history, stats, run.config)
    if prescriptions:
        try:
            insights = prescribe(insights, run)
        except DataError as exc:  # the findings stand; only the computed options are missing
            insights.append(Insight(rule="no-options", severity="info", title="No options computed",
                                    evidence=(str(exc),), suggestion="follow the suggestions in words."))
    if stats is None:
        insights.append(Insight(
            rule="no-layer-stats", severity="info", title="No layer statistics recorded",
            evidence=(f"{run.path} has no {LAYER_STATS}, so only the loss-based rules were checked",),
            suggestion="re-run the training with this version of mlplab to record them.",
        ))
    return insights


def format_insights(insights: list[Insight], width: int = 100) -> str:
    """A short plain-text table: one block per insight with its evidence and suggestion."""
    if not insights:
        return f"No problems found ({len(RULES)} rules checked: NaN loss, learning rate, saturation, " \
               "dead ReLU, vanishing gradients, over- and under-fitting)."
    ordered = sorted(insights, key=lambda i: SEVERITIES.index(i.severity))
    lines = [f"{'severity':<9} {'rule':<20} finding"]
    indent = " " * 31
    prescribed: dict[tuple[str, ...], str] = {}  # options already printed → the rule that printed them
    for insight in ordered:
        lines.append(f"{insight.severity:<9} {insight.rule:<20} {insight.title}")
        for label, texts in (("evidence", insight.evidence), ("try", (insight.suggestion,))):
            for text in texts:
                lines.extend(_labelled(indent, label, text, width))
        key = tuple(p.options() for p in insight.prescriptions)
        if key and key in prescribed:
            lines.extend(_labelled(indent, "options", f"the same as for {prescribed[key]}", width))
            continue
        prescribed[key] = insight.rule
        for k, p in enumerate(insight.prescriptions):
            lines.extend(_labelled(indent, "then" if k else "options", f"{p.options()}   ({p.why})", width))
    return "\n".join(lines)


def _labelled(indent: str, label: str, text: str, width: int) -> list[str]:
    """``label:  text`` wrapped under the label's column."""
    wrapped = textwrap.wrap(text, width=width - len(indent) - 10) or [""]
    return [f"{indent}{label + ':':<10}{wrapped[0]}", *(f"{indent}{'':<10}{more}" for more in wrapped[1:])]


def diagnosis_html(run_dir: str | os.PathLike) -> str:
    """The report's "Diagnosis" section as an HTML fragment (a ``<section>``, escaped text)."""
    insights = diagnose_run(run_dir)
    parts = ['<section class="diagnosis">', "<h2>Diagnosis</h2>"]
    if not insights:
        parts.append(f"<p>{html.escape(format_insights([]))}</p>")
    else:
        parts.append("<table><thead><tr><th>severity</th><th>finding</th><th>evidence</th>"
                     "<th>try</th><th>options (computed from the run)</th></tr></thead><tbody>")
        for i in sorted(insights, key=lambda i: SEVERITIES.index(i.severity)):
            evidence = "".join(f"<li>{html.escape(e)}</li>" for e in i.evidence)
            options = "".join(f"<li><code>{html.escape(p.options())}</code>: {html.escape(p.why)}</li>"
                              for p in i.prescriptions)
            parts.append(
                f'<tr class="{html.escape(i.severity)}" data-rule="{html.escape(i.rule)}">'
                f"<td>{html.escape(i.severity)}</td><td>{html.escape(i.title)}</td>"
                f"<td><ul>{evidence}</ul></td><td>{html.escape(i.suggestion)}</td>"
                f"<td>{f'<ul>{options}</ul>' if options else '—'}</td></tr>"
            )
        parts.append("</tbody></table>")
    parts.append("</section>")
    return "\n".join(parts)


__all__ = ["Insight", "RULES", "diagnose", "diagnose_run", "diagnosis_html", "format_insights"]
