"""Run a function over parameter points on Dask, with a result cache, retries and a progress bar.

:func:`run_sweep` is the one entry point.  Where the points run:

* ``client=`` an existing ``distributed.Client``;
* ``scheduler="tcp://host:port"`` the address of a running Dask scheduler;
* ``scheduler="synchronous"`` (or ``workers=1``): in this process, one point after the other, no Dask
  at all (debugging, and the serial reference);
* default: a ``LocalCluster`` with one single-threaded worker process per CPU (``workers=N`` for N),
  no dashboard, Dask's log messages silenced below ERROR.

Contract of a point function (given as ``"module:qualname"`` or as a callable):

1. it is called as ``function(**params, **precision)`` and returns a dict of JSON-able values:
   numbers, strings, booleans, or equal-length lists of them (a curve; the table gets one row per
   list entry);
2. it is deterministic: the same arguments give the same result on any worker (seeded randomness);
3. an exception marks the point ``failed`` with the message ``"ExceptionType: message"``; non-finite
   numbers in the result count as a failure too (no NaN/Infinity ever reaches a table).

What a sweep guarantees:

* every point ends with exactly one record (status ``ok`` or ``failed``), in grid order;
* a point found in the cache is not recomputed (``force=True`` recomputes); each finished ``ok``
  point is written to the cache by the calling process as soon as its result arrives (atomic
  write), so an interrupted sweep keeps everything that had finished;
* failures are not cached (a rerun retries them); a sweep whose points are all cached starts no cluster;
* infrastructure failures -- a worker process that dies (``KilledWorker``), a cancelled task after
  ``client.restart()``, a lost connection to a worker -- resubmit the point (``retries`` times); they
  are not failures of the point.  The result of a point is fetched and released as soon as it is
  done, so losing a worker later does not recompute finished points.

>>> out = run_sweep("asymptotics.sweep.tasks:busy", [{"n": 3, "seed": 1}, {"n": 3, "seed": "x"}],
...                 scheduler="synchronous")
>>> out.done, out.failed, out.records[0]["result"], out.records[1]["error"]
(1, 1, {'state': 2165703038}, "ValueError: invalid literal for int() with base 10: 'x'")
"""

from __future__ import annotations

import importlib
import math
import socket
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from asymptotics.sweep.cache import ResultCache, cache_key, canonical, key_material
from asymptotics.validation import InvalidInputError

__all__ = [
    "SweepResult",
    "execute_point",
    "function_name",
    "open_client",
    "resolve_function",
    "run_sweep",
]


# ----------------------------------------------------------------------------------------------------
# naming and executing point functions


def function_name(function) -> str:
    """``"module:qualname"`` of a callable (or the string itself, checked).

    >>> function_name(math.hypot)
    'math:hypot'
    >>> function_name("asymptotics.sweep.tasks:noop")
    'asymptotics.sweep.tasks:noop'
    """
    if isinstance(function, str):
        module, _, qualname = function.partition(":")
        if not module or not qualname:
            raise InvalidInputError(f"a function is named 'module:qualname', got {function!r}")
        return function
    if not callable(function):
        raise InvalidInputError(f"not a function: {function!r}")
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise InvalidInputError(
            f"the function {function!r} has no importable name (lambda or local "
            "function): the cache key needs one; define it at module level"
        )
    return f"{module}:{qualname}"


def resolve_function(name: str):
    """Import ``"module:qualname"`` and return the object.

    >>> resolve_function("math:hypot")(3, 4)
    5.0
    """
    module, _, qualname = function_name(name).partition(":")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise InvalidInputError(f"cannot import the point function {name!r}: {exc}") from None
    if not callable(obj):
        raise InvalidInputError(f"{name!r} is not callable")
    return obj


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"local:{socket.gethostname()}"


def _check_result(result) -> dict:
    """The result as canonical JSON types; lists must share one length; all numbers finite."""
    if not isinstance(result, dict) or not result:
        raise TypeError(f"a point function must return a non-empty dict, got {type(result).__name__}")
    out = canonical(result, where="result")  # raises InvalidInputError on NaN/inf/objects
    lengths = {len(v) for v in out.values() if isinstance(v, list)}
    if len(lengths) > 1:
        raise ValueError(f"list-valued results must have one common length, got lengths {sorted(lengths)}")
    for name, value in out.items():
        items = value if isinstance(value, list) else [value]
        if any(isinstance(v, (list, dict)) for v in items):
            raise ValueError(f"result {name!r} must be a scalar or a flat list")
    return out


def execute_point(function, params: dict, precision: dict | None = None) -> dict:
    """Run one point and return its record (never raises for an error of the point itself).

    >>> rec = execute_point("json:loads", {"s": "[1, 2"})
    >>> rec["status"], rec["error"]
    ('failed', "JSONDecodeError: Expecting ',' delimiter: line 1 column 6 (char 5)")
    >>> execute_point("asymptotics.sweep.tasks:busy", {"n": 3, "seed": 1})["result"]
    {'state': 2165703038}
    """
    worker = _worker_name()
    start = time.perf_counter()
    try:
        func = resolve_function(function) if isinstance(function, str) else function
        value = func(**params, **(precision or {}))
        if not isinstance(value, dict):
            value = {"value": value}
        result, status, error = _check_result(value), "ok", None
    except Exception as exc:  # noqa: BLE001 -- any error of the point is recorded, not raised
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        result, status, error = None, "failed", f"{type(exc).__name__}: {message}".rstrip(": ")
    return {
        "status": status,
        "result": result,
        "error": error,
        "wall_time": time.perf_counter() - start,
        "worker": worker,
    }


# ----------------------------------------------------------------------------------------------------
# clusters


def _quiet_dask() -> None:
    import logging

    for name in (
        "distributed",
        "distributed.worker",
        "distributed.nanny",
        "distributed.scheduler",
        "distributed.core",
        "distributed.comm",
        "distributed.client",
        "tornado",
    ):
        logging.getLogger(name).setLevel(logging.ERROR)


def _check_scheduler_address(address: str) -> str:
    if address == "synchronous":
        return address
    if "://" not in address:
        address = f"tcp://{address}"
    scheme, _, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "inproc", "ws", "wss") or not host or not port.isdigit():
        raise InvalidInputError(f"--scheduler expects an address like tcp://host:8786, got {address!r}")
    return address


def _probe(address: str, timeout: float) -> None:
    """Fail at once (InvalidInputError) if nothing listens at a tcp:// address."""
    scheme, _, rest = address.partition("://")
    if scheme != "tcp":
        return
    host, _, port = rest.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise InvalidInputError(f"cannot connect to the Dask scheduler at {address}: {exc}") from None


@contextmanager
def open_client(
    *, client=None, scheduler: str | None = None, workers: int | None = None, connect_timeout: float = 10.0
):
    """Yield ``(client, description)``; ``client`` is None for in-process (synchronous) runs.

    A LocalCluster started here is shut down on exit; a given client or scheduler is left running.
    """
    if client is not None:
        yield client, f"client {client.scheduler.address}"
        return
    if workers is not None and (isinstance(workers, bool) or int(workers) != workers or workers < 1):
        raise InvalidInputError(f"workers must be an integer >= 1, got {workers!r}")
    if scheduler is not None:
        scheduler = _check_scheduler_address(str(scheduler))
    if scheduler == "synchronous" or (scheduler is None and workers == 1):
        yield None, "in-process (synchronous)"
        return
    import logging

    from distributed import Client, LocalCluster

    _quiet_dask()
    if scheduler is not None:
        _probe(scheduler, connect_timeout)
        try:
            c = Client(scheduler, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise InvalidInputError(f"cannot connect to the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield c, f"scheduler {scheduler}"
        finally:
            c.close()
        return
    import os

    n = int(workers) if workers is not None else (os.cpu_count() or 1)
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    c = Client(cluster)
    try:
        yield c, f"LocalCluster ({n} single-threaded worker processes)"
    finally:
        c.close()
        cluster.close()


# ----------------------------------------------------------------------------------------------------
# the sweep


@dataclass
class SweepResult:
    """Records of a sweep, one per point in grid order, and its counts.

    Each record: ``index, params, key, status ('ok'|'failed'), result (dict or None), error,
    wall_time, worker, cached (bool), attempts``.
    """

    function: str
    precision: dict
    records: list
    where: str
    elapsed: float
    computed: int = 0
    resubmitted: int = 0
    meta: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        return len(self.records)

    @property
    def failed(self) -> int:
        return sum(r["status"] == "failed" for r in self.records)

    @property
    def done(self) -> int:
        return sum(r["status"] == "ok" for r in self.records)

    @property
    def cached(self) -> int:
        return sum(bool(r["cached"]) for r in self.records)

    def table(self):
        """The tidy pandas table (see :func:`asymptotics.sweep.table.records_to_frame`)."""
        from asymptotics.sweep.table import records_to_frame

        return records_to_frame(self.records)


class _Progress:
    def __init__(self, enabled: bool, total: int, cached: int):
        self.bar = None
        self.failed = 0
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total,
                initial=cached,
                desc="sweep",
                unit="pt",
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.1,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} points [{elapsed}<{remaining}{postfix}]",
            )
            self.bar.set_postfix_str(f"cached {cached}, failed 0", refresh=False)
        self.cached = cached

    def update(self, record: dict) -> None:
        self.failed += record["status"] == "failed"
        if self.bar is not None:
            self.bar.set_postfix_str(f"cached {self.cached}, failed {self.failed}", refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _infrastructure_errors():
    from distributed import KilledWorker

    errors = [KilledWorker, OSError, TimeoutError]
    try:
        from distributed.comm.core import CommClosedError

        errors.append(CommClosedError)
    except ImportError:
        pass
    return tuple(errors)


def run_sweep(
    function,
    points,
    *,
    precision: dict | None = None,
    cache=None,
    force: bool = False,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = False,
    retries: int = 3,
    on_record=None,
) -> SweepResult:
    """Run ``function(**point, **precision)`` for every point; see the module docstring.

    Parameters
    ----------
    function : ``"module:qualname"`` (imported on the workers) or a module-level callable.
    points : list of parameter dicts (:func:`asymptotics.sweep.grid.product_grid`).
    precision : keyword arguments that set the accuracy (passed to the function; part of the key).
    cache : a :class:`~asymptotics.sweep.cache.ResultCache`, a folder, or None (no cache).
    force : recompute points found in the cache (and overwrite their entries).
    client, scheduler, workers : where to run (module docstring).
    progress : progress bar on stderr (points done / total, cached, failed, ETA).
    retries : resubmissions of a point after infrastructure failures (a worker died, task cancelled).
    on_record : called with each new record as it arrives (after it has been cached).
    """
    name = function_name(function)
    if not isinstance(points, (list, tuple)) or not points:
        raise InvalidInputError("a sweep needs a non-empty list of points")
    if any(not isinstance(p, dict) for p in points):
        raise InvalidInputError("each point must be a dict of keyword arguments")
    precision = dict(precision or {})
    overlap = [k for p in points for k in p if k in precision]
    if overlap:
        raise InvalidInputError(f"parameter {overlap[0]!r} is given both as a point value and as precision")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidInputError(f"retries must be an integer >= 0, got {retries!r}")
    if cache is not None and not isinstance(cache, ResultCache):
        cache = ResultCache(cache)
    keys = [cache_key(name, p, precision) for p in points]
    if len(set(keys)) != len(keys):
        raise InvalidInputError("the sweep contains the same point twice")
    func = function
    if isinstance(function, str):
        resolve_function(function)  # fail early if it cannot be imported here

    start = time.perf_counter()
    records: list = [None] * len(points)
    todo = []
    for i, (p, key) in enumerate(zip(points, keys)):
        entry = None if (cache is None or force) else cache.get(key)
        if entry is not None and entry.get("status") == "ok":
            records[i] = _record(i, p, key, entry, cached=True, attempts=0)
        else:
            todo.append(i)
    state = {"computed": 0, "resubmitted": 0}
    bar = None

    def finish(i: int, outcome: dict, attempts: int) -> None:
        rec = _record(i, points[i], keys[i], outcome, cached=False, attempts=attempts)
        if cache is not None and rec["status"] == "ok":
            material = key_material(name, points[i], precision)
            cache.put(
                keys[i],
                {
                    "status": "ok",
                    "result": rec["result"],
                    "wall_time": rec["wall_time"],
                    "worker": rec["worker"],
                    "material": material,
                    "created": time.time(),
                },
            )
        records[i] = rec
        state["computed"] += 1
        bar.update(rec)
        if on_record is not None:
            on_record(rec)

    where = "cache only (nothing to compute)"
    try:
        if not todo:  # everything cached: no cluster is started
            bar = _Progress(progress, len(points), len(points))
        else:
            with open_client(client=client, scheduler=scheduler, workers=workers) as (c, where):
                bar = _Progress(progress, len(points), len(points) - len(todo))
                if c is None:
                    for i in todo:
                        finish(i, execute_point(func, points[i], precision), 1)
                else:
                    _run_distributed(c, func, points, precision, todo, keys, finish, retries, state)
    finally:
        if bar is not None:
            bar.close()
    return SweepResult(
        function=name,
        precision=precision,
        records=records,
        where=where,
        elapsed=time.perf_counter() - start,
        computed=state["computed"],
        resubmitted=state["resubmitted"],
    )


def _record(i, params, key, outcome, *, cached, attempts) -> dict:
    return {
        "index": i,
        "params": canonical(params),
        "key": key,
        "status": outcome["status"],
        "result": outcome.get("result"),
        "error": outcome.get("error"),
        "wall_time": float(outcome.get("wall_time", math.nan)),
        "worker": outcome.get("worker", ""),
        "cached": cached,
        "attempts": attempts,
    }


def _run_distributed(c, func, points, precision, todo, keys, finish, retries, state) -> None:
    from distributed import as_completed

    infra = _infrastructure_errors()
    attempts = dict.fromkeys(todo, 0)

    def submit(i):
        attempts[i] += 1
        fut = c.submit(
            execute_point,
            func,
            points[i],
            precision,
            pure=False,
            key=f"sweep-{keys[i][:16]}-{uuid.uuid4().hex[:8]}",
        )
        index_of[fut.key] = i
        return fut

    index_of: dict = {}
    pending = as_completed([submit(i) for i in todo])
    for fut in pending:
        i = index_of.pop(fut.key)
        status = fut.status
        outcome = None
        if status == "finished":
            try:
                outcome = fut.result()
            except infra + (Exception,) as exc:  # result lost in transfer: resubmit
                outcome, problem = None, exc
        else:
            try:
                problem = fut.exception() if status == "error" else f"task {status}"
            except Exception as exc:  # noqa: BLE001 -- cancelled futures raise here
                problem = exc
        fut.release()
        if outcome is not None:
            finish(i, outcome, attempts[i])
            continue
        if attempts[i] <= retries:
            state["resubmitted"] += 1
            pending.add(submit(i))
        else:
            last = problem if isinstance(problem, str) else f"{type(problem).__name__}: {problem}"
            finish(
                i,
                {
                    "status": "failed",
                    "result": None,
                    "wall_time": math.nan,
                    "worker": "",
                    "error": f"lost {attempts[i]} times to infrastructure failures; last: {last}",
                },
                attempts[i],
            )
