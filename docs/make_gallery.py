"""Rebuild the README gallery, ``docs/img/*.png``, from real runs.

    python docs/make_gallery.py                 # train_*.png and landscape_*.png (a minute or two)
    python docs/make_gallery.py --sweep         # also sweep_*.png: the 54-run grid of docs/sweep.md (minutes)
    python docs/make_gallery.py --out /tmp/img  # write elsewhere, e.g. to compare before replacing
    python docs/make_gallery.py --run /tmp/textbook   # draw train_*.png from a run of `mlplab train --seed 0`

Every picture is drawn by mlplab's own figure functions from a real run, with the settings a user gets
by default:

- ``train_*.png``: the textbook run, ``mlplab train --seed 0`` (784-50-10 sigmoid, SGD lr 0.1, 10,000
  iterations), trained into a temporary run folder and drawn with ``draw_run``;
- ``landscape_*.png``: ``mlplab descent``, ``mlplab sgd`` and ``mlplab compare`` with their defaults,
  drawn by the same ``*_files`` functions the commands call;
- ``sweep_*.png`` (with ``--sweep``): ``mlplab sweep --lr 0.01,0.1,1 --hidden 20,50,100 --optimizer
  sgd,adam --seeds 3 --iters 2000``.

The web app's screenshots (``app_*.png``) need a browser; the web app's end-to-end run makes them.
A PNG larger than ``--max-kb`` (default 300) is re-encoded with a 256-colour palette, which keeps
charts sharp at a third of the size.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

IMG_DIR = Path(__file__).resolve().parent / "img"

#: run-folder figure → gallery name
TRAIN_FIGURES = ("accuracy", "loss", "architecture", "hidden_units", "confusion", "mistakes", "predictions",
                 "gradcheck")
#: (file written by the landscape functions → gallery name)
LANDSCAPE_FILES = {
    "descent": {"surface.png": "landscape_surface.png", "contour.png": "landscape_contour.png",
                "convergence.png": "landscape_convergence.png"},
    "sgd": {"sgd.png": "landscape_sgd.png"},
    "compare": {"compare_grid.png": "landscape_compare_grid.png",
                "compare_overlay.png": "landscape_compare_overlay.png"},
}
SWEEP_ARGS = ["sweep", "--lr", "0.01,0.1,1", "--hidden", "20,50,100", "--optimizer", "sgd,adam", "--seeds", "3",
              "--iters", "2000"]
SWEEP_FIGURES = ("sweep_accuracy_vs_lr.png", "sweep_heatmap.png", "sweep_curves.png", "sweep_best.png")


def publish(source: Path, out_dir: Path, name: str, max_bytes: int) -> Path:
    """Copy ``source`` to ``out_dir/name`` atomically, re-encoded as a palette PNG if it is too large."""
    from PIL import Image

    from mlplab.train.run_folder import atomic_write_bytes

    data = source.read_bytes()
    if len(data) > max_bytes:
        buffer = io.BytesIO()
        with Image.open(source) as image:
            image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
                buffer, format="PNG", optimize=True)
        data = min(data, buffer.getvalue(), key=len)
    target = out_dir / name
    atomic_write_bytes(target, data)
    note = "" if len(data) <= max_bytes else f"  (still over {max_bytes // 1000} kB)"
    print(f"  {target}  {len(data) / 1000:.0f} kB{note}")
    return target


def train_gallery(work: Path, out_dir: Path, max_bytes: int, run_dir: Path | None = None) -> list[Path]:
    """The textbook run and its eight figures (``run_dir``: an existing run of ``mlplab train --seed 0``,
    drawn into ``work`` instead of training again)."""
    from mlplab.train import TrainConfig, load_run, train
    from mlplab.viz.training.run_figures import draw_run

    started = time.perf_counter()
    if run_dir is None:
        run_dir = train(TrainConfig(seed=0), run_dir=work / "textbook").run_dir
    h = load_run(run_dir).history
    print(f"textbook run: {h.status}, train {h.final_train_acc:.2%}, test {h.final_test_acc:.2%} "
          f"({time.perf_counter() - started:.0f} s)")
    figures = draw_run(run_dir, theme="dark", formats=("png",), names=TRAIN_FIGURES,
                               animation=False)
    if figures.skipped:
        raise SystemExit(f"figures were skipped: {figures.skipped}")
    return [publish(figures.png(name), out_dir, f"train_{name}.png", max_bytes) for name in TRAIN_FIGURES]


def landscape_gallery(work: Path, out_dir: Path, max_bytes: int) -> list[Path]:
    """``mlplab descent``, ``mlplab sgd`` and ``mlplab compare`` with their defaults."""
    from mlplab.landscape import FUNCTIONS, descend, get_function, judge
    from mlplab.landscape.compare import PRESETS, compare_optimizers
    from mlplab.landscape.sgd_study import run_sgd_study
    from mlplab.viz.landscape.files import compare_files, descent_files, sgd_files

    folders = {command: work / command for command in LANDSCAPE_FILES}
    for folder in folders.values():
        folder.mkdir()
    seed = FUNCTIONS["seed"]
    verdict = judge(descend(seed))  # plain gradient descent, lr 0.9, 30 steps from (-7, 2)
    end = verdict.path.end
    print(f"descent: end ({end[0]:.4g}, {end[1]:.4g}), {verdict.status}")
    written = {"descent": descent_files(verdict, folders["descent"])}

    study = run_sgd_study(seed, lr=seed.lr)  # lr 0.9, 100 steps, batch 10, sigma 0.5, N 1000, 30 seeds
    print(f"sgd: {study.inside_ellipse()} of {len(study.runs)} end points inside the predicted ellipse")
    written["sgd"] = sgd_files(study, folders["sgd"])

    preset = PRESETS["textbook"]  # the book's fig. 6-8
    paths = compare_optimizers(get_function(preset.function), preset.optimizers, preset.steps, preset.start)
    verdicts = [judge(p) for p in paths]
    print("compare: " + ", ".join(f"{p.label} {v.distance:.4g}" for p, v in zip(paths, verdicts, strict=True)))
    written["compare"] = compare_files(paths, verdicts, folders["compare"])

    published = []
    for command, names in LANDSCAPE_FILES.items():
        by_name = {path.name: path for path in written[command]}
        published += [publish(by_name[source], out_dir, name, max_bytes) for source, name in names.items()]
    return published


def sweep_gallery(work: Path, out_dir: Path, max_bytes: int) -> list[Path]:
    """The grid sweep of docs/sweep.md, through the CLI (it writes the four figures)."""
    from mlplab.cli import main

    folder = work / "grid"
    code = main([*SWEEP_ARGS, "--out", str(folder)], standalone_mode=False)
    if code not in (None, 0):
        raise SystemExit(f"mlplab sweep failed with exit code {code}")
    found = {path.name: path for path in folder.rglob("sweep_*.png")}
    missing = [name for name in SWEEP_FIGURES if name not in found]
    if missing:
        raise SystemExit(f"the sweep wrote no {', '.join(missing)} under {folder}")
    return [publish(found[name], out_dir, name, max_bytes) for name in SWEEP_FIGURES]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=IMG_DIR, help=f"folder for the images (default {IMG_DIR})")
    parser.add_argument("--sweep", action="store_true", help="also run the 54-run sweep for sweep_*.png")
    parser.add_argument("--run", type=Path, default=None,
                        help="draw train_*.png from this run of `mlplab train --seed 0` instead of training")
    parser.add_argument("--max-kb", type=int, default=300, help="re-encode PNGs larger than this (default 300)")
    args = parser.parse_args(argv)
    if args.max_kb < 1:
        parser.error(f"--max-kb must be >= 1, got {args.max_kb}")
    args.out.mkdir(parents=True, exist_ok=True)
    max_bytes = args.max_kb * 1000
    with tempfile.TemporaryDirectory(prefix="mlplab-gallery-") as tmp:
        work = Path(tmp)
        written = train_gallery(work, args.out, max_bytes, args.run) + landscape_gallery(work, args.out, max_bytes)
        if args.sweep:
            written += sweep_gallery(work, args.out, max_bytes)
    print(f"{len(written)} images in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
