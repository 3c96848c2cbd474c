"""Backprop, step by step, on one image of a run: the stages of ``mlplab explain`` (issue 16).

- :mod:`~mlplab.explain.stages` — every forward and backward stage from the network's own layers,
  each checked by central differences, and one SGD step;
- :mod:`~mlplab.explain.numerical` — the central differences themselves;
- :mod:`~mlplab.explain.run` — the same for image ``index`` of a run folder, at any evaluation;
- :mod:`~mlplab.explain.text` and :mod:`~mlplab.explain.html` — the terminal view and the HTML
  section of ``report.html`` / ``mlplab explain --html``.
"""

from mlplab.explain.numerical import central_differences
from mlplab.explain.run import RunExplanation, explain_run, initial_network
from mlplab.explain.stages import Explanation, Stage, explain_image, float64_copy

__all__ = ["Explanation", "RunExplanation", "Stage", "central_differences", "explain_image",
           "explain_run", "float64_copy", "initial_network"]
