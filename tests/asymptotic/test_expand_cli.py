"""``asymptotics expand`` (module asymptotics.asymptotic.cli), driven through its own parser."""

import argparse
import json

import mpmath
import pytest

from asymptotics.asymptotic.cli import register
from asymptotics.validation import InvalidInputError


def _run(argv, capsys):
    parser = argparse.ArgumentParser(prog="asymptotics")
    register(parser.add_subparsers())
    args = parser.parse_args(argv)
    code = args.handler(args)
    return code, capsys.readouterr()


def test_json_30_digits(capsys):
    code, out = _run(["expand", "--K", "2", "--eta", "1", "--digits", "30", "--json"], capsys)
    assert code == 0
    report = json.loads(out.out)  # exactly one JSON object on stdout
    for key in ("rho0", "Delta_star", "C_D", "C_eps", "C_L"):
        digits = report[key].replace("-", "").replace(".", "").lstrip("0")
        assert len(digits) >= 30, key
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(report["rho0"]) - 1 / mpmath.sqrt(mpmath.pi)) < mpmath.mpf(10) ** -29
        # C_D^3 = 3 eta rho0 A*/(K-1) with A* = pi^2/12 + Delta*/2
        d = mpmath.mpf(report["Delta_star"])
        a = mpmath.pi**2 / 12 + d / 2
        assert abs(mpmath.mpf(report["C_D"]) ** 3 - 3 * a / mpmath.sqrt(mpmath.pi)) < mpmath.mpf(10) ** -28
    assert len(report["corrections"]["eps_g"]) == 3
    assert isinstance(report["corrections"]["eps_g"][2], dict)


def test_text_and_latex(tmp_path, capsys):
    target = tmp_path / "series.tex"
    code, out = _run(["expand", "--K", "2", "--eta", "0.5", "--order", "2", "--latex", str(target)], capsys)
    assert code == 0
    assert "Delta*" in out.out and "eps_g" in out.out and "alpha^(-2/3)" in out.out
    tex = target.read_text()
    assert tex.startswith(r"\documentclass") and r"\varepsilon_g" in tex and r"\end{document}" in tex


def test_corrections_carry_the_digits(capsys):
    _, out30 = _run(["expand", "--K", "5", "--eta", "1", "--order", "3", "--digits", "30", "--json"], capsys)
    _, out15 = _run(["expand", "--K", "5", "--eta", "1", "--order", "3", "--json"], capsys)
    r30, r15 = json.loads(out30.out), json.loads(out15.out)
    assert r30["corrections_accuracy"] == "30 digits"
    for name in ("D", "eps_g", "loss"):
        for a, b in zip(r30["corrections"][name], r15["corrections"][name]):
            a, b = (x["value"] if isinstance(x, dict) else x for x in (a, b))
            assert len(a.replace("-", "").replace(".", "").lstrip("0")) >= 30
            assert abs(float(a) - float(b)) < 1e-11 * max(1, abs(float(a)))


def test_bad_input_is_an_input_error(capsys):
    with pytest.raises(SystemExit):  # rejected by the argument parser
        _run(["expand", "--K", "5", "--order", "6"], capsys)
    with pytest.raises(SystemExit):
        _run(["expand", "--K", "2", "--eta", "-1"], capsys)
    from asymptotics.asymptotic.expansion_report import expansion_report

    with pytest.raises(InvalidInputError, match="order"):
        expansion_report(5, 1, order=6)
    with pytest.raises(InvalidInputError, match="eta"):
        expansion_report(2, "-1")
