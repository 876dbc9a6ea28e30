"""Compute-optimal frontier: exact recovery on a power-law surface, the symbolic exponents, the
stand-in model's measured exponents and prefactors, a brute-force search on the simulator, the CLI.

Measured (ridgeless, s = 2, a = 1/2, C = 1e4 ... 1e10): secant exponents of N* 0.3361 ... 0.3334
(derived 1/3), of L* -0.1680 ... -0.1667 (derived -1/6); optimal ridge: N* 0.3213 ... 0.3333; the
ridgeless optimum sits at N* ~ 5.3 E rank (over-parameterised side of the peak), not at the
caricature's balance point (N* of the caricature is 1.7x larger).
"""

import json
import math

import numpy as np
import pytest
import sympy as sp

from asymptotics import cli as top
from asymptotics.sparse.frontier import (
    OptimalRidgeSurface,
    PowerLawSurface,
    RidgelessSurface,
    derive_frontier,
    frontier,
    frontier_exponents,
    optimise_at,
    scaling_optimum,
)
from asymptotics.sparse.learner import LossTheory
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.simulate import simulate, summarize
from asymptotics.validation import InvalidInputError


@pytest.mark.parametrize(
    "A,p,B,q,c", [(1.0, 0.5, 1.0, 0.25, 1.0), (3.0, 0.7, 0.2, 0.4, 6.0), (1.0, 0.5, 1.0, 0.5, 1.0)]
)
def test_power_law_surface_exact(A, p, B, q, c):
    surf = PowerLawSurface(A, p, B, q)
    Cs = np.logspace(4, 12, 5)
    fr = frontier(surf, Cs, c)
    for C, N, D in zip(Cs, fr.N, fr.D):
        Nc, Dc, _ = surf.closed_form(C, c)
        assert abs(N / Nc - 1) < 1e-12 and abs(D / Dc - 1) < 1e-12
        assert abs(c * N * D / C - 1) <= 4e-16  # N* D* c = C (to rounding)
    eN, eD, eL = fr.measured_exponents()
    assert abs(eN - q / (p + q)) < 1e-10 and abs(eD - p / (p + q)) < 1e-10
    assert abs(eL + p * q / (p + q)) < 1e-10
    if p == q:  # symmetric: 1/2, 1/2
        assert abs(eN - 0.5) < 1e-10 and abs(eD - 0.5) < 1e-10


def test_symbolic_frontier():
    d = derive_frontier()
    s, a = sp.symbols("s a", positive=True)
    assert sp.simplify(d["exponent_N"] - 1 / (1 + s)) == 0
    assert sp.simplify(d["exponent_D"] - s / (1 + s)) == 0
    assert sp.simplify(d["exponent_loss"] + a / (1 + s)) == 0
    gap = d["data_minus_parameter_exponent"]
    assert sp.simplify(gap - (s - 1) / (s + 1)) == 0
    for sv in (1.01, 1.5, 2, 5):  # favours data for s > 1
        assert float(gap.subs(s, sv)) > 0
    assert d["dense_limit"] == (sp.Rational(1, 2), sp.Rational(1, 2))
    assert d["exponents_full"] == (d["exponent_N"], d["exponent_D"], d["exponent_loss"])
    # the closed form N* satisfies the Lagrangian stationarity N L_N = D L_D
    N, D, C, c, A, B, p, q = sp.symbols("N D C c A B p q", positive=True)
    L = A * N**-p + B * D**-q
    sub = {N: d["N_star"], D: d["D_star"]}
    vals = {A: 2, B: sp.Rational(1, 3), p: sp.Rational(1, 2), q: sp.Rational(1, 5), C: 10**6, c: 3}
    res = (N * sp.diff(L, N) - D * sp.diff(L, D)).subs(sub).subs(vals)
    assert abs(float(res)) < 1e-12


@pytest.fixture(scope="module")
def ridgeless_frontier():
    m = SparseModel(2.0, 0.5)
    return m, frontier(RidgelessSurface(m), np.logspace(6, 10, 5))


def test_stand_in_exponents_ridgeless(ridgeless_frontier):
    """Four decades of C: every secant exponent within 0.02 of the derived one."""
    m, fr = ridgeless_frontier
    ex = frontier_exponents(m.s, m.a)
    sec = fr.secant_exponents()
    for k, key in (("N", "exponent_N"), ("D", "exponent_D"), ("loss", "exponent_loss")):
        assert max(abs(v - ex[key]) for v in sec[k]) < 0.02, (k, sec[k])
    assert all(not i["at_search_edge"] and not i["next_to_excluded_band"] for i in fr.info)
    # the optimum is on the over-parameterised side of the peak
    surf = RidgelessSurface(m)
    assert all(surf.details(n, d)["regime"] == "over" for n, d in zip(fr.N, fr.D))


def test_stand_in_prefactors_ridgeless(ridgeless_frontier):
    """At C = 1e10 the optimum agrees with the scaling-function prefactors (x* of f at D = 1e12)."""
    m, fr = ridgeless_frontier
    so = scaling_optimum(m)
    C = fr.C[-1]
    assert abs(fr.N[-1] / (so["prefactor_N"] * C ** (1 / 3)) - 1) < 0.01
    assert abs(fr.loss[-1] / (so["prefactor_loss"] * C ** (-0.5 / 3)) - 1) < 0.01


def test_stand_in_exponents_optimal_ridge(run_slow):
    m = SparseModel(2.0, 0.5)
    Cs = np.logspace(6, 10, 5 if run_slow else 3)
    fr = frontier(OptimalRidgeSurface(m), Cs)
    ex = frontier_exponents(m.s, m.a)
    eN, eD, eL = fr.measured_exponents()
    assert abs(eN - ex["exponent_N"]) < 0.02 and abs(eD - ex["exponent_D"]) < 0.02
    assert abs(eL - ex["exponent_loss"]) < 0.02
    # the optimal ridge is at least as good as the ridgeless optimum
    rl = frontier(RidgelessSurface(m), Cs)
    assert np.all(fr.loss <= rl.loss * (1 + 1e-9))


def test_brute_force_grid_on_the_simulator():
    """C = 1e4: simulate the learner on a grid N_j = 20 * 1.5^j (D = C/N) and take the argmin of the
    simulated mean loss (points inside the threshold band, where the expected loss is infinite, are
    excluded as in the frontier); the theory's N* lies within one grid step of it and the simulated
    minimum agrees with L* within 3 % + 3 SE."""
    m = SparseModel(2.0, 0.5)
    C = 1e4
    opt = optimise_at(RidgelessSurface(m), C)
    Ns = [20, 30, 45, 68, 100, 150, 225, 340]
    means, ses = [], []
    for N in Ns:
        D = round(C / N)
        th = LossTheory(m, D)
        try:
            excluded = th.loss(N)["near_peak"]
        except InvalidInputError:
            excluded = True
        if excluded:
            means.append(math.inf), ses.append(0.0)
            continue
        S = summarize(simulate(m, D, [N], seeds=200, seed=7))
        means.append(S["loss"]["mean"][0]), ses.append(S["loss"]["se"][0])
    j = int(np.argmin(means))
    assert 0 < j < len(Ns) - 1
    assert Ns[j - 1] < opt["N"] < Ns[j + 1], (Ns[j], opt["N"])
    assert abs(means[j] - opt["loss"]) < 0.03 * opt["loss"] + 3 * ses[j]


def test_cli_frontier_contract(capsys):
    code = top.main(["sparse", "frontier", "--s", "2", "--a", "0.5", "--C", "1e4,1e6,1e8", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    obj = json.loads(out)
    for key in ("C", "N_opt", "D_opt", "loss_opt", "exponent_N", "exponent_D", "exponent_loss"):
        assert key in obj
    assert obj["C"] == [1e4, 1e6, 1e8] and len(obj["N_opt"]) == 3
    assert "stand-in model" in obj["model"]
    assert abs(obj["exponent_N"] - 1 / 3) < 1e-15 and abs(obj["exponent_loss"] + 1 / 6) < 1e-15
    for C, N, D in zip(obj["C"], obj["N_opt"], obj["D_opt"]):
        assert abs(N * D / C - 1) < 1e-14


@pytest.mark.parametrize(
    "argv",
    [
        ["--s", "2", "--a", "0.5", "--C", "0"],
        ["--s", "2", "--a", "0.5", "--C=-1e4"],
        ["--s", "2", "--a", "0.5", "--C", "1e4", "--ridge=-1"],
        ["--s", "2", "--a", "0.5", "--C", "1e4", "--ridge", "best"],
        ["--s", "1", "--a", "0.5", "--C", "1e4"],
        ["--s", "2", "--a", "0.5", "--C", "1e4", "--c", "0"],
        ["--s", "2", "--a", "0.5", "--C", "1e20"],
        ["--s", "2", "--a", "0.5", "--C", "3"],
    ],
)
def test_cli_frontier_bad_input(argv, capsys):
    code = top.main(["sparse", "frontier"] + argv + ["--json"])
    cap = capsys.readouterr()
    assert code != 0 and cap.out == ""
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), cap.err
