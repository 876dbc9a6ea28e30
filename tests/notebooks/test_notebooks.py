"""The derivation notebooks: each executes headless without error and is up to date with its builder.

Every ``notebooks/*.ipynb`` is copied to a temporary directory and executed there with nbclient
(kernel ``python3``, a timeout per cell), so the tree is never modified.  To stay within the test
budget on two cores the notebooks are executed two at a time (one kernel process each) by a
session fixture; each parametrised test then checks its own notebook.  The up-to-date check compares
the committed cell sources with the ones defined in ``notebooks/build_notebooks.py``.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOK_PATHS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
NOTEBOOK_IDS = [p.stem for p in NOTEBOOK_PATHS]
CELL_TIMEOUT = 180     # seconds; a notebook is meant to run in < 60 s in total
WORKERS = 2


def _load_builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOK_DIR / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _load_builder()


def _execute_copy(path: Path, workdir: Path):
    """Execute a copy of the notebook at ``path`` inside ``workdir``; returns (notebook, seconds)."""
    from nbclient import NotebookClient

    workdir.mkdir(parents=True, exist_ok=True)
    copy = workdir / path.name
    shutil.copyfile(path, copy)
    nb = nbformat.read(str(copy), as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb, time.perf_counter() - t0


@pytest.fixture(scope="session")
def notebook_runs(request, tmp_path_factory):
    """Futures of the executions of the selected notebooks, started together (``WORKERS`` at a time)."""
    wanted = {item.callspec.params["name"] for item in request.session.items
              if getattr(item, "originalname", "") == "test_notebook_executes"
              and hasattr(item, "callspec")}
    base = tmp_path_factory.mktemp("notebooks")
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    futures = {p.stem: pool.submit(_execute_copy, p, base / p.stem)
               for p in NOTEBOOK_PATHS if p.stem in wanted}
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def test_notebooks_exist():
    assert NOTEBOOK_IDS == sorted(BUILDER.NOTEBOOKS), \
        "notebooks/*.ipynb differ from the notebooks defined in build_notebooks.py"


@pytest.mark.parametrize("name", NOTEBOOK_IDS)
def test_notebook_executes(name, notebook_runs):
    nb, seconds = notebook_runs[name].result()     # re-raises CellExecutionError on any error
    outputs = list(_outputs(nb))
    assert not [o for o in outputs if o.get("output_type") == "error"]
    latex = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")
             and "text/latex" in o.get("data", {})]
    assert latex, f"{name}: no LaTeX/Math output"
    print(f"{name}: executed in {seconds:.1f} s")


@pytest.mark.parametrize("name", sorted(BUILDER.NOTEBOOKS))
def test_notebook_up_to_date(name):
    path = NOTEBOOK_DIR / f"{name}.ipynb"
    assert path.exists(), f"{path.name} missing: run python notebooks/build_notebooks.py --execute"
    committed = nbformat.read(str(path), as_version=4)
    assert BUILDER.cell_sources(committed) == BUILDER.cell_sources(BUILDER.build(name)), \
        f"{path.name} is out of date: run python notebooks/build_notebooks.py --execute --only {name}"


@pytest.mark.parametrize("name", sorted(BUILDER.NOTEBOOKS))
def test_committed_notebook_carries_outputs(name):
    nb = nbformat.read(str(NOTEBOOK_DIR / f"{name}.ipynb"), as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells and all(c.execution_count is not None for c in code_cells), \
        f"{name}.ipynb is not executed: run python notebooks/build_notebooks.py --execute --only {name}"
    assert not [o for o in _outputs(nb) if o.get("output_type") == "error"]
    assert any("text/latex" in o.get("data", {}) for o in _outputs(nb))
    figures = sum(src.count("plt.show()") for kind, src in BUILDER.NOTEBOOKS[name] if kind == "code")
    pngs = sum("image/png" in o.get("data", {}) for o in _outputs(nb))
    assert pngs >= figures, f"{name}: {figures} figures drawn but {pngs} PNG outputs (inline backend lost?)"
