"""The command-line contracts: ``atlas``, ``--loss`` on curve/simulate/expand, and one-line errors."""

import json
import subprocess
import sys

import pytest

from asymptotics.cli import main
from asymptotics.losses.atlas import ROW_KEYS, atlas_latex_table, atlas_row, compute_atlas


def _json(capsys, argv):
    assert main(argv) == 0
    out = capsys.readouterr().out
    return json.loads(out)


def test_atlas_json_contract(capsys):
    data = _json(
        capsys,
        [
            "atlas",
            "--losses",
            "cross_entropy,focal:gamma=2,label_smoothing:eps=0.1",
            "--K",
            "2,3",
            "--schedules",
            "constant,power:beta=0.5",
            "--json",
        ],
    )
    rows = data["rows"]
    assert len(rows) == 3 * 2 * 2
    for r in rows:
        assert all(k in r for k in ROW_KEYS)
        assert isinstance(r["method"], str) and r["method"]
    by = {(r["loss"], r["K"], r["schedule"]): r for r in rows}
    ce = by[("cross_entropy", 3, "constant")]
    assert ce["exponent_eps_g"] == pytest.approx(-1 / 3) and ce["plateau_eps_g"] is None
    assert ce["prefactor_eps_g"] == pytest.approx(0.2256756405, rel=1e-9)  # spec: 0.22568...
    assert ce["prefactor_loss"] == pytest.approx(0.7547481396, rel=1e-9)
    f = by[("focal:gamma=2", 2, "power:beta=0.5")]
    assert f["exponent_eps_g"] == pytest.approx(-5 / 12) and f["exponent_loss"] == pytest.approx(-1 / 6)
    ls = by[("label_smoothing:eps=0.1", 2, "constant")]
    assert ls["exponent_eps_g"] == 0 and ls["plateau_eps_g"] > 0 and ls["prefactor_eps_g"] is None
    ls = by[("label_smoothing:eps=0.1", 3, "power:beta=0.5")]
    assert (
        ls["exponent_eps_g"] == -0.25 and ls["prefactor_loss"] is None and ls["exponent_excess_loss"] == -0.5
    )


def test_atlas_rows_k5_and_beta_one():
    r = atlas_row("brier", 5, "constant")
    assert r["exponent_eps_g"] == pytest.approx(-1 / 3) and r["error"] < 1e-2
    r = atlas_row("cross_entropy", 2, "power:beta=1")
    assert (
        r["exponent_eps_g"] == 0
        and r["prefactor_eps_g"] is None
        and "more slowly than any power" in r["method"]
    )
    a = compute_atlas(["margin:m=1"], [2], "constant,power:beta=0.25")
    assert r"\toprule" in atlas_latex_table(a)


def test_atlas_check_measures_the_closure():
    r = atlas_row("brier", 2, "constant", check=True, alpha_max=1e5)
    assert r["check"]["eps_g_exponent"] == pytest.approx(-1 / 3, abs=1e-3)
    assert r["error"] < 1e-3


def test_curve_and_simulate_with_loss(capsys):
    base = ["curve", "--K", "2", "--alpha", "1,10", "--json"]
    default = _json(capsys, base)
    assert sorted(default) == ["D", "Delta", "alpha", "eps_g", "loss"]
    ce = _json(capsys, base + ["--loss", "cross_entropy"])
    assert sorted(ce) == ["D", "Delta", "alpha", "cross_entropy", "eps_g", "loss"]
    assert ce["D"] == default["D"] and ce["cross_entropy"] == ce["loss"]
    focal = _json(capsys, base + ["--loss", "focal:gamma=2"])
    assert all(lo < c for lo, c in zip(focal["loss"], focal["cross_entropy"]))
    sim = _json(
        capsys,
        [
            "simulate",
            "--K",
            "2",
            "--N",
            "100",
            "--seeds",
            "2",
            "--alpha-max",
            "1",
            "--n-test",
            "200",
            "--json",
            "--loss",
            "brier",
        ],
    )
    assert "cross_entropy" in sim and sim["closure"]["cross_entropy"]


def test_expand_with_loss(capsys):
    r = _json(capsys, ["expand", "--K", "2", "--loss", "brier", "--json"])
    assert (
        r["regime"] == "boundary layer"
        and float(r["C_eps"]) > 0
        and "a2" in r["relative_corrections"]["eps_g"]
    )
    r = _json(capsys, ["expand", "--K", "2", "--loss", "label_smoothing", "--json"])
    assert r["regime"] == "saturated" and r["plateau"]["eps_g"] > 0


@pytest.mark.parametrize(
    "argv,message",
    [
        (["atlas", "--losses", "hinge", "--json"], "unknown loss"),
        (["atlas", "--losses", "squared_logits", "--K", "2", "--json"], "not shift invariant"),
        (["atlas", "--K", "1", "--json"], "--K values"),
        (["atlas", "--schedules", "power:beta=2", "--json"], "0 < beta <= 1"),
        (["curve", "--loss", "focal:gamma=-1", "--json"], "gamma must be >= 0"),
        (["curve", "--loss", "cross_entropy:T=0", "--json"], "T must be > 0"),
        (["curve", "--loss", "label_smoothing:eps=1", "--json"], "eps must lie in"),
        (["expand", "--K", "3", "--loss", "brier", "--order", "3", "--json"], "relative order 1"),
    ],
)
def test_bad_input_gives_one_error_line(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:  # argument errors exit through argparse
        code = exc.code
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]


def test_cli_module_imports_nothing_heavy():
    code = "import sys, asymptotics.losses.cli; print(sorted(m for m in ('sympy', 'numpy', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
