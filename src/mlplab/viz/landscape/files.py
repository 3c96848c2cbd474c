"""The figure files each landscape command writes into its output folder, in one place.

The CLI (and the web app) call these, so ``mlplab descent`` and a page showing the same run draw the
same pictures. Each function returns the paths it wrote, in the order they were written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path as FilePath

import matplotlib.pyplot as plt

from mlplab.landscape import Path, Verdict
from mlplab.landscape.sgd_study import SgdStudy
from mlplab.viz.landscape.compare import plot_compare_grid, plot_compare_overlay
from mlplab.viz.landscape.plots import plot_contour, plot_convergence, plot_surface
from mlplab.viz.landscape.sgd import plot_sgd_study
from mlplab.viz.theme import check_format, save_figure


def _extras(folder: FilePath, paths: Sequence[Path], theme: str, gif: bool, html: bool) -> list[FilePath]:
    written = []
    if gif:
        from mlplab.viz.landscape.animation import animate_paths

        written.append(animate_paths(paths, folder / "path.gif", theme=theme))
    if html:
        from mlplab.viz.landscape.interactive import write_landscape_html

        written.append(write_landscape_html(folder / "landscape.html", paths, theme=theme))
    return written


def _save(fig, folder: FilePath, name: str, formats: Sequence[str]) -> list[FilePath]:
    """``name.png``, ``name.svg``, … (one per format, at the current dpi), then close the figure."""
    written = [save_figure(fig, folder / f"{name}.{check_format(fmt)}", close=False) for fmt in formats]
    plt.close(fig)
    return written


def descent_files(verdict: Verdict, folder: FilePath, *, theme: str = "dark", formats: Sequence[str] = ("png",),
                  gif: bool = False, html: bool = False) -> list[FilePath]:
    """``surface``, ``contour``, ``convergence`` in each of ``formats`` (+ ``path.gif``, ``landscape.html``)."""
    path = verdict.path
    written = [
        *_save(plot_surface(path.function, [path], theme=theme)["figure"], folder, "surface", formats),
        *_save(plot_contour(path.function, [path], theme=theme)["figure"], folder, "contour", formats),
        *_save(plot_convergence(verdict, theme=theme)["figure"], folder, "convergence", formats),
    ]
    return written + _extras(folder, [path], theme, gif, html)


def sgd_files(study: SgdStudy, folder: FilePath, *, theme: str = "dark", formats: Sequence[str] = ("png",),
              gif: bool = False, html: bool = False) -> list[FilePath]:
    """``sgd`` (ensemble, noise, batch sizes, schedules) and ``contour`` of the first run, in each of
    ``formats`` (+ its ``path.gif``; ``landscape.html`` with the run and full-batch GD)."""
    run = study.run
    written = [
        *_save(plot_sgd_study(study, theme=theme)["figure"], folder, "sgd", formats),
        *_save(plot_contour(run.function, [run], theme=theme, arrows=False)["figure"], folder, "contour", formats),
    ]
    written += _extras(folder, [run], theme, gif, False)
    return written + _extras(folder, [run, study.full_batch], theme, False, html)


def compare_files(paths: Sequence[Path], verdicts: Sequence[Verdict], folder: FilePath, *,
                  theme: str = "dark", formats: Sequence[str] = ("png",), gif: bool = False,
                  html: bool = False) -> list[FilePath]:
    """``compare_grid`` (one panel per optimizer), ``compare_overlay``, in each of ``formats``
    (+ gif, html)."""
    written = [
        *_save(plot_compare_grid(paths, verdicts, theme=theme)["figure"], folder, "compare_grid", formats),
        *_save(plot_compare_overlay(paths, verdicts, theme=theme)["figure"], folder, "compare_overlay", formats),
    ]
    return written + _extras(folder, paths, theme, gif, html)
