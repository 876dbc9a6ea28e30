"""K = 3 closure moments at a requested accuracy (closure_moments(..., rtol=)): the true error is
below rtol and below the reported error estimate, against independent references."""

import math

import numpy as np
import pytest

from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_quadrature import (
    k3_eps_g_exact,
    k3_moments,
    k3_moments_rtol,
    k3_rule,
    laplace_moments,
)
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.validation import InvalidInputError

# edges of the domain: D = 0, tiny, O(1), large; Delta = 0, tiny, O(1), large
EDGE_POINTS = [
    (0.0, 0.5),
    (0.0, 50.0),
    (1e-3, 1e-3),
    (0.1, 0.01),
    (1.0, 0.25),
    (3.0, 0.0),
    (10.0, 5.0),
    (300.0, 1e-3),
    (1e4, 5.0),
    (1e5, 0.5),
    (2.0, 50.0),
]


def values(m):
    return np.array([float(getattr(m, n)) for n in MOMENT_NAMES])


def estimates(m):
    return np.array([float(m.errors[n]) for n in MOMENT_NAMES])


@pytest.mark.parametrize("rtol", [1e-6, 1e-8, 1e-10])
@pytest.mark.parametrize("D, Delta", EDGE_POINTS)
def test_true_error_is_below_rtol_and_the_estimate(D, Delta, rtol):
    reference = values(k3_moments(D, Delta, h=1 / 9))  # ~1e-15 rule (default cut-offs)
    m = closure_moments(3, D, Delta, rtol=rtol)
    got, est = values(m), estimates(m)
    nonzero = reference != 0
    err = np.abs(got - reference)[nonzero] / np.abs(reference)[nonzero]
    assert np.all(err <= rtol), (err, rtol)
    assert np.all(np.abs(got - reference)[nonzero] <= est[nonzero] + 2e-15 * np.abs(reference)[nonzero])
    assert np.all(est[nonzero] <= rtol * np.abs(got)[nonzero])
    assert got[3] == 0.0 if Delta == 0.0 else True  # eps_g = 0 exactly without noise


@pytest.mark.parametrize("D, Delta", [(1.0, 0.25), (30.0, 2.0), (1e4, 0.01)])
def test_eps_g_against_the_closed_form(D, Delta):
    exact = float(k3_eps_g_exact(D, Delta, digits=20))
    for rtol in (1e-6, 1e-9):
        assert abs(k3_moments_rtol(D, Delta, rtol).eps_g / exact - 1) <= rtol


def test_agrees_with_the_independent_laplace_route():
    lap = values(laplace_moments(3, 2.0, 0.5))  # ~1e-12, different representation
    got = values(k3_moments_rtol(2.0, 0.5, 1e-8))
    assert np.all(np.abs(got / lap - 1) <= 1e-8)


def test_lower_accuracy_uses_fewer_nodes_and_the_default_is_unchanged():
    steps = [k3_rule(r)["h"] for r in (1e-4, 1e-6, 1e-8, 1e-10, 1e-12)]
    assert steps == sorted(steps, reverse=True) and steps[-1] < 1 / 6 < steps[2]
    plain = closure_moments(3, 10.0, 0.25)
    assert values(plain).tolist() == values(k3_moments(10.0, 0.25, h=1 / 6)).tolist()
    assert math.isclose(closure_moments(3, 10.0, 0.25, rtol=0.1).eps_g, plain.eps_g, rel_tol=1e-3)


def test_rule_domain():
    with pytest.raises(InvalidInputError):
        k3_rule(1e-14)
    with pytest.raises(InvalidInputError):
        k3_rule(0.5)
