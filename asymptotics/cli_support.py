"""Pieces shared by the subcommands: argument types, output checks, atomic writes, strict JSON.

Light on purpose (standard library only at import time): ``asymptotics --help`` imports every
subcommand module, and each of those imports only this module and :mod:`asymptotics.validation`.

Rules every subcommand follows:

* arguments are validated by their ``type=`` before any work (a bad value is one ``error:`` line);
* output paths are checked *before* the computation (:func:`check_output_dir`,
  :func:`check_output_file`) and everything is written at the end, each file atomically
  (:class:`OutputFiles`), so a failure leaves nothing behind;
* ``--json`` prints exactly one JSON object with finite numbers only (:func:`print_json`) and writes
  no files unless an output path is given explicitly.

>>> positive_float("1e-3")
0.001
>>> decimal_text("0.1")
'0.1'
>>> int_in_range(1, 10)("11")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: must be an integer in [1, 10], got '11'
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
from pathlib import Path

from asymptotics.validation import IntegrationError, InvalidInputError

__all__ = [
    "finite_float",
    "positive_float",
    "nonnegative_float",
    "float_in_range",
    "decimal_text",
    "positive_decimal",
    "int_in_range",
    "float_list",
    "check_output_dir",
    "check_output_file",
    "OutputFiles",
    "print_json",
    "strict_jsonable",
    "figure_png",
]


def finite_float(text: str) -> float:
    """argparse type: a finite float.

    >>> finite_float("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a finite number, got 'nan'
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite float > 0."""
    value = finite_float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    """argparse type: a finite float >= 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def float_in_range(lo: float, hi: float):
    """argparse type factory: a finite float in ``[lo, hi]``.

    >>> float_in_range(0, 1)("0.5")
    0.5
    """

    def parse(text: str) -> float:
        value = finite_float(text)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must lie in [{lo:g}, {hi:g}], got {text!r}")
        return value

    parse.__name__ = f"number in [{lo:g}, {hi:g}]"
    return parse


def decimal_text(text: str) -> str:
    """argparse type: a finite decimal number, kept as the text typed (no binary rounding).

    >>> decimal_text("1e-3"), decimal_text(" 2 ")
    ('1e-3', '2')
    """
    from asymptotics.validation import exact_real

    try:
        exact_real("value", text)
    except InvalidInputError:
        raise argparse.ArgumentTypeError(f"must be a finite decimal number, got {text!r}") from None
    return text.strip()


def positive_decimal(text: str) -> str:
    """argparse type: a decimal number > 0, kept as typed."""
    from asymptotics.validation import exact_real

    text = decimal_text(text)
    if not exact_real("value", text) > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return text


def int_in_range(lo: int, hi: int):
    """argparse type factory: an integer in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except (TypeError, ValueError):
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in [{lo}, {hi}], got {text!r}")
        return value

    parse.__name__ = f"integer in [{lo}, {hi}]"
    return parse


def float_list(
    name: str,
    text: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    max_count: int = 10_000,
) -> list[float]:
    """Parse ``"1,10,1e3"`` into finite floats (bounds inclusive), with a clear error.

    >>> float_list("--alpha", "1,10,1e3")
    [1.0, 10.0, 1000.0]
    >>> float_list("--alpha", "1,inf")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: --alpha expects comma-separated finite numbers, got '1,inf'
    """
    parts = [part.strip() for part in str(text).split(",")]
    if not text or any(not p for p in parts):
        raise InvalidInputError(f"{name} expects comma-separated numbers, got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InvalidInputError(f"{name} expects comma-separated numbers, got {text!r}") from None
    if not all(math.isfinite(v) for v in values):
        raise InvalidInputError(f"{name} expects comma-separated finite numbers, got {text!r}")
    if len(values) > max_count:
        raise InvalidInputError(f"{name}: at most {max_count} values, got {len(values)}")
    if minimum is not None and min(values) < minimum:
        raise InvalidInputError(f"{name} values must be >= {minimum:g}, got {min(values):g}")
    if maximum is not None and max(values) > maximum:
        raise InvalidInputError(f"{name} values must be <= {maximum:g}, got {max(values):g}")
    return values


def _first_existing_ancestor(path: Path) -> Path:
    p = path
    while not p.exists():
        if p.parent == p:
            break
        p = p.parent
    return p


def check_output_dir(value, option: str = "--out") -> Path:
    """Check before any work that ``value`` is (or can be created as) a writable folder.

    Nothing is created here.  Raises :class:`InvalidInputError` naming ``option``.

    >>> check_output_dir("/proc/version/x")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: --out /proc/version/x: /proc/version is not a folder
    """
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"{option} {value}: it exists and is not a folder")
    base = _first_existing_ancestor(path)
    if not base.is_dir():
        raise InvalidInputError(f"{option} {value}: {base} is not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise InvalidInputError(f"{option} {value}: {base} is not writable")
    # os.access says yes to root and on read-only or virtual file systems: try a file (removed at once)
    try:
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as exc:
        raise InvalidInputError(f"{option} {value}: cannot create files in {base} ({exc.strerror})") from None
    return path


def check_output_file(value, option: str) -> Path:
    """Check before any work that a file can be written at ``value`` (its folder may be created)."""
    path = Path(value)
    if str(value).endswith(os.sep) or (path.exists() and path.is_dir()):
        raise InvalidInputError(f"{option} {value}: it is a folder, a file name is needed")
    if path.exists() and not os.access(path, os.W_OK):
        raise InvalidInputError(f"{option} {value}: the file is not writable")
    check_output_dir(path.parent if str(path.parent) else Path("."), option)
    return path


class OutputFiles:
    """Files to write at the end of a command, all or nothing, each one atomically.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> out = OutputFiles()
    >>> out.add(d / "a" / "x.txt", "hello")
    >>> [p.name for p in out.commit()]
    ['x.txt']
    >>> (d / "a" / "x.txt").read_text()
    'hello'
    """

    def __init__(self):
        self._items: list[tuple[Path, bytes]] = []

    def add(self, path, content) -> None:
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        self._items.append((Path(path), data))

    def __len__(self) -> int:
        return len(self._items)

    def commit(self) -> list[Path]:
        """Write every file (temporary file in the same folder, then ``os.replace``)."""
        written = []
        for path, data in self._items:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
            written.append(path)
        return written


def strict_jsonable(obj, where: str = "output"):
    """Plain JSON types; raises :class:`IntegrationError` on NaN or infinity (never null for a number).

    >>> strict_jsonable({"x": [1.0, 2]})
    {'x': [1.0, 2]}
    >>> strict_jsonable({"x": float("nan")})
    Traceback (most recent call last):
    ...
    asymptotics.validation.IntegrationError: non-finite value in output x: nan
    """
    if isinstance(obj, dict):
        return {
            str(k): strict_jsonable(v, f"{k}" if where == "output" else f"{where}.{k}")
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple)):
        return [strict_jsonable(v, where) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):  # numpy arrays/scalars
        return strict_jsonable(obj.tolist(), where)
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, int):
        return obj
    if isinstance(obj, float) or hasattr(obj, "_mpf_"):
        value = float(obj)
        if not math.isfinite(value):
            raise IntegrationError(f"non-finite value in output {where}: {value}")
        return value
    return obj


def print_json(obj) -> None:
    """Print ``obj`` as exactly one strict JSON object on stdout."""
    text = json.dumps(strict_jsonable(obj), allow_nan=False)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure (closed afterwards)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()
