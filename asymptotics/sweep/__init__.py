"""Parameter sweeps on Dask with a content-addressed result cache.

Run any toolkit function over a grid of parameter points -- on a ``LocalCluster`` sized to the
machine by default, on any ``dask.distributed`` cluster given its address, or in-process for
debugging -- with every finished point stored on disk under a hash of (function, parameters,
precision, package version), so that a repeated point is not recomputed and an interrupted sweep
resumes where it stopped.  Results become a tidy table (CSV + Parquet) with its provenance.

Modules (each with one job):

* :mod:`~asymptotics.sweep.grid`     -- parameter grids (product of lists or explicit points), parsing
* :mod:`~asymptotics.sweep.cache`    -- canonical parameters, cache keys, atomic on-disk cache
* :mod:`~asymptotics.sweep.runner`   -- :func:`run_sweep`: the cluster, retries, progress, failures
* :mod:`~asymptotics.sweep.table`    -- the tidy table, CSV/Parquet files and the provenance record
* :mod:`~asymptotics.sweep.tasks`    -- point functions for the closure curve and the SGD simulator
* :mod:`~asymptotics.sweep.cli`      -- ``asymptotics sweep curve|simulate``
* :mod:`~asymptotics.sweep.finite_size` -- the finite-size study of online SGD against the closure

This package imports nothing heavy at import time (the command line must start quickly); Dask,
pandas and numpy are imported by the modules that need them.
"""

__all__ = ["ResultCache", "cache_key", "product_grid", "run_sweep"]


def __getattr__(name):
    if name == "run_sweep":
        from asymptotics.sweep.runner import run_sweep

        return run_sweep
    if name == "product_grid":
        from asymptotics.sweep.grid import product_grid

        return product_grid
    if name in ("ResultCache", "cache_key"):
        from asymptotics.sweep import cache

        return getattr(cache, name)
    raise AttributeError(f"module 'asymptotics.sweep' has no attribute {name!r}")
