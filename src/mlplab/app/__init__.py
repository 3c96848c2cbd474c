"""``mlplab serve``: a local web app over the same library functions as the CLI (floor 4, an interface).

Pages (plain HTML/CSS/JS in ``static/``, no build step; plotly.js served from the installed
``plotly`` package, so the app works offline):

- **Runs** (``/``): every run folder in the runs folder, live or finished; overlay their curves;
- **Run** (``/run/NAME``): curves, hidden units, confusion matrix (click a cell: its digits),
  the network for a chosen test digit (click a hidden unit: its 28×28 weights), the diagnosis, and a
  slider that replays any evaluation from ``snapshots.npz``;
- **Train** (``/train``): start a training in a background worker and watch it live (Server-Sent
  Events that follow the run's ``stream.jsonl``), with a Stop button;
- **Landscape** (``/landscape``): optimizers on a 2-D surface; click to set the start.

Why FastAPI (Starlette) with uvicorn: request bodies are validated with bounds declared once, as
types (pydantic), so every bad value becomes a 422 with a message instead of a crash; streaming
responses give Server-Sent Events without extra libraries; ``TestClient`` tests every endpoint
in-process; and uvicorn is a small pure-Python server that runs on any laptop.

Modules: :mod:`~mlplab.app.server` (the app factory and ``serve``), :mod:`~mlplab.app.runs_folder`
(safe names, listing, cached run data), :mod:`~mlplab.app.schemas` (every request and its bounds),
:mod:`~mlplab.app.api_runs`, :mod:`~mlplab.app.api_predict` (a drawn digit through a run's network),
:mod:`~mlplab.app.api_train` (the worker manager), :mod:`~mlplab.app.api_landscape`,
:mod:`~mlplab.app.streaming` (following ``stream.jsonl``).
"""

from mlplab.app.server import AppSettings, create_app

__all__ = ["AppSettings", "create_app"]
