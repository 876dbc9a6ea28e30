"""Monte Carlo and quasi-Monte Carlo estimates of the closure moments of any loss, any K.

The stated method for K >= 4 when the loss has no deterministic route (every loss but the cross-entropy
family), and an independent cross-check of the quadratures for K = 2, 3: samples are drawn in the model's
own variables (``y, xi ~ N(0, I_K)``, ``z = D y + sqrt(Delta) xi``, ``c = argmax y``), the rivals of the
label are gathered in class order, and the integrands are the loss's compiled gap functions
(:func:`asymptotics.losses.integrands.compiled_loss_split`) at ``d_j = z_c - z_j``, ``g_j = y_c - y_j``;
``eps_g`` is ``1[argmax z != c]``.  ``errors`` are standard errors (one sigma): antithetic pairs for
``"montecarlo"``, independent scramblings for ``"qmc"``.  As for cross-entropy
(:mod:`asymptotics.numeric.closure_montecarlo`) the relative error grows like ``sqrt(D/samples)`` at
large ``D``: use it for ``D <~ 100``.

>>> m = loss_montecarlo("focal:gamma=2", 2, 1.0, 0.25, samples=4096, seed=1)
>>> abs(m.eps_g - 0.1475836) < 5 * m.errors["eps_g"]
True
"""

from __future__ import annotations

import math

import numpy as np

from asymptotics.losses.integrands import LOSS_MOMENT_NAMES, compiled_loss_split
from asymptotics.losses.registry import get_loss
from asymptotics.numeric.closure_montecarlo import antithetic_mean, check_sampling_arguments, sobol_mean
from asymptotics.validation import InvalidInputError

__all__ = ["loss_montecarlo", "sample_loss_moments"]

_CHUNK = 32768


def sample_loss_moments(loss, y: np.ndarray, xi: np.ndarray, D: float, Delta: float) -> np.ndarray:
    """Per-sample integrand values, shape ``(6, n)``, from ``y, xi`` of shape ``(n, K)``.

    >>> y = np.array([[1.0, 0.0]]); xi = np.zeros((1, 2))
    >>> np.round(sample_loss_moments("brier", y, xi, 0.0, 0.0)[:, 0], 6).tolist()
    [0.5, 0.5, 0.5, 0.0, 0.5, 0.693147]
    """
    loss = get_loss(loss)
    n, K = y.shape
    z = D * y + math.sqrt(Delta) * xi
    c = np.argmax(y, axis=1)
    rows = np.arange(n)
    # rival indices in class order, skipping the label
    idx = np.arange(K - 1)[None, :] + (np.arange(K - 1)[None, :] >= c[:, None])
    zc = z[rows, c][:, None]
    yc = y[rows, c][:, None]
    d = zc - np.take_along_axis(z, idx, axis=1)
    g = yc - np.take_along_axis(y, idx, axis=1)
    bases, coeffs = compiled_loss_split(loss, K, "numpy")(*d.T)
    out = np.empty((6, n))
    out[0] = np.sum(np.stack(coeffs) * g.T, axis=0)
    for i in (1, 2, 4, 5):
        out[i] = bases[i]
    out[3] = (np.argmax(z, axis=1) != c).astype(float)
    return out


def loss_montecarlo(
    loss,
    K: int,
    D,
    Delta,
    *,
    method: str = "montecarlo",
    samples: int | None = None,
    seed=None,
    replicates: int = 16,
):
    """Moments of ``loss`` by Monte Carlo (antithetic pairs) or randomised QMC; ``errors`` = standard errors.

    Default ``samples``: 200000 (``montecarlo``), 2^16 (``qmc``).
    """
    from asymptotics.losses.moments import LossMoments

    loss = get_loss(loss)
    loss.require_centred()
    if method not in ("montecarlo", "qmc"):
        raise InvalidInputError(f"method must be 'montecarlo' or 'qmc', got {method!r}")
    samples = (200_000 if method == "montecarlo" else 2**16) if samples is None else samples
    K, D, Delta, samples = check_sampling_arguments(K, D, Delta, samples)

    def sampler(y, xi):
        return sample_loss_moments(loss, y, xi, D, Delta)

    if method == "montecarlo":
        mean, se = antithetic_mean(sampler, K, samples, seed, 6, chunk=_CHUNK)
    else:
        mean, se = sobol_mean(sampler, K, samples, replicates, seed)
    return LossMoments(
        K,
        D,
        Delta,
        *map(float, mean[:5]),
        errors=dict(zip(LOSS_MOMENT_NAMES, map(float, se))),
        method=method,
        digits=15,
        cross_entropy=float(mean[5]),
        loss_name=loss.name,
    )
