import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mpmath
import pytest


def pytest_addoption(parser):
    parser.addoption(
        "--run-slow", action="store_true", default=False, help="run the long validations in full"
    )


@pytest.fixture(autouse=True)
def _reset_mpmath_precision():
    """Every test starts and ends at mpmath's default precision (15 digits)."""
    mpmath.mp.dps = 15
    yield
    mpmath.mp.dps = 15


@pytest.fixture
def run_slow(request):
    return request.config.getoption("--run-slow")


# ---------------------------------------------------------------------------------------------------
# Notebooks: executed once per session, two at a time, shared by tests/notebooks and tests/docs
# ---------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
#: the notebook sources (MyST markdown read by jupytext); adding a notebook = adding one such file
NOTEBOOK_PATHS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.md"))
NOTEBOOK_CELL_TIMEOUT = 180  # seconds; a notebook is meant to run in < 60 s in total
NOTEBOOK_WORKERS = 2
#: the execution cache of the documentation build (``nb_execution_cache_path`` in docs/conf.py)
DOCS_EXECUTION_CACHE = ROOT / "docs" / "_build" / ".jupyter_cache"
_CACHE_LOCK = threading.Lock()  # one writer at a time into the cache database


def _execute_notebook(path: Path, workdir: Path, cache_dir: Path | None):
    """Read ``path`` with jupytext and execute it in ``workdir``; returns (notebook, seconds).

    The kernel imports the ``asymptotics`` of this tree (``PYTHONPATH``).  With ``cache_dir`` the
    executed notebook is also stored in that jupyter-cache, where the documentation build finds it
    (the cache matches notebooks by kernelspec, code and cell metadata: no timing metadata is recorded).
    """
    import jupytext
    from nbclient import NotebookClient

    workdir.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(path)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    t0 = time.perf_counter()
    NotebookClient(
        nb,
        timeout=NOTEBOOK_CELL_TIMEOUT,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    ).execute(env=env)
    seconds = time.perf_counter() - t0
    if cache_dir is not None:
        from jupyter_cache import get_cache
        from jupyter_cache.base import CacheBundleIn

        with _CACHE_LOCK:
            get_cache(str(cache_dir)).cache_notebook_bundle(
                CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
    return nb, seconds


@pytest.fixture(scope="session")
def notebook_runs(request, tmp_path_factory):
    """Futures ``{name: (notebook, seconds)}`` of the notebook executions, ``NOTEBOOK_WORKERS`` at a time.

    Only the notebooks of the selected ``test_notebook_executes`` items run, or all of them when a
    documentation test asks for the fixture; in that case the results also fill the docs build's
    execution cache, so that the site is built from these executions instead of repeating them.
    """
    items = [item for item in request.session.items if "notebook_runs" in getattr(item, "fixturenames", ())]
    wanted = {
        item.callspec.params["name"]
        for item in items
        if getattr(item, "originalname", "") == "test_notebook_executes" and hasattr(item, "callspec")
    }
    for_docs = any(item.path.parent.name == "docs" for item in items)
    cache_dir = None
    if for_docs:
        wanted = {p.stem for p in NOTEBOOK_PATHS}
        try:
            import jupyter_cache  # noqa: F401

            cache_dir = DOCS_EXECUTION_CACHE
        except ImportError:
            cache_dir = None
    base = tmp_path_factory.mktemp("notebooks")
    pool = ThreadPoolExecutor(max_workers=NOTEBOOK_WORKERS)
    futures = {
        p.stem: pool.submit(_execute_notebook, p, base / p.stem, cache_dir)
        for p in NOTEBOOK_PATHS
        if p.stem in wanted
    }
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)
