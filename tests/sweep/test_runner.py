"""The sweep runner: failures recorded, cache and resume, identical results on a LocalCluster,
fault tolerance when a worker dies or the cluster restarts mid-sweep."""

import os
import signal
import threading
import time

import pytest
import sweep_points

from asymptotics.sweep.cache import ResultCache
from asymptotics.sweep.grid import product_grid
from asymptotics.sweep.runner import run_sweep
from asymptotics.validation import InvalidInputError

HERE = "sweep_points"


def test_a_raising_point_is_recorded_and_the_others_complete(tmp_path):
    res = run_sweep(f"{HERE}:fail_on_three", product_grid({"x": [1, 2, 3, 4]}), cache=tmp_path, workers=1)
    assert [r["status"] for r in res.records] == ["ok", "ok", "failed", "ok"]
    assert res.records[2]["error"] == "ValueError: point 3 is refused on purpose"
    assert [r["result"]["y"] for r in res.records if r["status"] == "ok"] == [2, 4, 8]
    assert (res.done, res.failed) == (3, 1)
    assert len(ResultCache(tmp_path)) == 3  # failures are not cached
    again = run_sweep(f"{HERE}:fail_on_three", product_grid({"x": [1, 2, 3, 4]}), cache=tmp_path, workers=1)
    assert (again.cached, again.computed, again.failed) == (3, 1, 1)  # the failure is retried


def test_non_finite_and_malformed_results_are_failures():
    res = run_sweep(f"{HERE}:not_finite", product_grid({"x": [-1.0, 2.0]}), workers=1)
    assert res.records[0]["status"] == "failed" and "finite" in res.records[0]["error"]
    assert res.records[1]["result"] == {"y": 2.0}


def test_cache_hits_and_force(tmp_path):
    points = product_grid({"x": [1.0, 2.0, 3.0]}, fixed={"offset": 0.5})
    first = run_sweep(f"{HERE}:square", points, cache=tmp_path, workers=1)
    assert (first.computed, first.cached) == (3, 0)
    second = run_sweep(f"{HERE}:square", points + [{"x": 4.0, "offset": 0.5}], cache=tmp_path, workers=1)
    assert (second.computed, second.cached) == (1, 3)  # only the new point runs
    assert [r["result"]["y"] for r in second.records] == [1.5, 4.5, 9.5, 16.5]
    forced = run_sweep(f"{HERE}:square", points, cache=tmp_path, workers=1, force=True)
    assert (forced.computed, forced.cached) == (3, 0)
    other = run_sweep(f"{HERE}:square", points, precision={}, cache=tmp_path, workers=1)
    assert other.cached == 3
    assert (
        run_sweep(f"{HERE}:square", [{"x": 1.0}], precision={"offset": 0.5}, cache=tmp_path, workers=1).cached
        == 0
    )  # precision is part of the key


def test_curves_become_one_row_per_entry():
    res = run_sweep(f"{HERE}:curve_point", product_grid({"x": [1, 2]}), workers=1)
    frame = res.table()
    assert list(frame["point"]) == [0, 0, 1, 1]
    assert list(frame["alpha"]) == [1.0, 10.0, 1.0, 10.0]
    assert list(frame["y"]) == [1.0, 10.0, 2.0, 20.0]
    assert list(frame["label"]) == ["x1", "x1", "x2", "x2"]


def test_bad_sweeps_are_refused_before_running():
    with pytest.raises(InvalidInputError):
        run_sweep(f"{HERE}:square", [])
    with pytest.raises(InvalidInputError):
        run_sweep(f"{HERE}:square", [{"x": 1.0}, {"x": 1.0}])
    with pytest.raises(InvalidInputError):
        run_sweep(lambda x: x, [{"x": 1.0}])
    with pytest.raises(InvalidInputError):
        run_sweep("sweep_points:no_such_function", [{"x": 1.0}])
    with pytest.raises(InvalidInputError):
        run_sweep(f"{HERE}:square", [{"x": 1.0}], precision={"x": 2.0})


# ----------------------------------------------------------------------------------------------------
# on a LocalCluster with 2 single-threaded worker processes


@pytest.fixture(scope="module")
def client():
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


REAL_POINTS = [
    (
        "asymptotics.sweep.tasks:sgd_block",
        [
            {"K": K, "eta": 1.0, "N": 40, "seeds": 3, "seed": s, "alphas": [0.5, 1.0]}
            for K in (2, 3)
            for s in (0, 1)
        ],
        {"n_test": 200},
    ),
    (
        "asymptotics.sweep.tasks:closure_curve",
        [{"K": 2, "eta": eta, "alphas": [1.0, 10.0]} for eta in (0.5, 1.0, 2.0)],
        {"rtol": 1e-8},
    ),
]


@pytest.mark.parametrize("function, points, precision", REAL_POINTS)
def test_local_cluster_gives_results_identical_to_serial(client, function, points, precision):
    serial = run_sweep(function, points, precision=precision, scheduler="synchronous")
    distributed = run_sweep(function, points, precision=precision, client=client)
    assert serial.failed == 0 and distributed.failed == 0
    assert [r["result"] for r in distributed.records] == [r["result"] for r in serial.records]
    assert {r["worker"] for r in distributed.records} <= set(client.scheduler_info()["workers"])
    assert all(r["worker"].startswith("local:") for r in serial.records)


def _run_in_thread(**kwargs):
    box = {}

    def target():
        try:
            box["result"] = run_sweep(**kwargs)
        except BaseException as exc:  # noqa: BLE001 -- surfaced by the test below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def _wait_for(predicate, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("how", ["kill-worker-process", "client-restart"])
def test_a_worker_lost_mid_sweep_loses_nothing(client, tmp_path, how):
    folder = tmp_path / "marks"
    folder.mkdir()
    slow = 5
    # the slow point's first attempt sleeps 120 s: longer than any restart under load, so an attempt that a
    # restart failed to stop in time cannot complete during the test (it is killed at the end)
    points = product_grid(
        {"x": list(range(8))}, fixed={"folder": str(folder), "delay": 0.3, "slow": slow, "slow_delay": 120.0}
    )
    thread, box = _run_in_thread(
        function=f"{HERE}:marked", points=points, client=client, cache=tmp_path / "cache"
    )
    # once every other point is done, kill the worker of the slow point while it sleeps
    assert _wait_for(lambda: sweep_points.count(folder, "start", slow) >= 1)
    assert _wait_for(lambda: all(sweep_points.count(folder, "done", x) for x in range(8) if x != slow))
    time.sleep(0.3)
    if how == "kill-worker-process":
        pid = int(next(folder.glob(f"start-{slow}-*")).read_text())
        os.kill(pid, signal.SIGKILL)
    else:
        client.restart()
    thread.join(timeout=90)
    assert not thread.is_alive(), "the sweep did not finish after the worker was lost"
    assert "error" not in box, box.get("error")
    res = box["result"]
    assert res.failed == 0 and res.done == 8
    assert [r["result"]["y"] for r in res.records] == [3 * x + 1 for x in range(8)]
    # every point completed exactly once (the slow one was started twice, completed once)
    assert [sweep_points.count(folder, "done", x) for x in range(8)] == [1] * 8
    assert sweep_points.count(folder, "start", slow) == 2
    assert len(ResultCache(tmp_path / "cache")) == 8
    # a killed worker's task is rescheduled by Dask itself; a restart cancels it and the runner resubmits
    assert res.records[slow]["attempts"] == (2 if how == "client-restart" else 1)
    # a first attempt that a restart failed to stop in time must not outlive the test
    first = min(folder.glob(f"start-{slow}-*"), key=lambda m: m.stat().st_mtime_ns)
    pid = int(first.read_text())
    if pid not in client.run(os.getpid).values():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
