"""Late-time series against the integrated exact closure (``integrate_closure``, LSODA, rtol 1e-12).

Default form: K = 2 for eta in {0.5, 1} and K = 3, 5 for eta = 1, from W(0) = 0 to alpha = 1e8 (K = 5 uses
the four- and five-class junctions in its alpha^(-2/3) and alpha^(-1) terms).
With --run-slow also K = 3, eta = 0.5 from W(0) = 0 to alpha = 1e8.
"""

import math

import mpmath
import numpy as np
import pytest

from asymptotics.asymptotic.late_time import late_time_series
from asymptotics.asymptotic.reduced_flow import fixed_point_Delta, leading_prefactors
from asymptotics.dynamics.flow import integrate_closure

NOISE = 3e-9  # relative accuracy of the integrated exact curves (closure + rtol)


def _curve(K, eta, full):
    if K == 2 or full or eta == 1.0:
        alphas = np.logspace(2, 8, 25)
        return integrate_closure(K, eta, alphas, rtol=1e-12)
    lt = late_time_series(K, eta, 3)
    alphas = np.logspace(3.5, 6, 11)
    return integrate_closure(
        K, eta, alphas, D0=float(lt.D(1e3)), Delta0=float(lt.Delta(1e3)), alpha_start=1e3, rtol=1e-9
    )


CASES = [(2, 0.5), (2, 1.0), (3, 1.0), (5, 1.0), pytest.param(3, 0.5, marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def cache():
    return {}


def _setup(cache, K, eta, run_slow):
    if K == 3 and eta == 0.5 and not run_slow:
        pytest.skip("K = 3, eta = 0.5 runs with --run-slow")
    key = (K, eta)
    if key not in cache:
        lt = late_time_series(K, eta, 5)
        cur = _curve(K, eta, run_slow)
        C = lt.fit_initial_constant(cur.alpha[-1], cur.D[-1])
        cache[key] = (lt, cur, C)
    return cache[key]


def _next_term(coeffs, k, alpha, C):
    """|k-th relative correction| at alpha (k = 1, 2, 3), skipping zero coefficients."""
    for i in range(k, len(coeffs)):
        c = coeffs[i]
        value = c[0] + c[1] * math.log(alpha) + c[2] * C if isinstance(c, tuple) else c
        if abs(float(value)) > 1e-12:
            return abs(float(value)) * alpha ** (-i / 3), i
    return None, None


@pytest.mark.parametrize("K,eta", CASES)
@pytest.mark.parametrize("name", ["eps_g", "loss", "D"])
def test_residual_after_k_terms_is_next_term(K, eta, name, cache, run_slow):
    lt, cur, C = _setup(cache, K, eta, run_slow)
    exact = getattr(cur, name)
    series = getattr(lt, name)
    lo = 1e4 if (K == 2 or run_slow or eta == 1.0) else 3e3
    for k in (1, 2, 3, 4):
        ratios = []
        for a, v in zip(cur.alpha, exact):
            if a < lo or a >= cur.alpha[-1]:
                continue
            resid = abs(float(series(a, C, terms=k)) / v - 1)
            # the remaining known terms (k+1 .. 6); when the (k+1)-th coefficient is tiny (e.g. K = 2,
            # or the loss for K = 3) the residual is carried by the following one
            nxt = abs(float(series(a, C, terms=6) - series(a, C, terms=k)) / v)
            if resid > 30 * NOISE:
                ratios.append(resid / nxt)
        assert len(ratios) >= 3, (k, ratios)
        # the residual is the next term: ratio -> 1 (within the size of the following correction)
        assert all(0.5 < r < 1.6 for r in ratios[-3:]), (k, ratios)


@pytest.mark.parametrize("K,eta", CASES)
def test_local_slopes_and_prefactors(K, eta, cache, run_slow):
    lt, cur, C = _setup(cache, K, eta, run_slow)
    if cur.alpha[-1] < 1e8:
        pytest.skip("needs alpha = 1e8 (K = 3: --run-slow)")
    a = cur.alpha
    for name, prefactor in (("eps_g", lt.leading["C_eps"]), ("loss", lt.leading["C_L"])):
        y = getattr(cur, name)
        slope = math.log(y[-1] / y[-2]) / math.log(a[-1] / a[-2])
        assert abs(slope + 1 / 3) < 1e-3, (name, slope)
        assert abs(y[-1] * a[-1] ** (1 / 3) / float(prefactor) - 1) < 1e-3
    assert abs(cur.D[-1] * a[-1] ** (-1 / 3) / float(lt.leading["C_D"]) - 1) < 1e-3


def test_initial_constant_is_the_only_free_parameter():
    lt = late_time_series(2, 1.0, 3)
    alphas = np.logspace(2, 7, 16)
    c1 = integrate_closure(2, 1.0, alphas, rtol=1e-10)
    c2 = integrate_closure(2, 1.0, alphas, D0=3.0, Delta0=1.0, rtol=1e-10)
    C1 = lt.fit_initial_constant(c1.alpha[-1], c1.D[-1])
    C2 = lt.fit_initial_constant(c2.alpha[-1], c2.D[-1])
    assert abs(C1 - C2) > 1.0
    for i, a in enumerate(alphas):
        if not 1e4 <= a <= 1e6:
            continue
        for name in ("eps_g", "loss", "D"):
            e1, e2 = getattr(c1, name)[i], getattr(c2, name)[i]
            s1, s2 = (float(getattr(lt, name)(a, C)) for C in (C1, C2))
            # each curve is its series with its own C; the curves differ only through C
            assert abs(s1 / e1 - 1) < 0.05 * abs(e1 / e2 - 1) + 1e-8
            assert abs((s1 - s2) - (e1 - e2)) < 0.05 * abs(e1 - e2) + 1e-8 * abs(e1)


def test_log_term_structure():
    lt2 = late_time_series(2, 1.0, 3)
    assert lt2.e[1] == 0 and lt2.e[3] == 0  # K = 2: no odd orders, no logarithm
    lt3 = late_time_series(3, 1.0, 3)
    assert abs(float(lt3.e[3])) > 1e-2  # K = 3: ln(alpha)/alpha term present
    assert abs(float(lt3.coefficients["eps_g"][3][1])) > 1e-2


def test_spec_example_and_precisions():
    c15, c30, c50 = (leading_prefactors(3, 1, d) for d in (15, 30, 50))
    assert mpmath.nstr(c30["Delta_star"], 6) == "0.252918"
    assert abs(float(c15["C_D"]) - 1.06401) < 1e-5
    assert abs(float(c15["C_L"]) - 0.75475) < 1e-5
    # the spec quotes C_eps = 0.22568...; the derivation gives 0.225676 (rounds to 0.22568)
    assert abs(float(c15["C_eps"]) - 0.22568) < 1e-5
    for key in ("Delta_star", "C_D", "C_eps", "C_L", "rho0"):
        assert abs(c15[key] - c50[key]) < 1e-14 * abs(c50[key])
        with mpmath.workdps(40):
            assert abs(c30[key] - c50[key]) < mpmath.mpf(10) ** -29 * abs(c50[key])


def test_fixed_point_small_eta():
    # Delta* ~ eta (ln 2 - 1/2) for small eta
    eta = 1e-3
    assert abs(float(fixed_point_Delta(eta)) / (eta * (math.log(2) - 0.5)) - 1) < 1e-3


def test_correction_coefficients_at_15_30_50_digits():
    series = {d: late_time_series(3, 1.0, 3, d) for d in (15, 30, 50)}
    for name in ("D", "eps_g", "loss"):
        for c15, c30, c50 in zip(*(series[d].coefficients[name][1:] for d in (15, 30, 50))):
            for a, b, c in zip(*((x if isinstance(x, tuple) else (x,)) for x in (c15, c30, c50))):
                assert abs(a - b) < 1e-12 * max(1, abs(b))
                with mpmath.workdps(60):
                    assert abs(b - c) < mpmath.mpf(10) ** -29 * max(1, abs(c))
    for a, b in zip(series[30].slaving, series[50].slaving):
        assert abs(a - b) < mpmath.mpf(10) ** -29


@pytest.mark.parametrize("K", [2, 3, 5])
def test_free_constant_is_a_time_shift(K):
    # the reduced flow is autonomous, so C can only enter through alpha -> alpha - C: the C-coefficient of
    # the relative alpha^(-(j+3)/3) term is a_j (p_j) with p_j = (1+j)/3 for eps_g, L and (j-1)/3 for D
    lt = late_time_series(K, 1.0, 5)
    for name, sign in (("eps_g", 1), ("loss", 1), ("D", -1)):
        coeffs = lt.coefficients[name]
        for j in range(3):
            a_j = coeffs[j] if not isinstance(coeffs[j], tuple) else coeffs[j][0]
            c_term = coeffs[j + 3]
            c_coef = c_term[2] if isinstance(c_term, tuple) else 0
            expected = a_j * sign * (1 + j if sign > 0 else 1 - j) / 3
            assert abs(float(c_coef) - float(expected)) < 1e-12, (name, j, c_coef, expected)
