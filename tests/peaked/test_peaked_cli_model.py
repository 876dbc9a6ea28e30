"""CLI contract, symbolic model derivation, bridge constants, correlated-teacher Monte Carlo."""

import argparse
import json
import math

import mpmath
import pytest
import sympy as sp

from asymptotics.peaked.bridge import bridge_summary
from asymptotics.peaked.cli import beta_for_entropy, register
from asymptotics.peaked.model import derive_aligned_flow
from asymptotics.peaked.monte_carlo import iid_logits, monte_carlo_thermodynamics, teacher_vs_iid
from asymptotics.validation import InvalidInputError


def _run(argv, capsys):
    ap = argparse.ArgumentParser()
    register(ap.add_subparsers())
    args = ap.parse_args(argv)
    code = args.handler(args)
    return code, capsys.readouterr()


def test_json_contract(capsys, tmp_path):
    code, out = _run(
        ["peaked", "--n", "16", "--beta-star", "1000", "--json", "--plot", str(tmp_path / "p.png")], capsys
    )
    assert code == 0
    obj = json.loads(out.out)  # exactly one JSON object on stdout
    for key in ("c0", "c2", "loss_exponent"):
        assert key in obj
    assert abs(obj["c0"] - obj["rho0"]) < 1e-12  # Stein: E max = rho(0), two independent integrals
    assert abs(obj["c2"] - math.pi**2 / 12 * obj["rho0"]) < 1e-12
    assert -0.36 < obj["loss_exponent"] < -0.31
    assert (tmp_path / "p.png").exists()


def test_entropy_inversion_against_monte_carlo(capsys):
    code, out = _run(["peaked", "--n", "32", "--entropy", "0.7", "--json", "--plot", ""], capsys)
    obj = json.loads(out.out)
    b = obj["beta_star"]
    mc = monte_carlo_thermodynamics(iid_logits(32, 200000, seed=5), b)
    assert abs(mc["entropy"][0] - 0.7) < 4.5 * mc["entropy"][1]


def test_text_output_and_bad_input(capsys):
    code, out = _run(["peaked", "--n", "8", "--beta-star", "50", "--plot", ""], capsys)
    assert code == 0 and "c2 = (pi^2/12) rho_n(0)" in out.out and "regimes" in out.out
    with pytest.raises(InvalidInputError):
        beta_for_entropy(8, 5.0)  # above ln 8
    with pytest.raises(SystemExit):  # rejected by the argument parser
        _run(["peaked", "--n", "1", "--beta-star", "5"], capsys)


def test_symbolic_projection_prefactor():
    d = derive_aligned_flow()
    n = sp.Symbol("n", integer=True, positive=True)
    assert sp.simplify(d["prefactor"] - 1 / (n - 1)) == 0
    assert sp.simplify(d["norm_uncentered"] - n) == 0  # the uncentered projection would give 1/n


def test_bridge_shared_constant():
    s = bridge_summary(5)
    assert abs(s["A0"] - mpmath.pi**2 / 12) < 1e-14
    assert abs(s["shared_constant"] - s["peaked_c2"]) < 1e-14
    # prefactor ratio = (A(Delta*)/A(0))^(2/3) at eta = 1
    assert abs(s["ratio_prefactors"] - (s["layer_A_star"] / s["A0"]) ** (mpmath.mpf(2) / 3)) < 1e-12


def test_correlated_teacher_difference_quantified():
    near = teacher_vs_iid(16, 1024, 5.0, samples=20000)
    far = teacher_vs_iid(16, 2, 5.0, samples=20000)
    assert abs(near["V"]["relative_difference"]) < 4 * near["V"]["mc_error"] / near["V"]["iid_exact"] + 0.03
    assert abs(far["V"]["relative_difference"]) > 0.1
