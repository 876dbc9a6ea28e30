import argparse
import json

import pytest

from asymptotics.analysis import cli
from asymptotics.analysis import exponent_report as er
from asymptotics.analysis.slopes import local_slope
from asymptotics.dynamics.schedules import PowerLaw
from asymptotics.validation import InvalidInputError


def parse(argv):
    parser = argparse.ArgumentParser(prog="asymptotics")
    cli.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_json_contract_reduced_model(capsys, tmp_path):
    plot = tmp_path / "exp.png"
    args = parse(
        [
            "exponents",
            "--K",
            "3",
            "--eta",
            "1",
            "--schedule",
            "power:beta=0.5",
            "--model",
            "reduced",
            "--alpha-max",
            "1e12",
            "--json",
            "--plot",
            str(plot),
        ]
    )
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    report = json.loads(out)  # exactly one JSON object on stdout
    for key in ("eps_g_exponent", "loss_exponent", "eps_g_exponent_error", "loss_exponent_error", "table"):
        assert key in report
    assert report["eps_g_exponent"] == pytest.approx(-5 / 12, abs=5e-3)
    assert report["loss_exponent"] == pytest.approx(-1 / 6, abs=5e-3)
    assert report["eps_g_exponent_error"] < 1e-3
    assert len(report["table"]["eps_g"]) == 12
    assert plot.stat().st_size > 0


def test_text_output_and_bad_input(capsys):
    args = parse(["exponents", "--K", "2", "--model", "reduced", "--alpha-max", "1e6", "--no-plot"])
    assert args.handler(args) == 0
    text = capsys.readouterr().out
    assert "effective exponents of eps_g" in text and "eps_g_exponent" in text
    with pytest.raises(InvalidInputError, match="unknown schedule kind"):
        bad = parse(["exponents", "--schedule", "linear:eta=1", "--no-plot"])
        bad.handler(bad)
    with pytest.raises(SystemExit):  # rejected by the argument parser
        parse(["exponents", "--K", "1", "--no-plot", "--model", "reduced"])
    with pytest.raises(InvalidInputError, match="K must be"):
        er.exponent_report(1, 1.0, model="reduced", alpha_max=1e6)


def test_fixed_eta_K2_closure_exponents_are_minus_one_third():
    r = er.exponent_report(2, 1.0, alpha_max=1e8)
    assert abs(r["eps_g_exponent"] + 1 / 3) < 1e-4
    assert abs(r["loss_exponent"] + 1 / 3) < 1e-4
    assert r["eps_g_exponent_error"] < 1e-4 and r["eps_g_asymptotic"]


def test_fixed_eta_K3_closure_exponents_are_minus_one_third():
    r = er.exponent_report(3, 1.0, alpha_max=1e8)
    assert abs(r["eps_g_exponent"] + 1 / 3) < 1e-4
    assert abs(r["loss_exponent"] + 1 / 3) < 1e-4


def test_K3_approach_is_slow_as_quoted_in_the_spec():
    # local slope ~ -0.53 near alpha = 5 and ~ -0.36 near alpha = 300 (short fits overestimate 1/3)
    obs = er.exact_closure_observables(3, 1.0, 1e3, rtol=1e-8)
    s5, _ = local_slope(obs.eps_g, 5.0)
    s300, _ = local_slope(obs.eps_g, 300.0)
    assert s5 == pytest.approx(-0.53, abs=0.01)
    assert s300 == pytest.approx(-0.36, abs=0.01)


@pytest.mark.parametrize("beta", [0.25, 0.5, 0.75])
def test_schedules_exact_closure_K2(beta):
    # beta = 0.75: the leading corrections decay only as alpha^(-1/6), so alpha = 1e8 pins the eps_g
    # exponent to ~6e-3; the exact closure is integrated to 1e10 there (cheap: LSODA, K = 2).
    alpha_max = 1e8 if beta < 0.7 else 1e10
    r = er.exponent_report(2, 1.0, schedule=PowerLaw(1.0, beta, 1.0), alpha_max=alpha_max)
    d_eps = abs(r["eps_g_exponent"] + (2 + beta) / 6)
    d_loss = abs(r["loss_exponent"] + (1 - beta) / 3)
    # the reported error estimates are honest
    assert d_eps <= 2 * r["eps_g_exponent_error"] + 1e-6
    assert d_loss <= 2 * r["loss_exponent_error"] + 1e-6
    assert d_eps < 5e-3 and d_loss < 5e-3


def test_sgd_with_schedule_agrees_with_closure():
    from asymptotics.dynamics.sgd import simulate_sgd

    sched = PowerLaw(1.0, 0.5, 1.0)
    alphas = [1.0, 3.0, 6.0]
    sim = simulate_sgd(2, sched, N=1000, seeds=6, seed=3, alphas=alphas, n_test=4000)
    obs = er.exact_closure_observables(2, sched, 6.0, rtol=1e-9)
    for i, a in enumerate(sim.alpha):
        D, Delta = obs.state(a)
        # finite-N (N = 1000) corrections are O(1/sqrt(N)) ~ 3%; plus 4 standard errors
        assert abs(sim.D[i] - D) < 4 * sim.D_se[i] + 0.03 * D
        assert abs(sim.Delta[i] - Delta) < 4 * sim.Delta_se[i] + 0.05 * Delta
        assert abs(sim.eps_g[i] - obs.eps_g(a)) < 4 * sim.eps_g_se[i] + 0.03 * obs.eps_g(a)
