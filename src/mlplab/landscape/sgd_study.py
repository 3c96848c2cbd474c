"""One SGD experiment, measured from every side: an ensemble over seeds, the full-batch path, the
predicted noise, a batch-size sweep and a learning-rate-schedule comparison.

Everything ``mlplab sgd`` prints and draws comes from :func:`run_sgd_study`, so the web app or a
notebook gets the same numbers. For plain SGD on a quadratic the theory is exact enough to check:

- the mean of the runs follows the full-batch gradient-descent path (the noise is unbiased and the
  gradient is linear, so averaging commutes with the step);
- the runs spread around it with the covariance of :meth:`Quadratic.noise_covariances`, so about
  86 % of the end points should fall inside the predicted 2σ ellipse (``1 − e^(−2)`` for a 2-D
  Gaussian).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mlplab.landscape.functions import Function
from mlplab.landscape.paths import Path, descend
from mlplab.landscape.schedules import SCHEDULES, make_schedule
from mlplab.landscape.stochastic import FiniteSum, check_sampling, ensemble, gradient_noise
from mlplab.landscape.verdict import fmt, fmt_point

ELLIPSE_SIGMAS = 2.0
ELLIPSE_SHARE = 1 - np.exp(-ELLIPSE_SIGMAS**2 / 2)  # share of a 2-D Gaussian inside its 2σ ellipse


@dataclass(frozen=True)
class NoiseRow:
    """Mini-batch gradient noise for one batch size: measured std per coordinate vs theory."""

    batch_size: int
    measured: np.ndarray  # (2,)
    predicted: float
    draws: int


@dataclass(frozen=True)
class SgdStudy:
    objective: FiniteSum
    runs: list[Path]  # runs[0] is the run the verdict speaks about
    full_batch: Path  # same optimizer, lr and schedule with the exact gradient
    mean_points: np.ndarray  # (steps + 1, 2) mean over the runs
    covariances: np.ndarray | None  # (steps + 1, 2, 2) predicted spread (plain SGD on a quadratic)
    noise: list[NoiseRow]
    batch_sweep: dict[int, np.ndarray]  # batch size → mean gap per step (steps + 1,)
    schedule_sweep: dict[str, np.ndarray]  # schedule → mean gap per step (steps + 1,)
    batch_size: int
    schedule: str
    sampling: str

    @property
    def run(self) -> Path:
        return self.runs[0]

    @property
    def ends(self) -> np.ndarray:
        return np.array([p.end for p in self.runs])

    def inside_ellipse(self) -> int | None:
        """How many end points lie within the predicted 2σ ellipse around the predicted mean."""
        if self.covariances is None:
            return None
        d = self.ends - self.full_batch.end  # (runs, 2)
        inverse = np.linalg.pinv(self.covariances[-1])
        mahalanobis2 = np.einsum("ri,ij,rj->r", d, inverse, d)
        return int(np.sum(mahalanobis2 <= ELLIPSE_SIGMAS**2))

    def lines(self) -> list[str]:
        """The study summarised for the terminal (printed after the run's verdict)."""
        ends = self.ends
        seeds = [p.extra["seed"] for p in self.runs]
        sampling = ("with replacement (independent batches, as mlplab train)" if self.sampling == "replacement"
                    else "by per-epoch shuffles (every example once per epoch)")
        out = [f"sampling    mini-batches of {self.batch_size} of N = {self.objective.n} examples, drawn {sampling}",
               f"ensemble    {len(self.runs)} runs (seeds {seeds[0]}-{seeds[-1]}): "
               f"mean end {fmt_point(ends.mean(axis=0))}, full-batch GD end {fmt_point(self.full_batch.end)}"]
        spread = ends.std(axis=0, ddof=1) if len(ends) > 1 else np.zeros(2)
        line = f"            spread of the ends (std) x {fmt(spread[0])}, y {fmt(spread[1])}"
        if self.covariances is not None:
            predicted = np.sqrt(np.diag(self.covariances[-1]))
            line += f"; predicted x {fmt(predicted[0])}, y {fmt(predicted[1])}"
        out.append(line)
        inside = self.inside_ellipse()
        if inside is not None:
            out.append(f"            {inside} of {len(self.runs)} end points inside the predicted "
                       f"{ELLIPSE_SIGMAS:g}-sigma ellipse (a Gaussian puts {ELLIPSE_SHARE:.0%} there)")
        out.append("noise       mini-batch gradient noise, std per coordinate (measured vs theory"
                   + (" sigma/sqrt(B)):" if self.sampling == "replacement" else " sigma/sqrt(B)*sqrt((N-B)/(N-1))):"))
        for row in self.noise:
            rel = np.abs(row.measured / row.predicted - 1).max() if row.predicted > 0 else 0.0
            out.append(f"            B = {row.batch_size:<5d} measured {fmt(row.measured[0])}, {fmt(row.measured[1])}"
                       f"   theory {fmt(row.predicted)}   ({rel:.1%} off, {row.draws} draws)")
        gap = "f - f*" if self.runs[0].function.f_min is not None else "f"
        out.append(f"batch size  mean {gap} after {self.run.steps} steps: "
                   + ", ".join(f"B={b} {fmt(curve[-1])}" for b, curve in self.batch_sweep.items()))
        out.append(f"schedules   mean {gap} after {self.run.steps} steps: "
                   + ", ".join(f"{name} {fmt(curve[-1])}" for name, curve in self.schedule_sweep.items()))
        return out


def run_sgd_study(
    function: Function,
    *,
    optimizer: str = "sgd",
    lr: float = 0.9,
    steps: int = 100,
    batch_size: int = 10,
    noise: float = 0.5,
    n: int = 1000,
    runs: int = 30,
    seed: int = 0,
    schedule: str = "constant",
    sampling: str = "replacement",
    start: tuple[float, float] | None = None,
    batch_sizes: tuple[int, ...] | None = None,
    draws: int = 2000,
) -> SgdStudy:
    """Run the whole study; ``batch_sizes`` defaults to (1, 10, 100, N) (those ≤ N)."""
    objective = FiniteSum(function, n=n, noise=noise, seed=seed)
    check_sampling(objective, batch_size, sampling)
    make_schedule(schedule, lr, steps)  # refuse an unknown name before any work
    start = function.start if start is None else start
    common = dict(optimizer=optimizer, lr=lr, steps=steps, start=start, sampling=sampling)
    paths = ensemble(objective, runs, seed=seed, batch_size=batch_size, schedule=schedule, **common)
    full = descend(function, optimizer, lr, steps, start, schedule=make_schedule(schedule, lr, steps))
    for path in (*paths, full):  # stop before the sweeps: a diverging run is the user's to fix
        path.raise_if_diverged()
    q = function.quadratic
    covariances = None
    if q is not None and optimizer == "sgd":
        covariances = q.noise_covariances(full.lrs, objective.predicted_noise(batch_size, sampling))
    sizes = batch_sizes or tuple(b for b in (1, 10, 100, n) if b <= n)
    noise_rows = [
        NoiseRow(b, gradient_noise(objective, b, draws=draws, sampling=sampling, seed=seed).std(axis=0),
                 objective.predicted_noise(b, sampling), draws)
        for b in sizes
    ]
    batch_sweep = {}
    for b in sizes:
        members = paths if b == batch_size else ensemble(
            objective, runs, seed=seed, batch_size=b, schedule=schedule, **common)
        batch_sweep[b] = mean_gap(members, steps)
    schedule_sweep = {}
    for name in SCHEDULES:
        members = paths if name == schedule else ensemble(
            objective, runs, seed=seed, batch_size=batch_size, schedule=name, **common)
        schedule_sweep[name] = mean_gap(members, steps)
    return SgdStudy(
        objective=objective, runs=paths, full_batch=full, mean_points=mean_points(paths, steps),
        covariances=covariances, noise=noise_rows, batch_sweep=batch_sweep, schedule_sweep=schedule_sweep,
        batch_size=batch_size, schedule=schedule, sampling=sampling,
    )


def _padded(rows: list[np.ndarray], steps: int, width: tuple[int, ...] = ()) -> np.ndarray:
    """Stack per-run arrays of length ≤ steps + 1; a run that diverged early is padded with NaN."""
    out = np.full((len(rows), steps + 1, *width), np.nan)
    for k, row in enumerate(rows):
        out[k, : len(row)] = row
    return out


def mean_gap(paths: list[Path], steps: int) -> np.ndarray:
    """Mean of ``f − f*`` (or ``f`` if ``f*`` is unknown) over the runs, per step: (steps + 1,).

    A sweep setting may diverge (batch 1 is noisier); its runs end early and the mean is over the
    runs still going — NaN once none is.
    """
    f_min = paths[0].function.f_min or 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "mean of empty slice" after every run ended
        return np.nanmean(_padded([p.values - f_min for p in paths], steps), axis=0)


def mean_points(paths: list[Path], steps: int) -> np.ndarray:
    return np.mean(_padded([p.points for p in paths], steps, (2,)), axis=0)
