"""Writing result tables: aligned text for the terminal, CSV and JSON files.

A table is a mapping ``column name -> sequence`` of equal-length columns.

>>> print(format_table({"alpha": [1.0, 10.0], "D": [0.5, 1.25]}))
       alpha            D
           1          0.5
          10         1.25
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np


def _columns(table: dict) -> dict:
    cols = {name: np.asarray(values, dtype=float).ravel() for name, values in table.items()}
    lengths = {len(c) for c in cols.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: { {k: len(v) for k, v in cols.items()} }")
    return cols


def format_table(table: dict, *, digits: int = 6, width: int = 12) -> str:
    """Right-aligned text table with ``digits`` significant digits per entry."""
    cols = _columns(table)
    names = list(cols)
    lines = [" ".join(f"{n:>{width}}" for n in names)]
    for row in zip(*cols.values()):
        lines.append(" ".join(f"{x:>{width}.{digits}g}" for x in row))
    return "\n".join(lines)


def csv_text(table: dict) -> str:
    """The table as CSV text (full float precision).

    >>> print(csv_text({"a": [1.0], "b": [0.5]}), end="")
    a,b
    1.0,0.5
    """
    cols = _columns(table)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(cols))
    for row in zip(*cols.values()):
        writer.writerow([repr(float(x)) for x in row])
    return buf.getvalue()


def write_csv(path, table: dict) -> Path:
    """Write the table as CSV (full float precision) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(csv_text(table))
    return path


def to_jsonable(obj):
    """Convert numpy arrays/scalars and mpmath numbers inside ``obj`` to plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if hasattr(obj, "_mpf_"):  # mpmath.mpf
        return float(obj)
    return obj


def write_json(path, obj) -> Path:
    """Write ``obj`` as indented JSON and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_jsonable(obj), indent=2) + "\n")
    return path
