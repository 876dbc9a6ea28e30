"""Exact LaTeX of the key equations (a change in a derivation shows up here as a reviewed diff),
plus numerical checks of the closed forms against independent quadrature, and the ``latex`` CLI."""

import argparse
import json

import mpmath
import pytest
import sympy as sp

from asymptotics.report.cli import register
from asymptotics.report.equations import (
    EQUATION_DESCRIPTIONS,
    key_equation,
    key_equation_latex,
    key_equation_names,
)
from asymptotics.validation import InvalidInputError

EXPECTED = {
    "closure_D": "\\frac{dD}{d\\alpha} = \\frac{\\eta}{K - 1} \\left\\langle \\sum_{k=1}^{K} \\left(y_{c} - y_{k}\\right) p_{k} \\right\\rangle",
    "closure_Delta": "\\frac{d\\Delta}{d\\alpha} = \\frac{\\eta}{K - 1} \\left\\{- 2 \\Delta \\left\\langle \\sum_{k=1}^{K} \\left(1 - p_{k}\\right) p_{k} \\right\\rangle + \\eta \\left\\langle \\left(1 - p_{c}\\right)^{2} + \\sum_{k \\neq c} p_{k}^{2} \\right\\rangle\\right\\}",
    "binary_eps_g": "\\varepsilon_g = \\frac{\\operatorname{acos}{\\left(\\frac{D}{\\sqrt{D^{2} + \\Delta}} \\right)}}{\\pi}",
    "gap_density_K3": "\\rho_3(0) = \\frac{3}{2 \\sqrt{\\pi}}",
    "layer_J": "J = \\frac{1}{2}",
    "layer_A": "A{\\left(\\Delta \\right)} = \\frac{\\Delta}{2} + \\frac{\\pi^{2}}{12}",
    "layer_B": "B{\\left(\\Delta \\right)} = \\left\\langle \\log\\left(1 + e^{\\sqrt{2 \\Delta} \\zeta}\\right) \\right\\rangle - \\frac{1}{2}",
    "layer_error": "\\int_0^\\infty du\\, P(s < 0) = \\frac{\\sqrt{\\Delta}}{\\sqrt{\\pi}}",
    "reduced_flow_D": "\\frac{dD}{d\\alpha} = \\frac{\\eta \\rho_K(0) \\left(6 \\Delta + \\pi^{2}\\right)}{24 D^{2}}",
    "reduced_flow_Delta": "\\frac{d\\Delta}{d\\alpha} = \\frac{\\eta \\rho_K(0) \\left(- \\Delta + \\eta B{\\left(\\Delta \\right)}\\right)}{D}",
    "fixed_point_Delta": "\\Delta^{*} = \\eta B{\\left(\\Delta^{*} \\right)}",
    "late_time_alpha": "\\alpha = \\frac{C \\kappa g_{0} + \\frac{D^{3}}{3} + \\frac{D^{2} e_{1}}{2} + D e_{2} + e_{3} \\log{\\left(D \\right)}}{\\kappa g_{0}}",
    "late_time_D": "\\frac{D}{x} = - C \\kappa g_{0} t^{3} - \\left(\\ln x\\right) e_{3} t^{3} - \\frac{e_{1}^{3} t^{3}}{12} + \\frac{e_{1}^{2} t^{2}}{4} + \\frac{e_{1} e_{2} t^{3}}{2} - \\frac{e_{1} t}{2} - e_{2} t^{2} + 1",
    "late_time_eps_g": "\\varepsilon_g = \\frac{\\sqrt{\\Delta^{*}} \\rho_K(0)}{\\sqrt{\\pi} D}",
    "late_time_loss": "L = \\frac{\\rho_K(0) \\left(\\frac{\\Delta^{*}}{2} + \\frac{\\pi^{2}}{12}\\right)}{D}",
    "schedule_eps_g_exponent": "\\frac{d\\ln \\varepsilon_g}{d\\ln\\alpha} = - \\frac{\\beta}{6} - \\frac{1}{3}",
    "schedule_loss_exponent": "\\frac{d\\ln L}{d\\ln\\alpha} = \\frac{\\beta}{3} - \\frac{1}{3}",
    "peaked_loss": "L = \\frac{\\beta c_{2}}{\\left(\\beta^{*}\\right)^{2}} + \\frac{2 \\beta c_{3}}{\\left(\\beta^{*}\\right)^{3}} - \\frac{2 c_{2}}{\\beta^{*}} - \\frac{3 c_{3}}{\\left(\\beta^{*}\\right)^{2}} + \\frac{c_{2}}{\\beta} + \\frac{c_{3}}{\\beta^{2}}",
    "peaked_loss_intermediate": "L = \\frac{3^{\\frac{2}{3}} c_{2}^{\\frac{2}{3}}}{3 \\sqrt[3]{\\tau} \\sqrt[3]{\\frac{1}{n - 1}}}",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_key_equation_latex_exact(name):
    assert key_equation_latex(name) == EXPECTED[name]


def test_every_listed_equation_is_asserted():
    assert set(key_equation_names()) == set(EXPECTED) == set(EQUATION_DESCRIPTIONS)


def test_closure_for_integer_K():
    assert key_equation_latex("closure_D", 3) == (
        r"\frac{dD}{d\alpha} = \frac{\eta}{2} \left\langle \sum_{k=1}^{3} "
        r"\left(y_{c} - y_{k}\right) p_{k} \right\rangle"
    )


def test_reduced_flow_K2_has_prefactor_one():
    assert key_equation_latex("reduced_flow_Delta", 2) == (
        r"\frac{d\Delta}{d\alpha} = \frac{2 \eta \rho_K(0) \left(- \Delta + \eta B{\left(\Delta \right)}\right)}{D}"
    )


def test_unknown_equation_raises():
    with pytest.raises(InvalidInputError, match="unknown equation 'nope'"):
        key_equation_latex("nope")


@pytest.mark.parametrize("Delta", ["0.25291809676", "1.5"])
def test_layer_A_closed_form_against_quadrature(Delta):
    """A(Delta) = E[-Li_2(-e^a)], a ~ N(0, 2 Delta), by Gaussian quadrature, versus the printed closed form."""
    mpmath.mp.dps = 20
    d = mpmath.mpf(Delta)
    s = mpmath.sqrt(2 * d)
    quad = mpmath.quad(
        lambda z: -mpmath.polylog(2, -mpmath.exp(s * z)) * mpmath.npdf(z), [-mpmath.inf, 0, mpmath.inf]
    )
    rhs = key_equation("layer_A").rhs
    closed = sp.N(rhs.subs(list(rhs.free_symbols)[0], sp.Rational(Delta)), 25)
    assert abs(quad - mpmath.mpf(str(closed))) < mpmath.mpf(10) ** -16


def test_gap_density_K3_against_quadrature():
    mpmath.mp.dps = 30
    num = 6 * mpmath.quad(lambda y: mpmath.npdf(y) ** 2 * mpmath.ncdf(y), [-mpmath.inf, mpmath.inf])
    closed = mpmath.mpf(str(sp.N(key_equation("gap_density_K3").rhs, 30)))
    assert abs(num - closed) < mpmath.mpf(10) ** -25


def test_late_time_eps_g_reproduces_spec_prefactor():
    """eps_g alpha^(1/3) -> rho_3(0) sqrt(Delta*/pi)/C_D = 0.22568 (spec, K = 3, eta = 1)."""
    rhs = key_equation("late_time_eps_g").rhs
    names = {s.name: s for s in rhs.free_symbols}
    Dstar, CD = 0.252918096760311, 1.06401
    value = float(
        rhs.subs({names["rho_K(0)"]: 3 / (2 * sp.sqrt(sp.pi)), names["Delta^*"]: Dstar, names["D"]: CD})
    )
    assert abs(value - 0.22568) < 2e-5


def _parser():
    p = argparse.ArgumentParser(prog="asymptotics")
    register(p.add_subparsers(dest="command"))
    return p


def test_cli_latex_prints_one_equation(capsys):
    args = _parser().parse_args(["latex", "layer_A"])
    assert args.handler(args) == 0
    assert capsys.readouterr().out.strip() == EXPECTED["layer_A"]


def test_cli_latex_list(capsys):
    args = _parser().parse_args(["latex", "--list"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in EXPECTED)


def test_cli_latex_without_name_fails():
    args = _parser().parse_args(["latex"])
    with pytest.raises(InvalidInputError, match="equation name"):
        args.handler(args)


def test_cli_reproduce_arguments_and_json(monkeypatch, capsys, tmp_path):
    p = _parser()
    assert p.parse_args(["reproduce"]).mode == "default"
    assert p.parse_args(["reproduce", "--quick"]).mode == "quick"
    assert p.parse_args(["reproduce", "--full", "--out", "x"]).out == "x"
    assert p.parse_args(["reproduce"]).out == "output/reproduce"
    with pytest.raises(SystemExit):
        p.parse_args(["reproduce", "--quick", "--full"])
    seen = {}

    def fake(out_dir, *, mode, progress):
        seen.update(out_dir=out_dir, mode=mode)
        return {
            "out_dir": str(out_dir),
            "mode": mode,
            "steps": {"closure": "ok"},
            "files": ["a.png"],
            "pdflatex": {"compiled": False, "message": "m"},
            "timings": {"closure": 1.0},
        }

    monkeypatch.setattr("asymptotics.report.reproduce.reproduce", fake)
    args = p.parse_args(["reproduce", "--quick", "--out", str(tmp_path), "--json"])
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "quick" and seen["mode"] == "quick" and out["steps"] == {"closure": "ok"}
