"""Drift-restoring identity: derived by Stein's lemma, checked on the exact closure and on the 1/D expansion."""

import mpmath
import pytest

from asymptotics.asymptotic.expansion import expansion_coefficient
from asymptotics.asymptotic.gap_density import top_gap_density_at_zero
from asymptotics.numeric.closure import closure_moments
from asymptotics.symbolic.identities import drift_restoring_identity


def test_symbolic_steps():
    steps = drift_restoring_identity()
    assert steps["check"] == 0
    assert "D" in str(steps["stein"]) and "p[k]**2" in str(steps["stein"])
    assert str(steps["identity"]) == "Eq(D*restoring + drift, rho_K(0))"


@pytest.mark.parametrize("K", [2, 3, 5])
def test_exact_closure_satisfies_identity(K):
    rho = float(top_gap_density_at_zero(K))
    for D in (0.5, 2.0, 10.0, 100.0):
        for Delta in (0.1, 0.6):
            m = closure_moments(K, D, Delta)
            assert abs(m.drift + D * m.restoring - rho) < 1e-11 * rho, (D, Delta)


def test_exact_closure_identity_at_30_digits():
    with mpmath.workdps(40):
        D, Delta = mpmath.mpf(3), mpmath.mpf("0.3")
        m = closure_moments(2, D, Delta, digits=30)
        assert abs(m.drift + D * m.restoring - 1 / mpmath.sqrt(mpmath.pi)) < mpmath.mpf(10) ** -28


@pytest.mark.parametrize("K", [3, 5])
def test_expansion_coefficients_satisfy_identity(K):
    # restoring and drift use different junction integrals, so this checks the junction machinery
    d = 0.3
    assert abs(float(expansion_coefficient(K, "restoring", 0, d)) - float(top_gap_density_at_zero(K))) < 1e-13
    assert abs(float(expansion_coefficient(K, "restoring", 1, d))) < 1e-13
    for j in range(3):
        r = float(expansion_coefficient(K, "restoring", j + 2, d))
        c = float(expansion_coefficient(K, "drift", j, d))
        assert abs(r + c) < 1e-12 * max(1, abs(c)), j


def test_expansion_identity_at_30_digits():
    with mpmath.workdps(40):
        d = mpmath.mpf("0.3")
    for j in (0, 1):
        r = expansion_coefficient(5, "restoring", j + 2, d, digits=30)
        c = expansion_coefficient(5, "drift", j, d, digits=30)
        assert abs(r + c) < mpmath.mpf(10) ** -28
