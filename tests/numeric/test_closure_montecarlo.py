"""Monte Carlo / QMC estimators: reproducibility, error bars, closed forms."""

import math

import numpy as np
import pytest

from asymptotics.numeric.closure_montecarlo import montecarlo_moments, qmc_moments, sample_moments
from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.validation import InvalidInputError


def eps_exact(D, Delta):
    return math.atan2(math.sqrt(Delta), D) / math.pi


def test_reproducible_from_seed():
    a = montecarlo_moments(3, 2.0, 0.5, samples=5000, seed=42)
    b = montecarlo_moments(3, 2.0, 0.5, samples=5000, seed=42)
    c = montecarlo_moments(3, 2.0, 0.5, samples=5000, seed=43)
    assert a.as_dict() == b.as_dict() and a.errors == b.errors
    assert a.as_dict() != c.as_dict()
    q1 = qmc_moments(3, 2.0, 0.5, samples=2**12, replicates=4, seed=1)
    q2 = qmc_moments(3, 2.0, 0.5, samples=2**12, replicates=4, seed=1)
    assert q1.as_dict() == q2.as_dict()


@pytest.mark.parametrize("D,Delta", [(0.5, 1.0), (2.0, 0.25), (10.0, 2.0)])
def test_binary_eps_g_within_error_bar(D, Delta):
    exact = eps_exact(D, Delta)
    m = montecarlo_moments(2, D, Delta, samples=100_000, seed=5)
    q = qmc_moments(2, D, Delta, samples=2**15, replicates=16, seed=5)
    assert abs(m.eps_g - exact) < 4.5 * m.errors["eps_g"]
    assert abs(q.eps_g - exact) < 4.5 * q.errors["eps_g"] + 1e-6


@pytest.mark.parametrize("K", [2, 3, 5])
def test_D_zero_drift_is_expected_max(K):
    # at D = 0 the probabilities ignore the teacher: drift = E[max y], eps_g = 1 - 1/K
    emax = {2: 1 / math.sqrt(math.pi), 3: 1.5 / math.sqrt(math.pi), 5: 1.1629644736405196}[K]
    m = montecarlo_moments(K, 0.0, 1.0, samples=100_000, seed=K)
    assert abs(m.drift - emax) < 4.5 * m.errors["drift"]
    assert abs(m.eps_g - (1 - 1 / K)) < 4.5 * m.errors["eps_g"]


def test_uniform_point_is_exact():
    m = montecarlo_moments(4, 0.0, 0.0, samples=1000, seed=0)
    assert m.restoring == pytest.approx(0.75, abs=1e-14)
    assert m.loss == pytest.approx(math.log(4), abs=1e-14)


def test_standard_error_scales_as_inverse_sqrt_n():
    small = montecarlo_moments(3, 1.0, 0.25, samples=20_000, seed=9)
    large = montecarlo_moments(3, 1.0, 0.25, samples=320_000, seed=9)
    for name in MOMENT_NAMES:
        ratio = small.errors[name] / large.errors[name]
        assert 3.2 < ratio < 4.8, (name, ratio)  # sqrt(16) = 4


def test_qmc_beats_mc_at_moderate_D():
    n = 2**16
    m = montecarlo_moments(3, 1.0, 0.25, samples=n, seed=3)
    q = qmc_moments(3, 1.0, 0.25, samples=n, replicates=16, seed=3)
    assert q.errors["drift"] < m.errors["drift"] / 3
    assert q.errors["restoring"] < m.errors["restoring"] / 3


def test_sample_moments_large_D_is_finite():
    rng = np.random.default_rng(0)
    y, xi = rng.standard_normal((1000, 3)), rng.standard_normal((1000, 3))
    f = sample_moments(y, xi, 1e4, 5.0)
    assert np.all(np.isfinite(f)) and np.all(f >= 0)


def test_bad_input():
    with pytest.raises(InvalidInputError, match="samples"):
        montecarlo_moments(3, 1.0, 0.25, samples=10)
    with pytest.raises(InvalidInputError, match="replicates"):
        qmc_moments(3, 1.0, 0.25, samples=1024, replicates=1)
    with pytest.raises(InvalidInputError, match="K must be"):
        montecarlo_moments(1, 1.0, 0.25)
    with pytest.raises(InvalidInputError, match="Delta must be >= 0"):
        qmc_moments(3, 1.0, -0.5)
