"""Point functions used by the sweep tests (importable by Dask workers: this folder is on their path)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path


def square(x: float, offset: float = 0.0) -> dict:
    """A trivial deterministic point."""
    return {"y": x * x + offset}


def fail_on_three(x: int) -> dict:
    """Raises for x == 3 with a recognisable message."""
    if x == 3:
        raise ValueError(f"point {x} is refused on purpose")
    return {"y": 2 * x}


def curve_point(x: int) -> dict:
    """A point whose result is a curve (two recorded entries)."""
    return {"alpha": [1.0, 10.0], "y": [float(x), float(10 * x)], "label": f"x{x}"}


def not_finite(x: float) -> dict:
    return {"y": float("nan") if x < 0 else x}


def marked(x: int, folder: str, delay: float = 0.2, slow: int = -1, slow_delay: float = 30.0) -> dict:
    """Write ``start-x-*`` (with the pid), sleep, write ``done-x-*``: counts starts and completions.

    Point ``slow`` sleeps ``slow_delay`` on its first start only (time to kill its worker).
    """
    folder = Path(folder)
    tag = uuid.uuid4().hex
    (folder / f"start-{x}-{tag}").write_text(str(os.getpid()))
    first = count(folder, "start", x) == 1
    time.sleep(slow_delay if (x == slow and first) else delay)
    (folder / f"done-{x}-{tag}").write_text(str(os.getpid()))
    return {"y": 3 * x + 1}


def count(folder, prefix: str, x: int) -> int:
    return len(list(Path(folder).glob(f"{prefix}-{x}-*")))
