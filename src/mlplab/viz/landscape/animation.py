"""An animated GIF of paths being drawn on the contour map, one frame per step.

The contour is drawn once and the layout frozen; each frame only extends the lines, so a 30-step path
is 31 cheap frames (the last one held longer before the GIF loops).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path as FilePath

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from mlplab.landscape import Path
from mlplab.train.run_folder import atomic_write_bytes
from mlplab.viz.landscape.plots import plot_contour
from mlplab.viz.landscape.scene import frame_steps, optimizer_colors, plot_box
from mlplab.viz.theme import PATH_OUTLINE, colors, path_effects, theme_context


def animate_paths(
    paths: Sequence[Path],
    out: str | os.PathLike,
    *,
    theme: str = "dark",
    fps: int = 6,
    hold: int = 10,
    dpi: int = 72,
    size: tuple[float, float] = (7.0, 4.4),
    max_frames: int = 100,
) -> FilePath:
    """Write ``out`` (a ``.gif``) showing every path growing step by step; returns its path.

    A path longer than ``max_frames`` steps is shown at evenly spread steps. ``hold`` keeps the last
    frame ``hold`` frames longer, so the viewer sees the end before the loop
    restarts. Frames are rendered with Agg and assembled by Pillow in memory; the file is written
    atomically.
    """
    function = paths[0].function
    c = colors(theme)
    with theme_context(theme):
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        box = plot_box(function, paths)
        palette = optimizer_colors(paths)
        plot_contour(function, [], ax=ax, theme=theme, box=box, legend=False, raster=True)
        lines = [ax.plot([], [], "-o", color=color, lw=2, ms=3, mec=PATH_OUTLINE, mew=0.5, label=p.label,
                         path_effects=path_effects(2))[0]
                 for p, color in zip(paths, palette, strict=True)]
        heads = [ax.plot([], [], "o", ms=8, mfc=color, mec=c["foreground"])[0] for color in palette]
        for p in paths:
            ax.plot(*p.start, "o", ms=9, mfc=c["start"], mec=c["foreground"], zorder=6)
        ax.legend(loc="upper right", fontsize=8, framealpha=0.85)
        last = max(p.steps for p in paths)
        label = paths[0].label if len(paths) == 1 else f"{len(paths)} optimizers"

        def draw(k: int) -> None:
            for line, head, p in zip(lines, heads, paths, strict=True):
                shown = p.points[: min(k, p.steps) + 1]
                line.set_data(shown[:, 0], shown[:, 1])
                head.set_data(shown[-1:, 0], shown[-1:, 1])
            title = f"{label} on {function.name}: step {min(k, last)} of {last}"
            if len(paths) == 1 and function.f_min is not None:
                title += f",  f − f* = {paths[0].values[min(k, last)] - function.f_min:.3g}"
            ax.set_title(title, fontsize=11)

        fig.set_dpi(dpi)
        fig.canvas.draw()
        fig.set_layout_engine("none")  # freeze the layout: only the lines change between frames
        images = []
        try:
            for k in frame_steps(last, max_frames):
                draw(k)
                fig.canvas.draw()
                rgb = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])
                images.append(rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=128))
        finally:
            plt.close(fig)
    durations = [round(1000 / fps)] * len(images)
    durations[-1] = round(1000 / fps) * (hold + 1)  # linger on the end before looping
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                   loop=0, optimize=True)
    out = FilePath(out)
    atomic_write_bytes(out, buffer.getvalue())
    return out
