"""Interactive 3-D landscape: one self-contained HTML file (plotly.js inlined, works offline).

The surface can be rotated and zoomed; a slider (and a play button) walks the paths step by step.
plotly ships ``plotly.min.js`` inside the Python package, and ``include_plotlyjs=True`` copies it into
the page, so the file opens from a USB stick on a machine without internet: there is no
``<script src="http…">`` in it.

Example
-------
>>> from mlplab.landscape import FUNCTIONS, descend
>>> path = descend(FUNCTIONS["seed"])
>>> write_landscape_html("landscape.html", [path])              # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path as FilePath

import numpy as np

from mlplab.landscape import Path
from mlplab.train.run_folder import atomic_write_text
from mlplab.viz.landscape.scene import DrawnPath, landscape_scene, surface_colorscale
from mlplab.viz.theme import PATH_OUTLINE, colors


def landscape_figure(paths: Sequence[Path], *, theme: str = "dark", grid: int = 80):
    """A plotly figure: the surface, every path as a 3-D line, and a slider over the steps."""
    import plotly.graph_objects as go

    c = colors(theme)
    function = paths[0].function
    scene = landscape_scene(function, paths, grid=grid)  # the same colour per optimizer as every figure
    surface = go.Surface(x=scene.x, y=scene.y, z=scene.z, colorscale=surface_colorscale(), opacity=1.0,
                         name="f(x, y)", colorbar=dict(title=dict(text="f(x, y)")), hoverinfo="x+y+z")
    # Each path twice: a wide dark line (its outline, no legend entry) under the coloured one with
    # outlined markers, so it reads on the yellow and the purple parts of the surface alike.
    path_traces = []
    for p in scene.paths:
        x, y, z = p.points[:, 0], p.points[:, 1], p.lifted
        path_traces.append(go.Scatter3d(
            x=x, y=y, z=z, mode="lines", showlegend=False,
            line=dict(color=PATH_OUTLINE, width=11), hoverinfo="skip", name=f"{p.label} outline"))
        path_traces.append(go.Scatter3d(
            x=x, y=y, z=z, mode="lines+markers", name=p.label,
            line=dict(color=p.color, width=6),
            marker=dict(size=4, color=p.color, line=dict(color=PATH_OUTLINE, width=1)),
            hovertemplate="step %{customdata[0]}<br>x=%{x:.4g}<br>y=%{y:.4g}<br>f=%{customdata[1]:.4g}<extra>"
                          + p.label + "</extra>",
            customdata=_step_and_value(p, len(p.points) - 1),
        ))
    marks = [go.Scatter3d(x=[p.points[0, 0] for p in scene.paths], y=[p.points[0, 1] for p in scene.paths],
                          z=[p.lifted[0] for p in scene.paths], mode="markers", name="start",
                          marker=dict(size=7, color=c["start"]))]
    m = scene.minima
    if len(m):
        marks.append(go.Scatter3d(x=m[:, 0], y=m[:, 1], z=scene.minima_lifted, mode="markers", name="minimum",
                                  marker=dict(size=7, color=c["minimum"], symbol="diamond")))
    trace_ids = list(range(1, 1 + len(path_traces)))  # outline, line, outline, line, … after the surface
    shown = scene.frames  # at most 100 slider positions, however long the path
    frames = [go.Frame(name=str(k), traces=trace_ids, data=[
        go.Scatter3d(x=p.points[: k + 1, 0], y=p.points[: k + 1, 1], z=p.lifted[: k + 1],
                     customdata=_step_and_value(p, k))
        for p in scene.paths for _ in ("outline", "line")]) for k in shown]
    # Up to 100 tick labels would overlap into a grey bar: they are transparent, and the current
    # step is written large above the slider instead.
    slider = dict(
        active=len(shown) - 1, currentvalue=dict(prefix="step ", font=dict(size=16, color=c["foreground"])),
        pad=dict(t=50), font=dict(color="rgba(0,0,0,0)"), len=0.86, x=0.14, ticklen=4, minorticklen=2,
        steps=[dict(label=str(k), method="animate",
                    args=[[str(k)], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                         transition=dict(duration=0))])
               for k in shown],
    )
    play = dict(type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top",
                pad=dict(t=50, r=10), showactive=False, font=dict(size=14), buttons=[
                    dict(label="▶ play", method="animate",
                         args=[None, dict(frame=dict(duration=150, redraw=True), fromcurrent=False,
                                          transition=dict(duration=0))]),
                    dict(label="❚❚ pause", method="animate",
                         args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))]),
                ])
    fig = go.Figure(data=[surface, *path_traces, *marks], frames=frames)
    fig.update_layout(
        template="plotly_dark" if theme == "dark" else "plotly_white",
        paper_bgcolor=c["background"], font=dict(color=c["foreground"]),
        title=dict(text=f"{function.label}: {', '.join(p.label for p in paths[:6])}"
                        + (" …" if len(paths) > 6 else "")),
        # seen from above and from the valley's end, so its floor, where the paths run, is not hidden
        # behind a wall; the surface is opaque, because WebGL blends a translucent one over the paths
        scene=dict(xaxis_title="x", yaxis_title="y", zaxis_title="f(x, y)",
                   camera=dict(eye=dict(x=-1.3, y=-0.8, z=2.0))),
        sliders=[slider], updatemenus=[play], margin=dict(l=10, r=10, t=60, b=10),
        legend=dict(x=0.01, y=0.98),
    )
    return fig


def _step_and_value(drawn: DrawnPath, k: int) -> np.ndarray:
    """``(step, f)`` of the points drawn up to step ``k``, for the hover: the path is drawn lifted."""
    n = min(k + 1, len(drawn.points))
    return np.column_stack([np.arange(n), drawn.values[:n]])


def landscape_html(paths: Sequence[Path], *, theme: str = "dark") -> str:
    """The whole page as text, with plotly.js inlined (no network needed to view it)."""
    fig = landscape_figure(paths, theme=theme)
    html = fig.to_html(include_plotlyjs=True, full_html=True, auto_play=False, default_height="96vh",
                       config={"displaylogo": False, "responsive": True})
    page_style = f"<style>body {{margin: 0; background: {colors(theme)['background']};}}</style>"
    return html.replace("</head>", page_style + "\n</head>", 1)


def write_landscape_html(out: str | os.PathLike, paths: Sequence[Path], *, theme: str = "dark") -> FilePath:
    """Write :func:`landscape_html` atomically to ``out``; returns the path."""
    out = FilePath(out)
    atomic_write_text(out, landscape_html(paths, theme=theme))
    return out
