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
from scipy import special
from scipy.stats import qmc

from asymptotics.losses.integrands import LOSS_MOMENT_NAMES, compiled_loss_split
from asymptotics.losses.registry import get_loss
from asymptotics.validation import InvalidInputError, check_nonnegative, check_num_classes

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


def _check(K, D, Delta, samples):
    K = check_num_classes(K)
    D = float(check_nonnegative("D", D))
    Delta = float(check_nonnegative("Delta", Delta))
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 64:
        raise InvalidInputError(f"samples must be an integer >= 64, got {samples!r}")
    return K, D, Delta, int(samples)


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
    K, D, Delta, samples = _check(K, D, Delta, samples)
    rng = np.random.default_rng(seed)
    if method == "montecarlo":
        pairs = samples // 2
        sums, sq, done = np.zeros(6), np.zeros(6), 0
        while done < pairs:
            m = min(_CHUNK, pairs - done)
            y = rng.standard_normal((m, K))
            xi = rng.standard_normal((m, K))
            f = 0.5 * (
                sample_loss_moments(loss, y, xi, D, Delta) + sample_loss_moments(loss, -y, -xi, D, Delta)
            )
            sums += f.sum(axis=1)
            sq += (f * f).sum(axis=1)
            done += m
        mean = sums / pairs
        var = np.maximum(sq / pairs - mean**2, 0.0) * pairs / max(pairs - 1, 1)
        se = np.sqrt(var / pairs)
    else:
        if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 2:
            raise InvalidInputError(f"replicates must be an integer >= 2, got {replicates!r}")
        mexp = max(int(math.floor(math.log2(samples / replicates))), 4)
        means = []
        for ss in np.random.SeedSequence(seed).spawn(replicates):
            engine = qmc.Sobol(d=2 * K, scramble=True, seed=np.random.default_rng(ss))
            x = special.ndtri(np.clip(engine.random_base2(mexp), 1e-300, 1 - 2**-53))
            means.append(sample_loss_moments(loss, x[:, :K], x[:, K:], D, Delta).mean(axis=1))
        means = np.array(means)
        mean = means.mean(axis=0)
        se = means.std(axis=0, ddof=1) / math.sqrt(replicates)
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
