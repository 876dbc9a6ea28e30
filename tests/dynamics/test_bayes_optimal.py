import math

import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq

from asymptotics.dynamics.bayes_optimal import (
    bayes_error,
    bayes_overlap,
    bayes_reference_curve,
    gibbs_error,
    large_alpha_constants,
    online_optimal_error,
)
from asymptotics.validation import InvalidInputError

# published large-alpha constants (Opper & Haussler 1991; Kinouchi & Caticha 1992; Gibbs: Gyorgyi & Tishby)
PUBLISHED_BAYES, PUBLISHED_ONLINE, PUBLISHED_GIBBS = 0.442, 0.883, 0.625


def test_state_evolution_reproduces_published_constants_to_three_digits():
    alphas = [1e3, 1e4, 1e5]
    bayes = [a * bayes_error(a) for a in alphas]
    online = [a * e for a, e in zip(alphas, online_optimal_error(alphas))]
    gibbs = [a * gibbs_error(a) for a in alphas]
    assert round(bayes[-1], 3) == PUBLISHED_BAYES
    assert round(online[-1], 3) == PUBLISHED_ONLINE
    assert round(gibbs[-1], 3) == PUBLISHED_GIBBS
    # converged: successive decades agree
    assert abs(bayes[-1] - bayes[-2]) < 1e-6 and abs(online[-1] - online[-2]) < 1e-3
    # and the quadrature constants of the derived large-alpha forms agree with the solvers
    c = large_alpha_constants()
    assert bayes[-1] == pytest.approx(float(c["kappa_bayes"]), rel=1e-6)
    assert online[-1] == pytest.approx(float(c["kappa_online"]), rel=1e-3)


def test_overlap_agrees_with_spherical_gardner_derrida_equation():
    # independent form (Engel & Van den Broeck, spherical prior): R/sqrt(1-R) = alpha/pi int Dt e^{-R t^2/2}/H(-sqrt(R) t)
    mpmath.mp.dps = 20
    for alpha in (0.5, 2.0, 10.0):

        def g(R):
            R = mpmath.mpf(R)
            integral = mpmath.quad(
                lambda t: mpmath.npdf(t) * mpmath.exp(-R * t**2 / 2) / mpmath.ncdf(mpmath.sqrt(R) * t),
                [-mpmath.inf, 0, mpmath.inf],
            )
            return float(R / mpmath.sqrt(1 - R) - alpha / mpmath.pi * integral)

        R = brentq(g, 1e-9, 1 - 1e-12, xtol=1e-15)
        assert bayes_overlap(alpha) == pytest.approx(R, abs=1e-11)


def test_precision_levels_agree():
    f = bayes_error(2.0)
    m15 = bayes_error(2.0, digits=15)
    m30 = bayes_error(2.0, digits=30)
    assert abs(float(m15) - f) < 1e-13
    mpmath.mp.dps = 40
    assert abs(m30 - m15) < mpmath.mpf(10) ** -18
    assert m30 > 0


def test_online_small_alpha_and_ordering():
    # small alpha: rho^2 = 2 alpha/pi, so eps = arccos(rho)/pi
    a = 1e-6
    e = online_optimal_error([a])[0]
    assert e == pytest.approx(math.acos(math.sqrt(2 * a / math.pi)) / math.pi, rel=1e-6)
    alphas = np.logspace(-1, 3, 9)
    on = online_optimal_error(alphas)
    ba = [bayes_error(x) for x in alphas]
    gi = [gibbs_error(x) for x in alphas]
    assert all(b < g for b, g in zip(ba, gi)) and all(b < o for b, o in zip(ba, on))
    assert all(np.diff(on) < 0) and all(np.diff(ba) < 0)


def test_reference_curve_and_k_coverage():
    d = bayes_reference_curve([10.0, 100.0])
    assert d["eps_bayes"][1] == pytest.approx(bayes_error(100.0))
    with pytest.raises(InvalidInputError, match="K must be <= 2"):
        bayes_reference_curve([10.0], K=3)
    with pytest.raises(InvalidInputError):
        bayes_error(-1.0)
