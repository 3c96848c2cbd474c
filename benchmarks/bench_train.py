"""Benchmark: the default training job (10000 iterations, batch 100, 18 full evaluations), and every
row of the speed table of issue 14.

The evaluations are the book's 17 (after iterations 0, 600, …, 9600) and the final model's (after
iteration 9999), as mlplab's trainer does them; every contestant does the same and reports its final
model's accuracies.

Runs, in one process and one go:

1. NumPy's measured peak matrix-multiply rate (float32 and float64), and from it the *bound*:
   the job's matrix-multiply FLOPs divided by the peak rate;
2. mlplab's default run (``mlplab.train.train(TrainConfig(seed=0))``: float32, no second forward pass);
3. a book-style reference written here: float64, the textbook's loop that computes ∂L/∂x for the
   first layer too and runs a second forward pass after each update just to record the loss;
4. PyTorch CPU with autograd on the same job, if torch is installed.

Then the table's rows, measured in subprocesses as a user runs them:

5. ``mlplab train --seed 0`` with figures and report vs ``--no-plots`` (wall time, alternating);
6. CPU time / wall time of ``--no-plots`` (an idle BLAS thread that spins shows up here), peak memory;
7. ``mlplab --help`` (best of 10, wall and CPU; byte-compiled, as after ``pip install``);
8. with ``--tests``, the README's test command (``pytest``; minutes).

Prints times and ratios. Start-up and data loading are reported apart from the training loop.
Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (users' machines do not set them):
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py [--repeat 3] [--tests]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from mlplab.data import load_mnist
from mlplab.train import TrainConfig, load_dataset, train
from mlplab.train.threads import blas_threads

ROOT = Path(__file__).resolve().parent.parent
#: The OpenBLAS settings a benchmark must not inherit (users' machines do not set them).
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

N_TRAIN, N_TEST, D, H, C = 60000, 10000, 784, 50, 10


def evaluation_points(iters: int) -> set[int]:
    """As mlplab's trainer: once per epoch (600 iterations) and after the last iteration."""
    return {*range(0, iters, 600), iters - 1}


def job_flops(iters: int, batch: int, n_evals: int) -> float:
    """Matrix-multiply FLOPs mlplab's job needs (2·m·n·k per product)."""
    forward = 2 * batch * (D * H + H * C)
    backward = 2 * batch * (D * H + H * C) + 2 * batch * H * C  # dW1, dW2, and dx into layer 2
    evaluation = n_evals * 2 * (N_TRAIN + N_TEST) * (D * H + H * C)
    return iters * (forward + backward) + evaluation


def peak_rate(dtype, n: int = 2048, repeat: int = 8) -> float:
    a = np.random.default_rng(0).random((n, n)).astype(dtype)
    b = np.random.default_rng(1).random((n, n)).astype(dtype)
    a @ b
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(repeat):
            a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 * repeat / best


def matmul_only(iters: int, n_evals: int) -> float:
    """Seconds for the job's matrix products alone (same shapes, float32, the trainer's threads: one
    BLAS thread, see ``mlplab.train.threads``): what no implementation of this loop in NumPy on these
    threads can beat, whatever it does around the products."""
    with blas_threads(1):
        return _matmul_only(iters, n_evals)


def _matmul_only(iters: int, n_evals: int) -> float:
    rng = np.random.default_rng(0)
    x, W1, W2 = (rng.random(s, dtype=np.float32) for s in ((100, D), (D, H), (H, C)))
    da1, dy, xe = rng.random((100, H), dtype=np.float32), rng.random((100, C), dtype=np.float32), \
        rng.random((10000, D), dtype=np.float32)
    started = time.perf_counter()
    for _ in range(iters):
        z1 = x @ W1
        z1 @ W2
        z1.T @ dy
        dy @ W2.T
        x.T @ da1
    for _ in range(n_evals * 7):  # 70,000 rows in chunks of 10,000
        (xe @ W1) @ W2
    return time.perf_counter() - started


def book_style(iters: int, seed: int = 0) -> tuple[float, float, float]:
    """The textbook's ch. 4 loop, float64, with its second forward pass. Returns (seconds, train, test)."""
    (x_train, t_train), (x_test, t_test) = load_mnist(dtype=np.float64)
    rng = np.random.default_rng(seed)
    W1, b1 = 0.01 * rng.standard_normal((D, H)), np.zeros(H)
    W2, b2 = 0.01 * rng.standard_normal((H, C)), np.zeros(C)

    def forward(x):
        a1 = x @ W1 + b1
        z1 = 1 / (1 + np.exp(-a1))
        a2 = z1 @ W2 + b2
        e = np.exp(a2 - a2.max(axis=1, keepdims=True))
        return z1, e / e.sum(axis=1, keepdims=True)

    def loss(x, t):
        _, y = forward(x)
        return -np.sum(np.log(y[np.arange(t.size), t] + 1e-7)) / t.size

    def accuracy(x, t):
        return float(np.mean(np.argmax(forward(x)[1], axis=1) == t))

    losses, evals, evaluated = [], [], evaluation_points(iters)
    started = time.perf_counter()
    for i in range(iters):
        batch = rng.choice(N_TRAIN, 100)
        x, t = x_train[batch], t_train[batch]
        z1, y = forward(x)
        dy = y.copy()
        dy[np.arange(100), t] -= 1
        dy /= 100
        dW2, db2 = z1.T @ dy, dy.sum(axis=0)
        dz1 = dy @ W2.T
        da1 = dz1 * (1 - z1) * z1
        dW1, db1 = x.T @ da1, da1.sum(axis=0)
        _dx = da1 @ W1.T  # the book's Affine.backward computes it even for the input layer
        W1 -= 0.1 * dW1
        b1 -= 0.1 * db1
        W2 -= 0.1 * dW2
        b2 -= 0.1 * db2
        losses.append(loss(x, t))  # the book's second forward pass
        if i in evaluated:
            evals.append((accuracy(x_train, t_train), accuracy(x_test, t_test)))
    return time.perf_counter() - started, evals[-1][0], evals[-1][1]


def torch_run(iters: int, seed: int = 0) -> tuple[float, float, float] | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(seed)
    (x_train, t_train), (x_test, t_test) = load_mnist()
    xt, tt = torch.from_numpy(x_train), torch.from_numpy(t_train.astype(np.int64))
    xs, ts = torch.from_numpy(x_test), torch.from_numpy(t_test.astype(np.int64))
    W1 = (0.01 * torch.randn(D, H)).requires_grad_()
    b1 = torch.zeros(H, requires_grad=True)
    W2 = (0.01 * torch.randn(H, C)).requires_grad_()
    b2 = torch.zeros(C, requires_grad=True)
    params = [W1, b1, W2, b2]
    evals, evaluated = [], evaluation_points(iters)
    started = time.perf_counter()
    for i in range(iters):
        batch = torch.randint(0, N_TRAIN, (100,))
        scores = torch.sigmoid(xt[batch] @ W1 + b1) @ W2 + b2
        loss = torch.nn.functional.cross_entropy(scores, tt[batch])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= 0.1 * p.grad
        _ = loss.item()
        if i in evaluated:
            with torch.no_grad():
                acc = [float(((torch.sigmoid(x @ W1 + b1) @ W2 + b2).argmax(1) == t).float().mean())
                       for x, t in ((xt, tt), (xs, ts))]
            evals.append(acc)
    return time.perf_counter() - started, evals[-1][0], evals[-1][1]


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def run_measured(cmd: list[str], cwd: Path | None = None, *, show: str = "") -> tuple[float, float, float]:
    """Run ``cmd``; return (wall s, CPU s of the child: user + system, its peak RSS in MiB). Its output
    lines that start with ``show`` (if given) are printed."""
    started = time.perf_counter()
    out = tempfile.TemporaryFile() if show else subprocess.DEVNULL
    child = subprocess.Popen(cmd, env=child_env(), cwd=cwd, stdout=out, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if show:
        out.seek(0)
        for line in out.read().decode().splitlines():
            if line.startswith(show):
                print(f"  {' '.join(cmd[2:4])}: {line}")
        out.close()
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({child.returncode}): {child.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def cli_train(out: Path, plots: bool) -> tuple[float, float, float]:
    cmd = [sys.executable, "-m", "mlplab", "train", "--seed", "0", "--out", str(out)]
    return run_measured(cmd if plots else [*cmd, "--no-plots"], show="drawing" if plots else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each contestant; best counts")
    parser.add_argument("--skip-book", action="store_true")
    parser.add_argument("--skip-torch", action="store_true")
    parser.add_argument("--skip-cli", action="store_true", help="skip the mlplab train subprocess rows")
    parser.add_argument("--tests", action="store_true", help="also time the README's test command (minutes)")
    args = parser.parse_args()
    n_evals = len(evaluation_points(args.iters))

    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]
    unset = ", ".join(f"{k}={os.environ.get(k, '(unset)')}" for k in UNSET)
    print(f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, cpus={os.cpu_count()}, "
          f"BLAS (library, kernel, threads): {blas}; {unset}")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average (1 min) at start: {load:.1f} on {os.cpu_count()} cpus"
          + ("  -- the machine is shared: wall times are noisy, ratios from the same run" if load > 1.5 else ""))
    # The subprocess rows first, while this process is small: a child's peak RSS (ru_maxrss) counts
    # the copy of its parent it starts as, before exec.
    cli_rows = []
    if not args.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, "-m", "mlplab", "--help"], env=child_env(), capture_output=True)  # .pyc
            helps = [run_measured([sys.executable, "-m", "mlplab", "--help"]) for _ in range(10)]
            plain, full = [], []
            for k in range(args.repeat):  # alternate: the machine's load changes under both alike
                plain.append(cli_train(Path(tmp) / f"plain{k}", plots=False))
                full.append(cli_train(Path(tmp) / f"full{k}", plots=True))
        p, f = min(plain), min(full)
        cli_rows = [
            ("`mlplab train` with figures and report vs `--no-plots`", f"{f[0]:.2f} s vs {p[0]:.2f} s",
             f[0] / p[0], "<= 1.30x"),
            ("CPU time / wall time of `--no-plots`", f"{p[1]:.2f} s / {p[0]:.2f} s", p[1] / p[0], "~1.0 (no spinning)"),
            ("`mlplab --help` (best of 10: wall, CPU)",
             f"{min(h[0] for h in helps):.3f} s, {min(h[1] for h in helps):.3f} s CPU", min(h[0] for h in helps),
             "<= 0.3 s"),
            ("peak memory (max RSS) of `mlplab train`: --no-plots, with figures", f"{p[2]:.0f} MiB, {f[2]:.0f} MiB",
             max(p[2], f[2]), "<= 400 MiB"),
        ]

    peak32, peak64 = peak_rate(np.float32), peak_rate(np.float64)
    flops = job_flops(args.iters, 100, n_evals)
    bound = flops / peak32
    print(f"peak matmul: float32 {peak32 / 1e9:.1f} GFLOP/s, float64 {peak64 / 1e9:.1f} GFLOP/s")
    print(f"job: {args.iters} iterations, {n_evals} evaluations, {flops / 1e9:.1f} GFLOP of matmul "
          f"-> bound {bound:.2f} s at the float32 peak")

    t = time.perf_counter()
    config = TrainConfig(seed=0, iters=args.iters)
    data = load_dataset(config)
    print(f"data loading (bundled MNIST, float32): {time.perf_counter() - t:.2f} s")

    # the floor and mlplab's loop alternate, best of --repeat each: a busy machine slows both alike
    floors, runs, spins = [], [], []
    for _ in range(args.repeat):
        floors.append(matmul_only(args.iters, n_evals))
        usage, main_cpu = resource.getrusage(resource.RUSAGE_SELF), time.thread_time()
        runs.append(train(config, data=data).history)
        after = resource.getrusage(resource.RUSAGE_SELF)
        # CPU of every thread of this process / CPU of the training thread: 1.00 when no BLAS thread
        # spins beside it. Unlike CPU/wall, it does not depend on what else runs on the machine.
        spins.append((after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime)
                     / (time.thread_time() - main_cpu))
    floor = min(floors)
    best = min(runs, key=lambda h: h.seconds)
    print(f"the job's matrix products alone, one BLAS thread: {floor:.2f} s ({floor / bound:.2f}x the bound)")

    results = {"mlplab (float32)": (best.seconds, best.train_acc[-1], best.test_acc[-1])}
    if not args.skip_book:
        results["book-style (float64)"] = min((book_style(args.iters) for _ in range(args.repeat)),
                                              key=lambda r: r[0])
    torch_result = None if args.skip_torch else torch_run(args.iters)
    if torch_result is not None:
        results["PyTorch CPU autograd"] = torch_result

    mine = results["mlplab (float32)"][0]
    print(f"\n{'contestant':<24}{'loop s':>8}{'train':>8}{'test':>8}{'vs bound':>10}{'vs mlplab':>11}")
    for name, (seconds, train_acc, test_acc) in results.items():
        print(f"{name:<24}{seconds:>8.2f}{train_acc:>8.4f}{test_acc:>8.4f}"
              f"{seconds / bound:>9.2f}x{seconds / mine:>10.2f}x")
    if torch_result is None and not args.skip_torch:
        print("PyTorch CPU autograd: not installed (pip install torch==2.13.0 to include it)")

    rows = [("training loop vs the job's matrix products alone (same threads)",
             f"{mine:.2f} s vs {floor:.2f} s", mine / floor, "<= 1.60x")]
    rows.append(("CPU of all threads / CPU of the training thread, in-process run", "", min(spins), "1.00"))
    rows[:0] = cli_rows[:1]
    rows += cli_rows[1:]
    if args.tests:
        wall, cpu, _ = run_measured([sys.executable, "-m", "pytest", "-q"], cwd=ROOT)
        rows.append(("README test command (`pytest`, 2 workers)", f"{wall:.0f} s ({cpu:.0f} s CPU)", wall, "<= 180 s"))
    else:
        rows.append(("README test command (`pytest`)", "not run (--tests)", float("nan"), "<= 180 s"))
    print(f"\n{'row':<72}{'measured':>30}{'value':>9}  target")
    for name, measured, value, target in rows:
        print(f"{name:<72}{measured:>30}{value:>9.2f}  {target}")


if __name__ == "__main__":
    main()
