"""The closure of a saturating loss at very long times: the beta = 1 law of label smoothing, whose
corrections decay only like alpha^-kappa, confirmed on the exact closure integrated in (D, ln Delta)."""

import numpy as np
import pytest

from asymptotics.analysis.extrapolation import extrapolate_exponent
from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.schedules import PowerLaw
from asymptotics.losses.long_time import long_time_closure
from asymptotics.losses.saturation import saturated_schedule_law, zero_noise_optimum
from asymptotics.validation import InvalidInputError

LS = "label_smoothing:eps=0.1"
HARMONIC = PowerLaw(1.0, 1.0, 1.0)


def test_agrees_with_the_closure_integrator_where_both_are_accurate():
    alphas = np.logspace(4, 8, 9)
    long = long_time_closure(LS, 2, HARMONIC, alphas)
    ref = integrate_closure(2, HARMONIC, alphas, loss=LS, rtol=1e-12)
    for name in ("D", "Delta", "eps_g", "loss"):
        assert np.allclose(getattr(long, name), getattr(ref, name), rtol=1e-9, atol=0), name


def _local_slopes(alpha, values):
    return np.gradient(np.log(values), np.log(alpha))


@pytest.mark.parametrize("K", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_beta_one_law_is_reached_with_corrections_alpha_to_minus_kappa(K, run_slow):
    law = saturated_schedule_law(LS, K, 1.0)
    kappa = zero_noise_optimum(LS, K)["curvature"] / (K - 1)
    # K = 3 moments cost ~10x those of K = 2: one point per two decades unless --run-slow
    alpha = 10 ** np.linspace(20, 100, 321 if K == 2 or run_slow else 41)
    c = long_time_closure(LS, K, HARMONIC, alpha)
    powers = tuple(n * kappa for n in (1, 2, 3, 4))
    for values, target in ((c.eps_g, law["exponent_eps_g"]), (c.excess_loss, law["exponent_excess_loss"])):
        s = _local_slopes(alpha, values)
        # at alpha = 1e20 the local slope is still far from the law; at 1e100 it is close
        assert abs(s[0] - target) > 0.005
        assert abs(s[-1] - target) < 2e-4
        ex = extrapolate_exponent(alpha, s, powers=powers, tol=1e-4)
        assert ex.asymptotic and abs(ex.value - target) < 3 * ex.error + 1e-6, (ex.value, ex.error, target)
    # the correction itself: D approaches D_0 like alpha^-kappa
    tail = alpha >= 1e60
    slope = np.polyfit(np.log(alpha[tail]), np.log(np.abs(c.D[tail] - c.D_limit)), 1)[0]
    assert abs(slope + kappa) < 0.02 * kappa, (slope, -kappa)


def test_refusals():
    with pytest.raises(InvalidInputError, match="K = 2 or 3"):
        long_time_closure(LS, 5, HARMONIC, [1e5])
    with pytest.raises(InvalidInputError, match="alphas must lie in"):
        long_time_closure(LS, 2, HARMONIC, [1e3])
    with pytest.raises(InvalidInputError, match="strictly increasing"):
        long_time_closure(LS, 2, HARMONIC, [1e6, 1e5])
    with pytest.raises(InvalidInputError):
        long_time_closure("cross_entropy", 2, HARMONIC, [1e5])  # does not saturate


def test_atlas_checks_the_beta_one_row_on_the_long_time_closure():
    from asymptotics.losses.atlas import atlas_row

    row = atlas_row(LS, 2, "power:beta=1", check=True)
    law = saturated_schedule_law(LS, 2, 1.0)
    assert row["check"]["alpha_max"] == 1e100 and "ln Delta" in row["method"]
    assert abs(row["check"]["eps_g_exponent"] - law["exponent_eps_g"]) <= row["error"] < 1e-4
    assert abs(row["check"]["excess_loss_exponent"] - law["exponent_excess_loss"]) <= row["error"]


def test_beta_three_quarters_excess_loss_without_cancellation():
    # L - L_min falls like alpha^-3/4: by 1e16 it is ~1e-13 of L_min, below what a float64 difference resolves
    alpha = 10 ** np.linspace(6, 16, 41)
    c = long_time_closure(LS, 2, PowerLaw(1.0, 0.75, 1.0), alpha)
    assert np.allclose(c.excess_loss[:5], c.loss[:5] - c.L_min, rtol=1e-6, atol=0)
    s_eps = _local_slopes(alpha, c.eps_g)
    s_exc = _local_slopes(alpha, c.excess_loss)
    assert abs(s_eps[-1] + 0.375) < 1e-4 and abs(s_exc[-1] + 0.75) < 2e-4, (s_eps[-1], s_exc[-1])
    ex = extrapolate_exponent(alpha[alpha >= 1e10], s_exc[alpha >= 1e10], powers=(0.25, 0.5, 0.75, 1.0))
    assert abs(ex.value + 0.75) < 3 * ex.error + 1e-6, (ex.value, ex.error)
