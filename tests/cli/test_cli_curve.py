"""The ``asymptotics curve`` command: JSON contract, files written, one-line errors."""

import json
import subprocess
import sys

import numpy as np
import pytest

from asymptotics.cli import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "asymptotics.cli", *args], capture_output=True, text=True)


def test_json_contract_exact_alphas():
    result = run_cli("curve", "--K", "2", "--eta", "0.5", "--alpha", "1,10,100", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert data["alpha"] == [1.0, 10.0, 100.0]
    for key in ("D", "Delta", "eps_g", "loss"):
        assert len(data[key]) == 3
    # K = 2: eps_g is a known function of the state
    D, Delta = np.array(data["D"]), np.array(data["Delta"])
    np.testing.assert_allclose(data["eps_g"], np.arccos(D / np.sqrt(D**2 + Delta)) / np.pi, rtol=1e-9)


def test_initial_condition_flags(tmp_path):
    result = run_cli(
        "curve", "--K", "2", "--eta", "1", "--alpha", "0,1", "--D0", "2", "--Delta0", "0.5", "--json"
    )
    data = json.loads(result.stdout)
    assert data["D"][0] == pytest.approx(2.0)
    assert data["Delta"][0] == pytest.approx(0.5)


def test_table_and_files(tmp_path, capsys):
    code = main(["curve", "--K", "2", "--eta", "1", "--alpha-max", "100", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "eps_g" in out and "Delta" in out
    for name in ("curve.csv", "curve.json", "curve.png"):
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["curve", "--K", "1"], "--K: must be an integer in [2, 20]"),
        (["curve", "--eta", "0"], "--eta: must lie in"),
        (["curve", "--alpha-max", "0"], "--alpha-max: must lie in"),
        (["curve", "--alpha-max", "-5"], "--alpha-max: must lie in"),
        (["curve", "--Delta0", "-1", "--alpha", "1"], "--Delta0: must be >= 0"),
        (["curve", "--eta", "nan"], "--eta: must be a finite number"),
        (["curve", "--alpha", "1,x"], "--alpha expects"),
    ],
)
def test_bad_input_gives_one_line_error(args, fragment):
    result = run_cli(*args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert fragment in lines[0]
