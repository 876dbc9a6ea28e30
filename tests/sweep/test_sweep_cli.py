"""``asymptotics sweep curve|simulate``: JSON contract, exit codes, bad input, resume after the
process is killed, and a separately started ``dask scheduler`` + ``dask worker``."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from asymptotics.cli import main

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CONTRACT_KEYS = {"points", "done", "failed", "cached", "table", "rows"}
# pandas >= 3 parses floats exactly by default (and deprecates the option); older pandas needs it
EXACT_FLOATS = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def cli_subprocess(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    return subprocess.run(
        [sys.executable, "-m", "asymptotics.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def test_curve_json_contract_and_cache(tmp_path, capsys):
    out = tmp_path / "grid"
    args = [
        "sweep",
        "curve",
        "--K",
        "2",
        "--eta",
        "0.5,1",
        "--alpha",
        "1,10",
        "--out",
        str(out),
        "--workers",
        "1",
        "--json",
    ]
    code, stdout, _ = run_cli(args, capsys)
    assert code == 0
    summary = json.loads(stdout)  # exactly one JSON object on stdout
    assert CONTRACT_KEYS <= set(summary)
    assert (summary["points"], summary["done"], summary["failed"], summary["cached"]) == (2, 2, 0, 0)
    assert summary["table"] == str(out / "table.csv")
    assert len(summary["rows"]) == 4  # 2 points x 2 recorded alphas
    # K = 2 closure identity: eps_g = arccos(D / sqrt(D^2 + Delta)) / pi
    import math

    for row in summary["rows"]:
        assert row["eps_g"] == pytest.approx(
            math.acos(row["D"] / math.hypot(row["D"], math.sqrt(row["Delta"]))) / math.pi, rel=1e-9
        )
    csv = pd.read_csv(out / "table.csv", **EXACT_FLOATS)
    assert list(csv["eta"]) == [0.5, 0.5, 1.0, 1.0] and list(csv["alpha"]) == [1.0, 10.0, 1.0, 10.0]
    assert pd.read_parquet(out / "table.parquet")["D"].tolist() == csv["D"].tolist()
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["versions"]["numpy"] and prov["function"] == "asymptotics.sweep.tasks:closure_curve"
    assert "sweep curve" in prov["command"]
    code, stdout, _ = run_cli(args, capsys)
    again = json.loads(stdout)
    assert (again["cached"], again["computed"], again["done"]) == (2, 0, 2)
    assert again["rows"] == [
        {**r, "cached": True, "attempts": 0, "wall_time": r2["wall_time"]}
        for r, r2 in zip(summary["rows"], again["rows"])
    ]


def test_failed_points_set_the_exit_code(tmp_path, capsys, monkeypatch):
    from asymptotics.sweep import tasks

    real = tasks.closure_curve

    def refuse_eta_two(K, eta, alphas, rtol):
        if eta == 2.0:
            raise RuntimeError("no convergence at eta = 2 (test)")
        return real(K, eta, alphas, rtol)

    monkeypatch.setattr(tasks, "closure_curve", refuse_eta_two)
    code, stdout, _ = run_cli(
        [
            "sweep",
            "curve",
            "--K",
            "2",
            "--eta",
            "0.5,2",
            "--alpha",
            "1",
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "1",
            "--json",
            "--quiet",
        ],
        capsys,
    )
    summary = json.loads(stdout)
    assert code == 1 and summary["failed"] == 1 and summary["done"] == 1
    failed = [r for r in summary["rows"] if r["status"] == "failed"]
    assert failed == [{k: failed[0][k] for k in failed[0]}] and failed[0]["eta"] == 2.0
    assert failed[0]["error"] == "RuntimeError: no convergence at eta = 2 (test)"
    assert "D" not in failed[0]  # no NaN or null cells in JSON rows


@pytest.mark.parametrize(
    "args, message",
    [
        (["curve", "--K", "1,2"], "--K values must be integers >= 2"),
        (["curve", "--eta", "0.5,-1"], "--eta values must be > 0"),
        (["curve", "--alpha", "1,nan"], "--alpha values must be finite"),
        (["curve", "--alpha", "1,,2"], "--alpha expects a comma-separated list"),
        (["curve", "--rtol", "1"], "--rtol must lie in"),
        (["curve", "--workers", "0"], "--workers must be an integer >= 1"),
        (["curve", "--scheduler", "not an address"], "--scheduler expects an address"),
        (["simulate", "--K", "3", "--N", "2"], "every --N must be >= the largest K"),
        (["simulate", "--seeds", "0"], "--seeds must be an integer >= 1"),
        (["simulate", "--alpha", "0.001", "--N", "100"], "alpha * N >= 1"),
    ],
)
def test_bad_input_is_one_error_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "never"
    code, stdout, stderr = run_cli(["sweep", *args, "--out", str(out), "--json"], capsys)
    assert code == 2 and stdout == ""
    assert stderr.startswith("error: ") and stderr.count("\n") == 1 and message in stderr
    assert not out.exists()


def test_unreachable_scheduler_is_an_error_and_writes_nothing(tmp_path, capsys):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "never"
    code, stdout, stderr = run_cli(
        [
            "sweep",
            "curve",
            "--K",
            "2",
            "--alpha",
            "1",
            "--out",
            str(out),
            "--scheduler",
            f"tcp://127.0.0.1:{port}",
            "--json",
        ],
        capsys,
    )
    assert code == 2 and stdout == "" and stderr.startswith("error: cannot connect to the Dask scheduler")
    assert not out.exists()


SIM_ARGS = [
    "sweep",
    "simulate",
    "--K",
    "2",
    "--eta",
    "1",
    "--N",
    "300",
    "--seeds",
    "10",
    "--seeds-per-point",
    "1",
    "--alpha",
    "1,20",
    "--n-test",
    "500",
    "--workers",
    "1",
    "--json",
]


def test_resume_after_the_sweep_process_is_killed(tmp_path):
    out = tmp_path / "killed"
    cache = out / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-m", "asymptotics.cli", *SIM_ARGS, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(list(cache.glob("??/*.json"))) < 3:
            assert proc.poll() is None, "the sweep finished before it could be killed"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    survived = list(cache.glob("??/*.json"))
    assert 3 <= len(survived) < 10
    for entry in survived:  # every entry on disk is complete
        assert json.loads(entry.read_text())["status"] == "ok"
    assert not (out / "table.csv").exists()

    resumed = cli_subprocess([*SIM_ARGS, "--out", str(out)], timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert (summary["cached"], summary["computed"], summary["done"]) == (
        len(survived),
        10 - len(survived),
        10,
    )

    fresh = cli_subprocess([*SIM_ARGS, "--out", str(tmp_path / "fresh")], timeout=300)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["computed"] == 10
    volatile = ["wall_time", "worker", "cached", "attempts"]
    a = pd.read_csv(out / "table.csv", **EXACT_FLOATS).drop(columns=volatile)
    b = pd.read_csv(tmp_path / "fresh" / "table.csv", **EXACT_FLOATS).drop(columns=volatile)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pooled = pd.read_csv(out / "summary.csv", **EXACT_FLOATS)
    assert list(pooled["seeds"]) == [10, 10]


@pytest.fixture
def external_cluster(tmp_path):
    """A ``dask scheduler`` and a ``dask worker`` on localhost, started here and torn down after."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    sfile = tmp_path / "scheduler.json"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dask",
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(sfile),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dask",
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                    "--name",
                    "external-worker",
                ],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        from distributed import Client

        with Client(address, timeout=30) as c:
            c.wait_for_workers(1, timeout=60)
            workers = set(c.scheduler_info()["workers"])
        yield address, workers
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)


def test_scheduler_address_runs_the_sweep_there(tmp_path, external_cluster):
    address, workers = external_cluster
    res = cli_subprocess(
        [
            "sweep",
            "curve",
            "--K",
            "2",
            "--eta",
            "0.5,1,2",
            "--alpha",
            "1,10",
            "--out",
            str(tmp_path / "remote"),
            "--scheduler",
            address,
            "--json",
        ],
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    assert (summary["done"], summary["failed"]) == (3, 0)
    assert {row["worker"] for row in summary["rows"]} <= workers  # computed on the external worker
    local = cli_subprocess(
        [
            "sweep",
            "curve",
            "--K",
            "2",
            "--eta",
            "0.5,1,2",
            "--alpha",
            "1,10",
            "--out",
            str(tmp_path / "local"),
            "--workers",
            "1",
            "--json",
        ],
        timeout=300,
    )
    values = lambda s: [(r["D"], r["Delta"], r["eps_g"], r["loss"]) for r in json.loads(s)["rows"]]
    assert values(res.stdout) == values(local.stdout)
    prov = json.loads((tmp_path / "remote" / "provenance.json").read_text())
    assert prov["where"] == f"scheduler {address}"
