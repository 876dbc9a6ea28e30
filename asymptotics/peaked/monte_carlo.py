"""Monte Carlo statistical mechanics for i.i.d. logits and for the correlated rank-m teacher.

The actual teacher has logits ``h = W_hat x/sqrt(m)`` with covariance ``C = W_hat W_hat^T/m``: nearly
i.i.d. for ``m >> n`` (C = I + O(1/sqrt(m))), rank m (hence correlated) for ``m < n``.  These
routines average over sampled logits (in chunks, so n = 32000 fits in memory) and return means with
standard errors (1 sigma); :func:`teacher_vs_iid` quantifies the difference from the i.i.d. model.

>>> r = monte_carlo_thermodynamics(iid_logits(4, 2000, seed=0), 1.0)
>>> sorted(r)[:3]
['U', 'V', 'entropy']
"""

from __future__ import annotations

import math

import numpy as np

from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

__all__ = ["iid_logits", "teacher_logits", "monte_carlo_thermodynamics", "teacher_vs_iid"]


def iid_logits(n: int, samples: int, seed: int = 0):
    """Generator of chunks of i.i.d. N(0,1) logits, ``samples`` rows in total.

    >>> sum(c.shape[0] for c in iid_logits(3, 10, seed=1))
    10
    """
    n = check_num_classes(n)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(samples, 4_000_000 // n))
    done = 0
    while done < samples:
        k = min(chunk, samples - done)
        yield rng.standard_normal((k, n))
        done += k


def teacher_logits(W_hat: np.ndarray, samples: int, seed: int = 0):
    """Generator of chunks of teacher fields ``h = W_hat x/sqrt(m)``, ``x ~ N(0, I_m)``.

    >>> W = np.eye(2, 5) * np.sqrt(5)
    >>> float(np.round(next(teacher_logits(W, 20000, 0)).std(), 1))
    1.0
    """
    n, m = W_hat.shape
    rng = np.random.default_rng(seed)
    chunk = max(1, min(samples, 4_000_000 // max(n, m)))
    done = 0
    while done < samples:
        k = min(chunk, samples - done)
        yield rng.standard_normal((k, m)) @ W_hat.T / math.sqrt(m)
        done += k


def monte_carlo_thermodynamics(chunks, beta: float) -> dict:
    """Sample means and 1-sigma errors of ``lnZ``, ``purity`` (sum p^2), ``U`` (-sum p h),
    ``entropy``, ``V`` (max h - sum p h) and ``max`` over the logits in ``chunks``.

    Values are ``(mean, standard_error)`` pairs; accuracy is the standard error.

    >>> r = monte_carlo_thermodynamics(iid_logits(2, 4000, seed=3), 1e-8)
    >>> round(r["entropy"][0], 6)
    0.693147
    """
    check_positive("beta", beta)
    acc = {k: [0.0, 0.0] for k in ("lnZ", "purity", "U", "entropy", "V", "max")}
    total = 0
    for h in chunks:
        z = beta * h
        mx = z.max(axis=1, keepdims=True)
        e = np.exp(z - mx)
        s = e.sum(axis=1, keepdims=True)
        p = e / s
        lnz = (mx + np.log(s))[:, 0]
        ph = np.sum(p * h, axis=1)
        hmax = h.max(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.sum(np.where(p > 0, p * np.log(p), 0.0), axis=1)
        vals = {
            "lnZ": lnz,
            "purity": np.sum(p * p, axis=1),
            "U": -ph,
            "entropy": ent,
            "V": hmax - ph,
            "max": hmax,
        }
        for k, v in vals.items():
            acc[k][0] += float(np.sum(v))
            acc[k][1] += float(np.sum(v * v))
        total += h.shape[0]
    if total < 2:
        raise InvalidInputError("need at least 2 samples")
    out = {}
    for k, (s1, s2) in acc.items():
        mean = s1 / total
        var = max(s2 / total - mean * mean, 0.0)
        out[k] = (mean, math.sqrt(var / (total - 1)))
    return out


def teacher_vs_iid(n: int, m: int, beta: float, samples: int = 20000, seed: int = 0) -> dict:
    """Difference between the actual random teacher (W_hat n x m Gaussian) and the i.i.d. model.

    Returns, for ``V`` (the force -dL/dbeta up to a constant), ``entropy`` and ``max``: the exact
    i.i.d. value, the teacher Monte Carlo value, its error, and the relative difference.

    >>> r = teacher_vs_iid(4, 64, 1.0, samples=2000)
    >>> sorted(r)
    ['V', 'entropy', 'm', 'max', 'n']
    """
    from asymptotics.asymptotic.gap_density import expected_maximum
    from asymptotics.peaked.simulate import teacher_matrix
    from asymptotics.peaked.stat_mech_float import gap_thermodynamics

    n = check_num_classes(n)
    W = teacher_matrix(n, m, seed)
    mc = monte_carlo_thermodynamics(teacher_logits(W, samples, seed + 1), beta)
    ex = gap_thermodynamics(n, beta)
    c0 = float(expected_maximum(n))
    exact = {"V": ex["V"], "entropy": ex["entropy"], "max": c0}
    out = {"n": n, "m": m}
    for k, v in exact.items():
        mean, err = mc[k]
        out[k] = {"iid_exact": v, "teacher_mc": mean, "mc_error": err, "relative_difference": mean / v - 1}
    return out
