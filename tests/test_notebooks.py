"""The notebooks in ``notebooks/`` run top to bottom on a fresh kernel, and every figure cell shows a figure.

Each notebook is executed with nbclient on a new ``python3`` kernel. The kernel is pinned to this
interpreter: a kernelspec written into a temporary ``JUPYTER_PATH`` points at ``sys.executable``, so the
notebooks import the mlplab under test, not one installed elsewhere. ``MLPLAB_NOTEBOOK_QUICK=1`` makes
them train for a few hundred iterations instead of the textbook's thousands. One BLAS thread per kernel
keeps small matrix products from fighting over the two cores.

The notebooks check their own numbers with ``assert`` (backprop against central differences, the
closed-form gradient-descent path, 488 steps to the tolerance), so a wrong number fails the cell and
this test with it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = ("train_neuralnet", "gradient_descent_2d", "stochastic_gradient_descent_2d", "optimizers",
             "backprop_step_by_step", "study_init", "study_overfit", "study_batchnorm", "study_optimizers",
             "study_search")
#: Executed by ``pytest -m slow`` only (4–15 s of CPU each, most of the notebook tests' time). Every
#: notebook's imports are resolved by the fast test_imported_names_exist below, and what each computes
#: and draws has a fast test of its own:
SLOW_TO_RUN = {
    "train_neuralnet": "test_examples (the book's training script and backprop check), test_viz_run_figures",
    "gradient_descent_2d": "test_landscape_paths (closed-form path, 488 steps), test_landscape_figures",
    "stochastic_gradient_descent_2d": "test_landscape_stochastic, test_landscape_figures (the SGD study figure)",
    "optimizers": "test_optim, test_landscape_learning_rates, test_landscape_figures (compare grid and overlay)",
    "study_init": "test_studies::test_init_study_writes_figures_page_and_the_same_seed (run_init, its figures)",
    "study_overfit": "test_studies::test_overfit_numbers_are_those_of_its_run_folders (run_overfit)",
    "study_search": "test_sweep_* (the sweep it runs on); the study itself: test_studies, also slow",
}
#: The default run executes the others: backprop_step_by_step (training, explain_image, a figure) and the
#: two ch. 6 studies that no fast test runs, study_batchnorm and study_optimizers (a few seconds each).
KERNEL = "python3"
FIGURE_TAG = "figure"  # a code cell tagged so must display at least one PNG


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory):
    """A ``python3`` kernelspec running ``sys.executable``, first on ``JUPYTER_PATH``, and quick mode."""
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (mlplab tests)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JUPYTER_PATH", str(root))
        mp.setenv("MLPLAB_NOTEBOOK_QUICK", "1")
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            mp.setenv(name, "1")
        assert KernelSpecManager().get_kernel_spec(KERNEL).argv[0] == sys.executable
        yield


def test_the_notebooks_exist():
    assert sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name):
    """Outputs are made by running the notebook, never committed (small diffs, no stale numbers)."""
    nb = read(name)
    nbformat.validate(nb)
    for k, cell in enumerate(code_cells(nb)):
        assert cell.outputs == [], f"{name}: code cell {k} has committed outputs; clear them"
        assert cell.execution_count is None, f"{name}: code cell {k} has an execution count; clear it"
    assert nb.metadata.kernelspec.name == KERNEL


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_imports_only_public_names(name):
    """Learners copy notebook code: it must not lean on private modules or names."""
    for cell in code_cells(read(name)):
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mlplab"):
                assert not any(part.startswith("_") for part in node.module.split(".")), node.module
                assert not any(alias.name.startswith("_") for alias in node.names), node.module


def test_the_default_run_executes_at_least_one_notebook():
    assert set(SLOW_TO_RUN) < set(NOTEBOOKS)  # and every name in SLOW_TO_RUN is a notebook


def imported_names(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """``(module, name)`` for every ``from mlplab… import name`` in the notebook's code cells."""
    found = []
    for cell in code_cells(nb):
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mlplab"):
                found += [(node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_imported_names_exist(name):
    """What a renamed or moved function breaks first, checked without a kernel (also for the notebooks
    that only ``pytest -m slow`` executes)."""
    names = imported_names(read(name))
    assert names
    for module, attribute in names:
        imported = importlib.import_module(module)
        found = hasattr(imported, attribute)
        if not found and hasattr(imported, "__path__"):  # `from package import submodule` also works
            found = importlib.util.find_spec(f"{module}.{attribute}") is not None
        assert found, f"{name}: from {module} import {attribute}"


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_TO_RUN else n
                                  for n in NOTEBOOKS])
def test_runs_on_a_fresh_kernel(name, kernel_env, tmp_path):
    nb = read(name)
    n_figures = sum(FIGURE_TAG in cell.metadata.get("tags", []) for cell in nb.cells)
    # a first cell, added to this copy only, that reports which interpreter the kernel runs
    nb.cells.insert(0, nbformat.v4.new_code_cell("import sys; print(sys.executable, end='')"))
    # the notebook runs in a temporary folder: whatever it writes stays out of the repository
    NotebookClient(nb, kernel_name=KERNEL, timeout=300, resources={"metadata": {"path": str(tmp_path)}}).execute()

    assert nb.cells[0].outputs[0]["text"] == sys.executable
    errors = [o for cell in code_cells(nb) for o in cell.outputs if o.output_type == "error"]
    assert errors == []
    shown = 0
    for k, cell in enumerate(nb.cells):
        if FIGURE_TAG in cell.metadata.get("tags", []):
            pngs = [o for o in cell.outputs if "image/png" in o.get("data", {})]
            assert pngs, f"{name}: cell {k} should show a figure but displayed none:\n{cell.source}"
            shown += 1
    assert shown == n_figures > 0
