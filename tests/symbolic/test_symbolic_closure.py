"""The symbolic derivation of the centred closure reproduces the boxed flow for any K."""

import random

import mpmath
import pytest
import sympy
from sympy import Heaviside, KroneckerDelta, Sum, sqrt

from asymptotics.symbolic import closure as C
from asymptotics.symbolic.expectation import (
    GaussianExpectation,
    expectations_equal,
)
from asymptotics.symbolic.softmax import logistic, num_classes_symbol
from asymptotics.validation import InvalidInputError

KSYM = num_classes_symbol()
ALL_K = [KSYM, 2, 3, 5]


def _targets(K):
    """The boxed formulas, written by hand with the same expectation objects."""
    s = C.closure_symbols(K)
    k, c, p, y = s.k, s.c, s.p, s.y
    E = lambda f: GaussianExpectation(f, s.measure)  # noqa: E731
    drift = E(Sum(p(k) * (y[c] - y[k]), (k, 1, s.K)))
    restoring = E(Sum(p(k) * (1 - p(k)), (k, 1, s.K)))
    # sum_{k != c} p_k^2 written as the full sum minus the label term
    noise = E((1 - p(c)) ** 2 + Sum(p(k) ** 2, (k, 1, s.K)) - p(c) ** 2)
    dD = s.eta / (s.K - 1) * drift
    dDelta = s.eta / (s.K - 1) * (-2 * s.Delta * restoring + s.eta * noise)
    return s, dD, dDelta, drift, restoring, noise


@pytest.mark.parametrize("K", ALL_K, ids=str)
def test_flow_reproduces_boxed_formulas(K):
    s, dD, dDelta, drift, restoring, noise = _targets(K)
    cl = C.derive_closure(K)
    assert expectations_equal(cl.flow["D"], dD)
    assert expectations_equal(cl.flow["Delta"], dDelta)
    # the drift comes out in exactly the boxed form (structural equality)
    assert sympy.simplify(cl.flow["D"] - dD) == 0
    assert cl.flow_parts["restoring"] == restoring
    # with sum_{k != c} written as sum_k (1 - delta_kc) the Delta flow is structurally equal too
    excl = GaussianExpectation(
        (1 - s.p(s.c)) ** 2 + Sum((1 - KroneckerDelta(s.k, s.c)) * s.p(s.k) ** 2, (s.k, 1, s.K)), s.measure
    )
    assert (
        sympy.simplify(cl.flow["Delta"] - s.eta / (s.K - 1) * (-2 * s.Delta * restoring + s.eta * excl)) == 0
    )
    # and the comparison is able to fail
    assert not expectations_equal(cl.flow["Delta"], dDelta.subs(s.eta**2, 2 * s.eta**2))
    assert not expectations_equal(cl.flow["D"], s.eta / s.K * drift)
    # K = 2 runs the binary reduction as step 5
    assert len(cl.steps) == (5 if K == 2 else 4)


@pytest.mark.parametrize("K", [2, 3, 5])
def test_explicit_forms_for_integer_K(K):
    s = C.closure_symbols(K)
    p, y = s.p, s.y
    ex = C.derive_closure(K, binary=False).explicit(label=1)
    mu = s.measure.with_conditioned_label(1)
    E = lambda f: GaussianExpectation(f, mu)  # noqa: E731
    drift = E(sum(p(k) * (y[1] - y[k]) for k in range(2, K + 1)))
    restoring = E(sum(p(k) * (1 - p(k)) for k in range(1, K + 1)))
    noise = E((1 - p(1)) ** 2 + sum(p(k) ** 2 for k in range(2, K + 1)))
    assert expectations_equal(ex["D"], s.eta / (K - 1) * drift)
    assert expectations_equal(ex["Delta"], s.eta / (K - 1) * (-2 * s.Delta * restoring + s.eta * noise))


def test_exact_latex_of_the_flow():
    assert C.flow_latex(KSYM) == (
        r"\frac{dD}{d\alpha} &= \frac{\eta}{K - 1} \left\langle \sum_{k=1}^{K} "
        r"\left(y_{c} - y_{k}\right) p_{k} \right\rangle \\"
        "\n"
        r"\frac{d\Delta}{d\alpha} &= \frac{\eta}{K - 1} \left\{- 2 \Delta \left\langle "
        r"\sum_{k=1}^{K} \left(1 - p_{k}\right) p_{k} \right\rangle + \eta \left\langle "
        r"\left(1 - p_{c}\right)^{2} + \sum_{k \neq c} p_{k}^{2} \right\rangle\right\}"
    )
    assert C.flow_latex(3) == (
        r"\frac{dD}{d\alpha} &= \frac{\eta}{2} \left\langle \sum_{k=1}^{3} "
        r"\left(y_{c} - y_{k}\right) p_{k} \right\rangle \\"
        "\n"
        r"\frac{d\Delta}{d\alpha} &= \frac{\eta}{2} \left\{- 2 \Delta \left\langle "
        r"\sum_{k=1}^{3} \left(1 - p_{k}\right) p_{k} \right\rangle + \eta \left\langle "
        r"\left(1 - p_{c}\right)^{2} + \sum_{k \neq c} p_{k}^{2} \right\rangle\right\}"
    )


@pytest.mark.parametrize("K", [KSYM, 3], ids=str)
def test_intermediate_steps(K):
    s = C.closure_symbols(K)
    st1, r1 = C.step_sgd_flow(K)
    # e_k = -d loss/d z_k and the flow of step 1, eta / eta^2 parts identified
    assert r1["error_signal"] == KroneckerDelta(s.k, s.c) - s.p(s.k)
    mu = s.field_measure
    assert r1["dR"] == s.eta * GaussianExpectation(s.e[s.k] * s.y[s.l], mu)
    assert r1["noise_Q"] == s.e[s.k] * s.e[s.l]
    assert sympy.expand(r1["drift_Q"] - (s.e[s.k] * s.z[s.l] + s.e[s.l] * s.z[s.k])) == 0
    st2, r2 = C.step_mean_logit_invariance(K, r1)
    assert r2["sum_e"] == 0 and r2["mean_increment"] == 0 and r2["shift_difference"] == 0
    assert r2["P_squared"] == KroneckerDelta(s.k, s.l) - 1 / s.K
    assert r2["Pe"] == s.e[s.k]
    assert r2["dR_centered"] == r1["dR"]
    st3, r3 = C.step_symmetric_sector(K, r2)
    assert r3["cov_checks"] == {"R": 0, "Q": 0}
    for st in (st1, st2, st3):
        assert st.title and st.latex().count("&=") == len(st.equations)


def test_flow_checked_numerically_against_direct_trace_k3():
    """tr dQ_c/(K-1) - 2 D dD = dDelta: evaluate both sides by Monte Carlo with common samples."""
    K = 3
    s = C.closure_symbols(K)
    cl = C.derive_closure(K)
    vals = {s.D: 1.2, s.Delta: 0.4, s.eta: 0.7}
    k, c = s.k, s.c
    e = lambda i: KroneckerDelta(i, c) - s.p(i)  # noqa: E731
    # before Stein: eta/(K-1) [2 sum_k e_k z_k + eta sum_k e_k^2] - 2 D dD, with z in representation
    direct = s.eta / (K - 1) * Sum(
        2 * e(k) * s.logit_rep(k) + s.eta * e(k) ** 2, (k, 1, K)
    ) - 2 * s.D * s.eta / (K - 1) * Sum(e(k) * s.y[k], (k, 1, K))
    flow = C.explicit_flow(cl.flow["Delta"], K, label=None)
    integrand_flow = sum(
        a.integrand * (t / a)
        for t in sympy.Add.make_args(sympy.expand(flow))
        for a in t.atoms(GaussianExpectation)
    )
    diff = GaussianExpectation(direct - integrand_flow, s.measure)
    m, se = diff.monte_carlo(vals, samples=100_000, seed=11)
    assert abs(m) < 5 * se


def test_observables_and_k2_eps_closed_form():
    red = C.k2_reduction()
    h, zeta, sv, u, w = C.binary_symbols()
    assert red["eps_g"] == 1 - Heaviside(sv, 1)
    assert sympy.simplify((red["loss"] - sympy.log(1 + sympy.exp(-sv))).rewrite(sympy.exp)) == 0
    s2 = C.closure_symbols(2)
    D, Delta = s2.D, s2.Delta
    eps = C.orthant_error_k2()
    assert sympy.simplify(eps - sympy.acos(D / sqrt(D**2 + Delta)) / sympy.pi) == 0
    # independent check: Monte Carlo of the derived eps_g integrand (K = 2, full law)
    cl = C.derive_closure(2, binary=False)
    vals = {D: 0.9, Delta: 0.5}
    m, se = cl.observables["eps_g"].monte_carlo(vals, samples=200_000, seed=5)
    exact = float(eps.subs(vals))
    assert abs(m - exact) < 5 * se


def test_k2_reduces_to_binary_logistic_regression():
    red = C.k2_reduction()
    binr = C.binary_logistic_closure()
    h, zeta, sv, u, w = C.binary_symbols()
    for name in ("drift", "restoring", "noise"):
        a = red[name].rewrite(sympy.exp)
        b = binr["integrands"][name].rewrite(sympy.exp)
        assert sympy.simplify(a - b) == 0, name
    # explicit expected shapes in (s, h)
    assert sympy.simplify((red["drift"] - sqrt(2) * h * logistic(-sv)).rewrite(sympy.exp)) == 0
    assert sympy.simplify((red["restoring"] - 2 * logistic(sv) * logistic(-sv)).rewrite(sympy.exp)) == 0
    assert sympy.simplify((red["noise"] - 2 * logistic(-sv) ** 2).rewrite(sympy.exp)) == 0
    s2 = C.closure_symbols(2)
    assert binr["Rb"] == sqrt(2) * s2.D and sympy.expand(binr["Qb"] - 2 * (s2.D**2 + s2.Delta)) == 0


def test_k2_binary_flow_numerically_matches_general_flow():
    """dD/dalpha of the binary closure (2-D law of (h, zeta)) vs the K = 2 flow (4-D law)."""
    s2 = C.closure_symbols(2)
    vals = {s2.D: 0.7, s2.Delta: 0.3, s2.eta: 1.0}
    binr = C.binary_logistic_closure()
    general = C.derive_closure(2, binary=False).flow["D"]
    Eb = binr["dD"].atoms(GaussianExpectation).pop()
    Eg = general.atoms(GaussianExpectation).pop()
    b = float((binr["dD"] / Eb).subs(vals)) * Eb.gauss_hermite(vals, nodes=200)
    m, se = Eg.monte_carlo(vals, samples=200_000, seed=4)
    g = float((general / Eg).subs(vals)) * m
    assert abs(b - g) < 5 * se + 1e-3


def _integrands_module():
    return pytest.importorskip(
        "asymptotics.symbolic.integrands", reason="asymptotics/symbolic/integrands.py not present"
    )


@pytest.mark.parametrize("K", [2, 3, 5])
def test_consistent_with_numeric_layer_integrands(K):
    integ = _integrands_module()
    theirs = integ.moment_integrands(K)
    mine = C.moments_in_gap_coordinates(K)
    assert set(theirs) == set(mine) == {"drift", "restoring", "noise", "eps_g", "loss"}
    d = [sympy.Symbol(f"d_{j}", real=True) for j in range(1, K)]
    g = [sympy.Symbol(f"g_{j}", real=True) for j in range(1, K)]
    rng = random.Random(K)
    mpmath.mp.dps = 30
    for _ in range(6):
        point = {x: sympy.Rational(rng.randint(-300, 300), 100) for x in d}
        point.update({x: sympy.Rational(rng.randint(1, 300), 100) for x in g})
        for name in mine:
            a = sympy.N(mine[name].subs(point).doit(), 30)
            b = sympy.N(theirs[name].subs(point).rewrite(sympy.log).doit(), 30)
            assert abs(a - b) < sympy.Float(10) ** -25, (name, point, a, b)
    if K <= 3:  # symbolic equality of the smooth ones
        for name in ("drift", "restoring", "noise", "loss"):
            diff = (mine[name] - theirs[name].rewrite(sympy.log)).rewrite(sympy.exp)
            assert sympy.simplify(sympy.expand_log(diff, force=True)) == 0, name


def test_bad_input():
    with pytest.raises(InvalidInputError, match="K must be"):
        C.derive_closure(1)
    with pytest.raises(InvalidInputError, match="integer symbol"):
        C.derive_closure(sympy.Symbol("K"))
    with pytest.raises(InvalidInputError, match="K = 2"):
        C.derive_closure(3, binary=True)
    with pytest.raises(InvalidInputError, match="integer K"):
        C.explicit_flow(C.derive_closure(KSYM).flow["D"], KSYM)


def test_numeric_integrands_match_direct_softmax_k3():
    """The compiled closure integrands (label conditioned to 1) against a direct numpy softmax."""
    import numpy as np

    K = 3
    s = C.closure_symbols(K)
    cl = C.derive_closure(K, binary=False)
    vals = {s.D: sympy.Rational(3, 2), s.Delta: sympy.Rational(1, 3)}
    rng = np.random.default_rng(0)
    y = rng.standard_normal((K, 50))
    xi = rng.standard_normal((K, 50))
    z = 1.5 * y + np.sqrt(1 / 3) * xi
    p = np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0)
    direct = {
        "drift": sum(p[k] * (y[0] - y[k]) for k in range(K)),
        "restoring": (p * (1 - p)).sum(0),
        "noise": (1 - p[0]) ** 2 + (p[1:] ** 2).sum(0),
        "loss": -np.log(p[0]),
        "eps_g": (np.argmax(z, 0) != 0).astype(float),
    }
    for name, E in cl.moments().items():
        Ex = C.explicit_flow(E, K, label=1)
        variables, f = Ex.numeric_integrand(vals)
        assert len(variables) == 2 * K
        args = [y[int(v.indices[0]) - 1] if v.base == s.y else xi[int(v.indices[0]) - 1] for v in variables]
        got = np.broadcast_to(np.asarray(f(*args), dtype=float), (50,))
        assert np.allclose(got, direct[name], rtol=1e-12, atol=1e-14), name
