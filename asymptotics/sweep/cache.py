"""Content-addressed result cache: one JSON file per finished point, written atomically.

The key of a point is the SHA-256 of the canonical JSON of ``(function, parameters, precision,
package version)``: the function's dotted name (``module:qualname``), its keyword arguments, the
arguments that set its accuracy (``rtol``, ``digits``, ``n_test`` ...) and
``asymptotics.__version__``.  Canonical JSON has sorted keys and no whitespace; ``int`` and
``float`` stay distinct (``1`` and ``1.0`` are different keys: a miss never returns a wrong
result), numpy scalars and arrays become plain numbers and lists, tuples become lists.

An entry is stored at ``<root>/<key[:2]>/<key>.json``.  It is written to a temporary file in the same
folder, flushed to disk and renamed over the final name (``os.replace``, atomic on POSIX): a sweep
killed at any moment leaves either the complete entry or none.  A file that cannot be read back
(foreign or damaged) counts as missing and is recomputed.

>>> k1 = cache_key("m:f", {"K": 3, "eta": 1.0}, {"rtol": 1e-8}, version="0.1.0")
>>> k1 == cache_key("m:f", {"eta": 1.0, "K": 3}, {"rtol": 1e-8}, version="0.1.0")   # order-free
True
>>> k1 == cache_key("m:f", {"K": 3, "eta": 1.0}, {"rtol": 1e-9}, version="0.1.0")
False
>>> len(k1)
64
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import tempfile
from pathlib import Path

from asymptotics.validation import InvalidInputError

__all__ = ["ResultCache", "cache_key", "canonical", "canonical_json", "key_material"]

#: format of the cache entries (part of every key: a format change invalidates old entries)
CACHE_FORMAT = 1


def canonical(value, *, where: str = "parameter"):
    """``value`` as plain JSON types (dict keys sorted on output), or InvalidInputError.

    >>> import numpy as np
    >>> canonical({"b": (1, 2), "a": np.float64(0.5), "c": np.arange(2)})
    {'b': [1, 2], 'a': 0.5, 'c': [0, 1]}
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        if not math.isfinite(value):
            raise InvalidInputError(f"{where} values must be finite, got {value!r}")
        return value
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{where} names must be strings, got {k!r}")
            out[k] = canonical(v, where=where)
        return out
    if hasattr(value, "tolist") and not isinstance(value, (list, tuple)):  # numpy arrays and scalars
        return canonical(value.tolist(), where=where)
    if isinstance(value, (list, tuple)):
        return [canonical(v, where=where) for v in value]
    raise InvalidInputError(
        f"{where} values must be numbers, strings, booleans, lists or dicts; got {type(value).__name__} "
        f"{value!r}"
    )


def canonical_json(value) -> str:
    """Deterministic JSON text: sorted keys, no whitespace, shortest round-trip floats.

    >>> canonical_json({"b": 1.0, "a": [1, 2.5]})
    '{"a":[1,2.5],"b":1.0}'
    """
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def key_material(function: str, params: dict, precision: dict | None, version: str | None = None) -> dict:
    """The dict that is hashed into the key (stored in the entry as well, for inspection)."""
    if version is None:
        from asymptotics import __version__ as version
    if not isinstance(function, str) or not function:
        raise InvalidInputError(f"the function name must be a non-empty string, got {function!r}")
    return {
        "format": CACHE_FORMAT,
        "function": function,
        "params": canonical(params),
        "precision": canonical(precision or {}, where="precision"),
        "version": str(version),
    }


def cache_key(
    function: str, params: dict, precision: dict | None = None, *, version: str | None = None
) -> str:
    """SHA-256 hex digest of the canonical key material (see module docstring)."""
    material = key_material(function, params, precision, version)
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


class ResultCache:
    """Finished points on disk, one JSON file per key under ``root``.

    >>> import tempfile
    >>> cache = ResultCache(tempfile.mkdtemp())
    >>> key = cache_key("m:f", {"x": 1})
    >>> cache.get(key) is None
    True
    >>> cache.put(key, {"result": {"y": 2.0}})
    >>> cache.get(key)["result"]
    {'y': 2.0}
    >>> len(cache)
    1
    """

    def __init__(self, root):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Location of the entry for ``key``."""
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise InvalidInputError(f"not a cache key: {key!r}")
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The stored entry, or None if missing or unreadable (then it is recomputed)."""
        path = self.path(key)
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return None
        return entry

    def put(self, key: str, entry: dict) -> None:
        """Store ``entry`` (JSON-able dict) under ``key`` atomically (temporary file + ``os.replace``)."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({**entry, "key": key}, sort_keys=True, allow_nan=False)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:16]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        if not self.root.is_dir():
            return 0
        return sum(1 for _ in self.root.glob("??/*.json"))
