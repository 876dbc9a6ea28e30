"""Finite-N online SGD against the loss-generic closure, for every registered shift-invariant loss.

Setting (as tests/dynamics/test_sgd_vs_closure.py): N = 1000, eta = 1, W(0) = 0, 8 seeds, alpha from 0.1 to
20, K = 2 and 3.  Tolerance at every recorded alpha for D, Delta, eps_g, L (the training loss) and the test
cross-entropy::

    |mean over seeds - closure| <= 3 SE + |closure| / sqrt(N)

(the finite-size reasoning of the cross-entropy test applies unchanged: the allowance covers the O(1/N)
bias of the seed average and the uncertainty of 8-seed standard errors).  The test has power: the
focal-loss runs reject the cross-entropy closure and the cross-entropy runs reject the Brier closure.
``squared_logits`` is not shift invariant: the simulator runs it, the closure refuses it (checked).
"""

import math

import numpy as np
import pytest

from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.sgd import simulate_sgd
from asymptotics.validation import InvalidInputError

N, ETA, ALPHA_MAX = 1000, 1.0, 20.0
LOSSES = (
    "cross_entropy",
    "cross_entropy:T=2",
    "label_smoothing:eps=0.1",
    "focal:gamma=2",
    "brier",
    "margin:m=1",
)
NAMES = ("D", "Delta", "eps_g", "loss", "cross_entropy")


def deviations(result, closure):
    out = {}
    for name in NAMES:
        ref = np.asarray(getattr(closure, name))
        tol = 3 * result.se[name] + np.abs(ref) / math.sqrt(result.N)
        out[name] = float(np.max(np.abs(result.mean[name] - ref) / tol))
    return out


_RUNS = {}


def run(loss, K, run_slow=False):
    key = (loss, K)
    if key not in _RUNS:
        _RUNS[key] = simulate_sgd(
            K,
            ETA,
            N=N,
            seeds=16 if run_slow else 8,
            alpha_max=ALPHA_MAX,
            alpha_min=0.1,
            points_per_decade=4,
            n_test=4000,
            seed=77 + K + 10 * LOSSES.index(loss),
            loss=loss,
        )
    return _RUNS[key]


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("loss", LOSSES)
def test_sgd_agrees_with_the_loss_closure(loss, K, run_slow):
    result = run(loss, K, run_slow)
    closure = integrate_closure(K, ETA, result.alpha, loss=loss, rtol=1e-6)
    dev = deviations(result, closure)
    assert all(v <= 1.0 for v in dev.values()), dev


def test_comparison_rejects_the_wrong_loss():
    focal = run("focal:gamma=2", 3)
    wrong = integrate_closure(3, ETA, focal.alpha, rtol=1e-6)  # the cross-entropy closure
    assert max(v for k, v in deviations(focal, _with_ce(wrong)).items() if k in ("D", "Delta")) > 1.0
    ce = run("cross_entropy", 2)
    brier = integrate_closure(2, ETA, ce.alpha, loss="brier", rtol=1e-6)
    assert max(deviations(ce, brier)[k] for k in ("D", "Delta")) > 1.0


def _with_ce(curve):
    curve.cross_entropy = curve.loss
    return curve


def test_non_shift_invariant_loss_is_simulated_but_has_no_closure():
    r = simulate_sgd(2, ETA, N=200, seeds=2, alphas=[1.0], n_test=200, loss="squared_logits")
    assert np.all(np.isfinite(r.per_seed["loss"]))
    with pytest.raises(InvalidInputError, match="not shift invariant"):
        integrate_closure(2, ETA, r.alpha, loss="squared_logits")
