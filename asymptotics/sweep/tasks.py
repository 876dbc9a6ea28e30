"""Point functions for sweeps: plain module-level functions returning JSON-able dicts.

* :func:`closure_curve` -- the exact closure (D, Delta, eps_g, loss) at the recorded alphas;
* :func:`sgd_block` -- one block of online-SGD seeds: per-alpha means and sums of squared deviations
  of D, Delta, eps_g, loss over the block (blocks combine exactly, :func:`combine_blocks`);
* :func:`noop` and :func:`busy` -- a trivial and a CPU-bound function, for overhead and speed-up
  measurements of the sweep machinery itself.

>>> noop(x=1)
{'x': 1}
>>> busy(n=1000, seed=3) == busy(n=1000, seed=3)
True
"""

from __future__ import annotations

import math

__all__ = ["OBSERVABLES", "busy", "closure_curve", "combine_blocks", "noop", "sgd_block"]

#: observables of both point functions, in this order
OBSERVABLES = ("D", "Delta", "eps_g", "loss")


def closure_curve(K: int, eta: float, alphas, rtol: float = 1e-10, moment_rtol: float | None = None) -> dict:
    """Exact closure from W(0) = 0 at ``alphas`` (:func:`asymptotics.dynamics.flow.integrate_closure`).

    ``moment_rtol`` asks the moments for that relative accuracy (K = 3: a faster quadrature rule).

    >>> r = closure_curve(2, 0.5, [1.0, 10.0])
    >>> [round(x, 4) for x in r["eps_g"]], r["rhs_evaluations"] > 0
    ([0.2763, 0.088], True)
    """
    from asymptotics.dynamics.flow import integrate_closure

    curve = integrate_closure(K, eta, alphas, rtol=rtol, moment_rtol=moment_rtol)
    out = {"alpha": curve.alpha.tolist()}
    out.update({name: getattr(curve, name).tolist() for name in OBSERVABLES})
    out["rhs_evaluations"] = int(curve.rhs_evaluations)
    return out


def sgd_block(K: int, eta: float, N: int, seeds: int, seed: int, alphas, n_test: int = 4000) -> dict:
    """One block of ``seeds`` SGD replicates (batch seed ``seed``): means and sums of squared deviations.

    Keys: ``alpha`` and, per observable X, ``X`` (mean over the block) and ``X_m2`` (sum of squared
    deviations from that mean), plus ``seeds``.  Input generation runs in the calling thread
    (``workers=0``), so a sweep worker uses one core; the result does not depend on it.

    >>> r = sgd_block(2, 1.0, N=32, seeds=2, seed=0, alphas=[0.5], n_test=64)
    >>> r["seeds"], len(r["D"]), r["D_m2"][0] >= 0
    (2, 1, True)
    """
    from asymptotics.dynamics.sgd import simulate_sgd

    run = simulate_sgd(K, eta, N=N, seeds=seeds, seed=seed, alphas=alphas, n_test=n_test, workers=0)
    out = {"alpha": run.alpha.tolist(), "seeds": int(seeds)}
    for name in OBSERVABLES:
        values = run.per_seed[name]
        mean = values.mean(axis=0)
        out[name] = mean.tolist()
        out[f"{name}_m2"] = ((values - mean) ** 2).sum(axis=0).tolist()
    return out


def combine_blocks(blocks: list) -> dict:
    """Combine block results of :func:`sgd_block` (same alphas): means, standard deviations, standard errors.

    Exact pooling of means and sums of squared deviations (Chan et al.); returns ``alpha``, ``seeds`` and per
    observable ``X`` (mean), ``X_sd`` (seed-to-seed standard deviation, ddof = 1) and ``X_se``.

    >>> a = {"alpha": [1.0], "seeds": 2, "D": [1.0], "D_m2": [2.0]}
    >>> b = {"alpha": [1.0], "seeds": 2, "D": [3.0], "D_m2": [2.0]}
    >>> c = combine_blocks([a, b])         # values 0, 2, 2, 4: mean 2, m2 = 8, sd = sqrt(8/3)
    >>> c["D"], round(c["D_sd"][0] ** 2, 12)
    ([2.0], 2.666666666667)
    """
    import numpy as np

    if not blocks:
        raise ValueError("no blocks to combine")
    alpha = blocks[0]["alpha"]
    if any(b["alpha"] != alpha for b in blocks):
        raise ValueError("blocks recorded at different alphas cannot be combined")
    names = [n for n in OBSERVABLES if n in blocks[0]]
    n = np.array([b["seeds"] for b in blocks], dtype=float)[:, None]
    total = float(n.sum())
    out = {"alpha": list(alpha), "seeds": int(total)}
    for name in names:
        means = np.array([b[name] for b in blocks])
        m2 = np.array([b[f"{name}_m2"] for b in blocks])
        mean = (n * means).sum(axis=0) / total
        pooled = m2.sum(axis=0) + (n * (means - mean) ** 2).sum(axis=0)
        sd = np.sqrt(pooled / (total - 1)) if total > 1 else np.full(mean.shape, math.nan)
        out[name] = mean.tolist()
        out[f"{name}_sd"] = sd.tolist()
        out[f"{name}_se"] = (sd / math.sqrt(total)).tolist()
    return out


def noop(**params) -> dict:
    """Return the parameters unchanged (sweep overhead)."""
    return dict(params)


def busy(n: int = 2_000_000, seed: int = 0) -> dict:
    """CPU-bound pure-Python work (an LCG of ``n`` steps, holds the GIL); returns its final state.

    >>> busy(n=3, seed=1)["state"]
    2165703038
    """
    x = int(seed) & 0xFFFFFFFF
    for _ in range(int(n)):
        x = (1664525 * x + 1013904223) & 0xFFFFFFFF
    return {"state": x}
