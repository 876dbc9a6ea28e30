"""Parameter grids: the product of value lists, or an explicit list of points.

A *point* is a dict ``name -> value`` of keyword arguments for the swept function.  Grids keep the
order of their axes (the last axis varies fastest), so the table of a sweep is in grid order no
matter in which order the points finish.

>>> product_grid({"K": [2, 3], "eta": [0.5, 1.0]})
[{'K': 2, 'eta': 0.5}, {'K': 2, 'eta': 1.0}, {'K': 3, 'eta': 0.5}, {'K': 3, 'eta': 1.0}]
>>> parse_float_list("--eta", "0.25, 1e2")
[0.25, 100.0]
"""

from __future__ import annotations

import itertools
import math

from asymptotics.validation import InvalidInputError

__all__ = ["explicit_points", "parse_float_list", "parse_int_list", "product_grid"]


def product_grid(axes: dict, fixed: dict | None = None) -> list[dict]:
    """All combinations of the value lists in ``axes`` (last axis fastest), each merged with ``fixed``.

    >>> product_grid({"N": [100, 200]}, fixed={"K": 3})
    [{'N': 100, 'K': 3}, {'N': 200, 'K': 3}]
    """
    if not isinstance(axes, dict) or not axes:
        raise InvalidInputError("a grid needs at least one axis (name -> list of values)")
    fixed = dict(fixed or {})
    for name, values in axes.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            raise InvalidInputError(f"grid axis {name!r} must be a list of values, got {values!r}")
        if name in fixed:
            raise InvalidInputError(f"parameter {name!r} is both a grid axis and fixed")
    lists = {name: list(values) for name, values in axes.items()}
    for name, values in lists.items():
        if not values:
            raise InvalidInputError(f"grid axis {name!r} has no values")
        if len(set(map(repr, values))) != len(values):
            raise InvalidInputError(f"grid axis {name!r} repeats a value: {values!r}")
    names = list(lists)
    return [{**dict(zip(names, combo)), **fixed} for combo in itertools.product(*lists.values())]


def explicit_points(points, fixed: dict | None = None) -> list[dict]:
    """An explicit list of points (dicts), each merged with ``fixed``; duplicates are an error.

    >>> explicit_points([{"D": 1.0}, {"D": 2.0}], fixed={"K": 3})
    [{'K': 3, 'D': 1.0}, {'K': 3, 'D': 2.0}]
    """
    fixed = dict(fixed or {})
    out, seen = [], set()
    for p in points:
        if not isinstance(p, dict):
            raise InvalidInputError(f"each point must be a dict of parameters, got {p!r}")
        point = {**fixed, **p}
        tag = repr(sorted(point.items()))
        if tag in seen:
            raise InvalidInputError(f"the point {point!r} appears twice")
        seen.add(tag)
        out.append(point)
    if not out:
        raise InvalidInputError("a sweep needs at least one point")
    return out


def _split(flag: str, text: str) -> list[str]:
    parts = [part.strip() for part in str(text).split(",")]
    if not parts or any(not part for part in parts):
        raise InvalidInputError(f"{flag} expects a comma-separated list of values, got {text!r}")
    return parts


def parse_float_list(flag: str, text: str, *, positive: bool = True) -> list[float]:
    """Comma-separated finite numbers (``> 0`` unless ``positive=False``), without repeats.

    >>> parse_float_list("--alpha", "1e2,1e4")
    [100.0, 10000.0]
    >>> parse_float_list("--eta", "1,x")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: --eta expects numbers, got 'x'
    """
    values = []
    for part in _split(flag, text):
        try:
            value = float(part)
        except ValueError:
            raise InvalidInputError(f"{flag} expects numbers, got {part!r}") from None
        if not math.isfinite(value):
            raise InvalidInputError(f"{flag} values must be finite, got {part!r}")
        if positive and value <= 0:
            raise InvalidInputError(f"{flag} values must be > 0, got {part!r}")
        values.append(value)
    if len(set(values)) != len(values):
        raise InvalidInputError(f"{flag} repeats a value: {text!r}")
    return values


def parse_int_list(flag: str, text: str, *, minimum: int = 1) -> list[int]:
    """Comma-separated integers ``>= minimum``, without repeats.

    >>> parse_int_list("--K", "2,3,5", minimum=2)
    [2, 3, 5]
    >>> parse_int_list("--K", "1", minimum=2)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: --K values must be integers >= 2, got '1'
    """
    values = []
    for part in _split(flag, text):
        try:
            value = int(part)
        except ValueError:
            raise InvalidInputError(f"{flag} values must be integers >= {minimum}, got {part!r}") from None
        if value < minimum:
            raise InvalidInputError(f"{flag} values must be integers >= {minimum}, got {part!r}")
        values.append(value)
    if len(set(values)) != len(values):
        raise InvalidInputError(f"{flag} repeats a value: {text!r}")
    return values
