"""The tidy result table of a sweep, its files (CSV, Parquet) and its provenance record.

One row per point -- or, for a point whose result holds curves (equal-length lists such as
``alpha, D, Delta``), one row per point and curve entry -- with the columns

    point | parameters ... | results ... | status | error | wall_time | worker | cached | attempts | key

in grid order; result columns are sorted by name, ``alpha`` first.  List-valued parameters appear as JSON text.  Failed points have one row with empty
result cells.  :func:`table_rows` gives the same rows as plain dicts with missing cells left out
(JSON output never holds NaN or null numbers).

>>> recs = [{"index": 0, "params": {"K": 2}, "key": "k", "status": "ok", "result": {"alpha": [1, 10],
...          "D": [0.5, 1.5]}, "error": None, "wall_time": 0.1, "worker": "w", "cached": False, "attempts": 1}]
>>> [(r["alpha"], r["D"]) for r in table_rows(recs)]
[(1, 0.5), (10, 1.5)]
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["provenance", "records_to_frame", "table_rows", "write_json_atomic", "write_table"]

_TRAILER = ("status", "error", "wall_time", "worker", "cached", "attempts", "key")


def _param_cell(value):
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (list, dict)) else value


def table_rows(records: list) -> list[dict]:
    """Rows of the tidy table as dicts (missing cells omitted), in point order."""
    rows = []
    for rec in records:
        base = {"point": rec["index"]}
        base.update({k: _param_cell(v) for k, v in rec["params"].items()})
        trailer = {k: rec[k] for k in _TRAILER if rec.get(k) is not None}
        result = rec.get("result") or {}
        result = {k: result[k] for k in sorted(result, key=lambda k: (k != "alpha", k))}
        lists = {k: v for k, v in result.items() if isinstance(v, list)}
        scalars = {k: v for k, v in result.items() if not isinstance(v, list)}
        n = len(next(iter(lists.values()))) if lists else 1
        for j in range(n):
            row = dict(base)
            row.update(scalars)
            row.update({k: v[j] for k, v in lists.items()})
            row.update(trailer)
            rows.append(row)
    return rows


def records_to_frame(records: list):
    """The tidy table as a pandas DataFrame (columns ordered as in the module docstring)."""
    import pandas as pd

    rows = table_rows(records)
    order: list = ["point"]
    for rec in records:
        for k in rec["params"]:
            if k not in order:
                order.append(k)
    for row in rows:
        for k in row:
            if k not in order and k not in _TRAILER:
                order.append(k)
    order += [k for k in _TRAILER if any(k in r for r in rows)]
    frame = pd.DataFrame(rows, columns=order)
    if "error" in frame:
        frame["error"] = frame["error"].astype("string")
    return frame


def write_json_atomic(path, obj) -> Path:
    """Write JSON to ``path`` via a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path


def write_table(frame, out, *, stem: str = "table") -> dict:
    """Write ``<out>/<stem>.csv`` and ``<out>/<stem>.parquet`` (each atomically); return their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / f"{stem}.csv", "parquet": out / f"{stem}.parquet"}
    tmp_csv = out / f".{stem}.csv.tmp"
    frame.to_csv(tmp_csv, index=False, float_format=lambda x: repr(float(x)))  # exact round trip
    os.replace(tmp_csv, paths["csv"])
    tmp_pq = out / f".{stem}.parquet.tmp"
    frame.to_parquet(tmp_pq, index=False)
    os.replace(tmp_pq, paths["parquet"])
    return {k: str(v) for k, v in paths.items()}


def _git_commit() -> dict:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
        if commit.returncode != 0:
            return {}
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return {"git_commit": commit.stdout.strip(), "git_dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}


def _version(module: str):
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 -- a missing or odd package has no version
        return None


def provenance(result, *, command=None, extra: dict | None = None) -> dict:
    """Where a sweep's numbers come from: versions, git commit, command line, cluster, counts.

    >>> p = provenance(None, command=["asymptotics", "sweep", "curve"])
    >>> p["command"], "python" in p["versions"]
    ('asymptotics sweep curve', True)
    """
    from asymptotics import __version__

    versions = {"asymptotics": __version__, "python": platform.python_version()}
    for module in ("numpy", "scipy", "mpmath", "dask", "distributed", "pandas", "pyarrow"):
        versions[module] = _version(module)
    info = {
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(command if command is not None else sys.argv),
        "versions": versions,
        "platform": platform.platform(),
        "host": platform.node(),
        **_git_commit(),
    }
    if result is not None:
        info.update(
            {
                "function": result.function,
                "precision": result.precision,
                "where": result.where,
                "points": result.points,
                "done": result.done,
                "failed": result.failed,
                "cached": result.cached,
                "computed": result.computed,
                "resubmitted": result.resubmitted,
                "elapsed_seconds": round(result.elapsed, 3),
            }
        )
    if extra:
        info.update(extra)
    return info
