"""``/api/sweeps``: the sweep folders in the runs folder (made by ``mlplab sweep``) with their figures.

A sweep folder holds one run folder per run, ``summary.csv`` (one row per run, see
:mod:`mlplab.sweep.summary`) and the figures :func:`mlplab.viz.sweep.sweep_figures` drew from it; this
module sends the rows and serves those figures, read from inside the runs folder only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from mlplab.app.responses import ForbiddenError, NotFoundError, answer
from mlplab.app.runs_folder import RunsFolder, check_name

router = APIRouter(prefix="/api/sweeps", tags=["sweeps"])
#: the formats ``mlplab sweep --format`` writes that a browser shows
SHOWN_FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


def _runs(request: Request) -> RunsFolder:
    return request.app.state.runs


def _figure_files(runs: RunsFolder, name: str) -> dict[str, str]:
    """figure key → file name, for the sweep figures present in the folder (PNG preferred)."""
    from mlplab.viz.sweep import FIGURES

    folder = runs.root / name
    found = {}
    for key, stem in FIGURES.items():
        for ext in SHOWN_FORMATS:
            if (folder / f"{stem}.{ext}").is_file():
                found[key] = f"{stem}.{ext}"
                break
    return found


@router.get("")
def list_sweeps(request: Request) -> Response:
    """Every sweep folder: its rows from ``summary.csv``, how its runs ended, and its figures."""
    from mlplab.errors import MlplabError
    from mlplab.sweep.runner import SUMMARY
    from mlplab.sweep.summary import read_summary

    runs = _runs(request)
    sweeps = []
    for name in runs.sweeps():
        entry = {"name": name, "figures": list(_figure_files(runs, name)), "rows": [], "error": None}
        try:
            entry["rows"] = read_summary(runs.root / name / SUMMARY)
        except (OSError, ValueError, KeyError, MlplabError) as exc:
            entry["error"] = f"{SUMMARY} cannot be read ({exc}); re-run `mlplab sweep` into {name} to rewrite it."
        sweeps.append(entry)
    return answer({"sweeps": sweeps})


@router.get("/{name}/figure/{figure}")
def sweep_figure(request: Request, name: str, figure: str) -> Response:
    """One of the sweep's figures (``accuracy_vs_lr``, ``heatmap``, ``curves``, ``best``) as drawn by the CLI."""
    runs = _runs(request)
    check_name(name)
    if name not in runs.sweeps():
        raise NotFoundError(f"there is no sweep folder {name!r} in {runs.root}; make one with `mlplab sweep`.")
    files = _figure_files(runs, name)
    if figure not in files:
        raise NotFoundError(f"sweep {name!r} has no figure {figure!r}; it has: {', '.join(files) or 'none'} "
                            f"(draw them with `mlplab sweep ... --out {name}`).")
    path = (runs.root / name / files[figure]).resolve()
    if not path.is_relative_to(runs.root.resolve()):
        raise ForbiddenError(f"{files[figure]} of sweep {name!r} is a link to a file outside the runs folder, "
                             "which this server does not serve.")
    media = SHOWN_FORMATS[path.suffix.lstrip(".")]
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-store"})
