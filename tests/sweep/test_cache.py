"""Cache keys (every ingredient changes the key) and the atomic, content-addressed cache files."""

import json
import os

import numpy as np
import pytest

from asymptotics import __version__
from asymptotics.sweep.cache import ResultCache, cache_key, canonical_json
from asymptotics.validation import InvalidInputError

BASE = {
    "function": "asymptotics.sweep.tasks:closure_curve",
    "params": {"K": 3, "eta": 1.0, "alphas": [1.0, 10.0]},
    "precision": {"rtol": 1e-10},
}


def key(**change):
    args = {**BASE, **change}
    return cache_key(args["function"], args["params"], args["precision"], version=change.get("version"))


def test_key_is_stable_and_order_free():
    assert key() == key()
    reordered = {"alphas": [1.0, 10.0], "eta": 1.0, "K": 3}
    assert key(params=reordered) == key()
    assert key() == cache_key(BASE["function"], BASE["params"], BASE["precision"], version=__version__)


@pytest.mark.parametrize(
    "name, value",
    [
        ("K", 4),
        ("eta", 1.0 + 2**-52),
        ("alphas", [1.0, 10.0, 100.0]),
        ("alphas", [1.0, 10.000000001]),
        ("seed", 0),
    ],
)
def test_key_changes_with_every_parameter(name, value):
    params = {**BASE["params"], name: value}
    assert key(params=params) != key()


def test_key_changes_with_precision_version_and_function():
    assert key(precision={"rtol": 1e-8}) != key()
    assert key(precision={}) != key()
    assert key(precision={"rtol": 1e-10, "digits": 30}) != key()
    assert key(version="0.1.1") != key(version="0.1.0")
    assert key(function="asymptotics.sweep.tasks:sgd_block") != key()


def test_int_and_float_are_distinct_and_numpy_is_plain():
    assert key(params={**BASE["params"], "K": 3.0}) != key()
    assert key(params={**BASE["params"], "K": np.int64(3), "alphas": np.array([1.0, 10.0])}) == key()
    assert canonical_json({"a": (1, 2.5)}) == '{"a":[1,2.5]}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object(), {1: 2}])
def test_bad_parameter_values_are_rejected(bad):
    with pytest.raises(InvalidInputError):
        cache_key("m:f", {"x": bad})


def test_entries_are_content_addressed_and_round_trip(tmp_path):
    cache = ResultCache(tmp_path)
    k = key()
    cache.put(k, {"status": "ok", "result": {"y": [0.1, 1e-300, 123456789.123456789]}})
    path = tmp_path / k[:2] / f"{k}.json"
    assert path.is_file()
    assert json.loads(path.read_text())["key"] == k
    assert cache.get(k)["result"]["y"] == [0.1, 1e-300, 123456789.123456789]  # exact floats
    assert k in cache and len(cache) == 1


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path)
    k = key()

    def crash(src, dst):
        raise KeyboardInterrupt("killed between write and rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.put(k, {"status": "ok", "result": {"y": 1.0}})
    monkeypatch.undo()
    assert cache.get(k) is None
    assert list(tmp_path.rglob("*.tmp")) == []  # the temporary file is removed too


def test_damaged_or_foreign_entries_count_as_missing(tmp_path):
    cache = ResultCache(tmp_path)
    k = key()
    cache.path(k).parent.mkdir(parents=True)
    cache.path(k).write_text('{"status": "ok", "res')  # truncated
    assert cache.get(k) is None
    cache.path(k).write_text(json.dumps({"key": "0" * 64, "status": "ok"}))  # someone else's key
    assert cache.get(k) is None
    with pytest.raises(InvalidInputError):
        cache.path("../../etc/passwd")
