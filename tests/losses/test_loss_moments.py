"""Closure moments of any loss: cross-entropy reproduced, float64 against arbitrary precision and Monte Carlo,
K >= 4 routes and refusals, validated domains."""

import json
import math
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy

from asymptotics.losses import get_loss, registered_losses
from asymptotics.losses.integrands import (
    LOSS_MOMENT_NAMES,
    compiled_loss_split,
    gap_split_exprs,
    homogenised_primitives,
)
from asymptotics.losses.moments import is_cross_entropy, loss_moments, uniform_loss_moments
from asymptotics.symbolic.integrands import moment_integrands
from asymptotics.validation import IntegrationError, InvalidInputError

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_cross_entropy.json").read_text())
CENTRED = [L for L in registered_losses() if L.name != "squared_logits"]


def test_cross_entropy_integrands_equal_the_original_ones():
    ce = get_loss("cross_entropy")
    for K in (2, 3):
        bases, coeffs = gap_split_exprs(ce, K)
        ref = moment_integrands(K)
        d = sympy.symbols(" ".join(f"d_{j}" for j in range(1, K)), real=True)
        d = d if isinstance(d, tuple) else (d,)
        g = sympy.symbols(" ".join(f"g_{j}" for j in range(1, K)), real=True)
        g = g if isinstance(g, tuple) else (g,)
        drift = sum(c * gj for c, gj in zip(coeffs, g))
        assert sympy.simplify(drift - ref["drift"]) == 0
        for i, name in ((1, "restoring"), (2, "noise")):
            assert sympy.simplify(bases[i] - ref[name]) == 0
        assert sympy.simplify(sympy.expand_log(bases[4] - ref["loss"].rewrite(sympy.log), force=True)) == 0


@pytest.mark.parametrize("loss", CENTRED, ids=lambda L: L.name)
@pytest.mark.parametrize("K", [2, 3])
def test_compiled_forms_match_the_plain_expressions_and_never_overflow(loss, K):
    bases, coeffs = gap_split_exprs(loss, K)
    d = sympy.symbols(" ".join(f"d_{j}" for j in range(1, K)), real=True)
    d = d if isinstance(d, tuple) else (d,)
    exprs = [b for b in bases if not isinstance(b, sympy.Piecewise)] + list(coeffs)
    plain = sympy.lambdify(d, exprs, "mpmath")
    f = compiled_loss_split(loss, K)
    pts = np.random.default_rng(3).uniform(-8, 8, size=(25, K - 1))
    hb, hc = f(*pts.T)
    values = [b for i, b in enumerate(hb) if i != 3] + list(hc)
    with mpmath.workdps(30):
        for i, pt in enumerate(pts):
            ref = plain(*[mpmath.mpf(x) for x in pt])
            for r, v in zip(ref, values):
                assert abs(float(r) - v[i]) <= 1e-13 * (1 + abs(float(r)))
    extreme = np.array([-1e4, -800.0, 800.0, 1e4, 1e300, -1e300])
    hb, hc = f(*([extreme] * (K - 1)))
    assert all(np.all(np.isfinite(x)) for x in list(hb) + list(hc))
    # the mpmath form agrees with the float64 form
    fm = compiled_loss_split(loss, K, "mpmath")
    with mpmath.workdps(25):
        mb, mc = fm(*[mpmath.mpf(0.7)] * (K - 1))
    fb, fc = f(*[0.7] * (K - 1))
    assert all(
        abs(float(a) - float(b)) < 1e-14 * (1 + abs(float(a)))
        for a, b in zip(list(mb) + list(mc), list(fb) + list(fc))
    )


def test_a_loss_without_an_overflow_free_form_is_refused():
    # separate logistic terms per rival: no single shift bounds every denominator
    from asymptotics.losses import loss_from_expression

    pairwise = loss_from_expression("Sum((1 - delta(k, c))*log(1 + exp(z[k] - z[c])), (k, 1, K))")
    assert pairwise.is_shift_invariant
    with pytest.raises(InvalidInputError, match="per-class shift"):
        homogenised_primitives(pairwise, 3)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_cross_entropy_moments_reproduce_the_original_routes(K):
    for r in REFERENCE["moments"]:
        if r["K"] != K:
            continue
        m = loss_moments("cross_entropy", K, r["D"], r["Delta"])
        for name in ("drift", "restoring", "noise", "eps_g", "loss"):
            assert getattr(m, name) == pytest.approx(r[name], rel=1e-12, abs=1e-300), (r, name)
        assert m.cross_entropy == m.loss


def test_generic_moments_agree_with_arbitrary_precision_k2(run_slow):
    pts = [(1e-3, 1e-6), (3.0, 1e-8), (1e3, 0.25), (1e6, 100.0), (0.0, 50.0)]
    losses = CENTRED if run_slow else [get_loss("focal:gamma=2"), get_loss("margin:m=1")]
    pts = pts if run_slow else pts[1:4]
    for loss in losses:
        for D, Delta in pts:
            f = loss_moments(loss, 2, D, Delta)
            m = loss_moments(loss, 2, D, Delta, digits=20)
            for name in LOSS_MOMENT_NAMES:
                a, b = float(getattr(f, name)), float(getattr(m, name))
                assert abs(a - b) <= 1e-12 * abs(b) + 1e-300, (loss.name, D, Delta, name, a, b)
                assert abs(a - b) <= 10 * f.errors[name] + 1e-15 * abs(b)


def test_generic_moments_agree_with_arbitrary_precision_k3(run_slow):
    cases = [("focal:gamma=2", 5.0, 0.25), ("brier", 1e3, 0.25)]
    if run_slow:
        cases += [
            ("margin:m=1", 1.0, 100.0),
            ("label_smoothing:eps=0.1", 4.0, 1e-4),
            ("cross_entropy:T=2", 0.3, 0.05),
        ]
    for name, D, Delta in cases:
        f = loss_moments(name, 3, D, Delta)
        m = loss_moments(name, 3, D, Delta, digits=12)
        for q in LOSS_MOMENT_NAMES:
            a, b = float(getattr(f, q)), float(getattr(m, q))
            assert abs(a - b) <= 1e-10 * abs(b), (name, q, a, b)


@pytest.mark.parametrize("loss", CENTRED, ids=lambda L: L.name)
def test_quadrature_agrees_with_monte_carlo(loss):
    for K in (2, 3):
        q = loss_moments(loss, K, 2.0, 0.3)
        mc = loss_moments(loss, K, 2.0, 0.3, method="montecarlo", samples=200_000, seed=7)
        for name in LOSS_MOMENT_NAMES:
            assert abs(getattr(q, name) - getattr(mc, name)) <= 4.5 * mc.errors[name] + 1e-12, (K, name)


def test_uniform_point_closed_forms():
    # D = Delta = 0: every class equally likely; Brier restoring = 2 * (K-1)/K * 1/K ... from the integrands at d = 0
    for K in (2, 3):
        for loss in CENTRED:
            u = uniform_loss_moments(loss, K)
            near = loss_moments(loss, K, 1e-9, 1e-18)  # small-scale limit path
            for name in ("restoring", "noise", "loss", "cross_entropy"):
                assert getattr(near, name) == pytest.approx(getattr(u, name), rel=1e-8, abs=1e-12)
            assert u.eps_g == pytest.approx(1 - 1 / K)
            assert u.cross_entropy == pytest.approx(math.log(K))
    ce = uniform_loss_moments("cross_entropy", 3)
    assert ce.drift == pytest.approx(3 / (2 * math.sqrt(math.pi)), rel=1e-12)  # E[max of 3 normals]


def test_k5_routes():
    # cross-entropy at temperature 2 by the exact map onto the Laplace route, against Monte Carlo
    m = loss_moments("cross_entropy:T=2", 5, 2.0, 0.3)
    mc = loss_moments("cross_entropy:T=2", 5, 2.0, 0.3, method="montecarlo", samples=200_000, seed=3)
    for name in LOSS_MOMENT_NAMES:
        assert abs(getattr(m, name) - getattr(mc, name)) <= 4.5 * mc.errors[name], name
    assert is_cross_entropy(get_loss("focal:gamma=0"), 5)
    with pytest.raises(InvalidInputError, match="no deterministic route"):
        loss_moments("brier", 5, 1.0, 0.25)


def test_domains_and_refusals():
    with pytest.raises(InvalidInputError, match="validated domain"):
        loss_moments("brier", 3, 1.0, 1e3)
    with pytest.raises(InvalidInputError, match="validated domain"):
        loss_moments("focal:gamma=2", 2, 2e6, 0.1)
    with pytest.raises(InvalidInputError, match="validated for the numerics"):
        loss_moments("focal:gamma=10", 2, 1.0, 0.1)
    with pytest.raises(InvalidInputError, match="not shift invariant"):
        loss_moments("squared_logits", 2, 1.0, 0.1)
    with pytest.raises(InvalidInputError, match="D must be >= 0"):
        loss_moments("brier", 2, -1.0, 0.1)
    with pytest.raises(InvalidInputError, match="method"):
        loss_moments("brier", 2, 1.0, 0.1, method="simpson")


def test_digits_contract_raises_when_not_met():
    # label smoothing at a tiny Delta: the K = 3 ball-arithmetic rule cannot certify 15 digits and says so
    with pytest.raises(IntegrationError, match="not the requested"):
        loss_moments("label_smoothing:eps=0.1", 3, 3.0, 1e-6, digits=15)
