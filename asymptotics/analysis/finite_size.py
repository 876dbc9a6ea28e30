"""Finite-size study: how online SGD at finite N departs from the N -> infinity closure.

For each (K, eta) and recorded alpha the study measures, over many independent runs at each N,

* the mean deviation ``delta_X(N) = E[X_N] - X_closure`` of X in (D, Delta, eps_g, L), with its standard
  error (the closure is exact to ~1e-8 here, negligible);
* its exponent in 1/N: a weighted least-squares fit ``delta = c N^-p`` to the deviations (errors: their
  standard errors, scaled by sqrt(chi^2/dof) when that exceeds 1), plus the local (secant) exponents between successive N
  with their errors -- the slope diagnostics of the claim;
* its coefficient ``c(alpha) = N delta`` (weighted mean over N assuming p = 1), compared for K = 2 with
  the derived 1/N correction (:mod:`asymptotics.analysis.finite_size_k2`);
* the seed-to-seed spread ``sd_X(N)`` and its exponent (expected -1/2).

Seeds per N.  The deviation falls like 1/N and the spread like N^-1/2, so resolving the deviation with
``z`` standard errors needs ``S(N) >= z^2 (s/c)^2 N`` seeds (s, c: the spread and deviation
coefficients): :func:`plan_seeds` makes S proportional to N from a pilot estimate of ``(s/c)^2``.

For K = 2 the test error and the loss of a run depend on its weights only through (D, Delta):
``eps_g = arccos(D/sqrt(D^2 + Delta))/pi`` and ``L = E[softplus(-sqrt2 (D|u| + sqrt(Delta) xi))]``
(u, xi standard normal; derivation in :mod:`asymptotics.analysis.finite_size_k2`), so they are
evaluated exactly per run (:func:`k2_error_and_loss`) instead of on test samples -- no Monte Carlo
noise.  For K >= 3 they are estimated on ``n_test`` fresh test inputs per run (their Monte Carlo noise is
part of the reported spread and standard error).

The runs are points of a sweep (:func:`asymptotics.sweep.runner.run_sweep` with
:func:`asymptotics.sweep.tasks.sgd_block`), cached on disk: an interrupted study resumes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from asymptotics.validation import InvalidInputError

__all__ = [
    "OBSERVABLES",
    "StudyConfig",
    "analyse",
    "fit_power",
    "headline",
    "k2_error_and_loss",
    "plan_seeds",
    "plot_finite_size",
    "run_study",
    "secant_exponents",
    "study_points",
]

OBSERVABLES = ("D", "Delta", "eps_g", "loss")


@dataclass
class StudyConfig:
    """What to run: models, sizes, times, seeds per N (``seeds[N]``), seeds per block, and for K >= 3
    ``n_test = n_test_per_N * N`` test inputs per run and time (keeps their Monte Carlo noise, relative
    to the seed spread ~N^-1/2, independent of N)."""

    Ks: tuple = (2, 3)
    etas: tuple = (0.5, 1.0)
    Ns: tuple = (100, 200, 400, 1000, 2000)
    alphas: tuple = (0.25, 0.5, 1.0, 2.0)
    seeds: dict = field(default_factory=dict)
    block: int = 250
    n_test_per_N: int = 40
    seed0: int = 0

    def seeds_for(self, N: int) -> int:
        if N not in self.seeds:
            raise InvalidInputError(f"no seed count planned for N = {N}")
        return int(self.seeds[N])


def plan_seeds(
    Ns, *, ratio: float, z: float = 3.0, minimum: int = 500, block: int = 250, maximum: int | None = None
) -> dict:
    """Seeds per N: ``S(N) = z^2 ratio N`` (ratio = (spread coefficient / deviation coefficient)^2),
    rounded up to whole blocks, at least ``minimum`` (and at most ``maximum``).

    >>> plan_seeds([100, 1000], ratio=2.0, z=2.0, minimum=100, block=100)
    {100: 800, 1000: 8000}
    """
    out = {}
    for N in Ns:
        s = max(minimum, z * z * ratio * N)
        if maximum is not None:
            s = min(s, maximum)
        out[int(N)] = int(math.ceil(s / block) * block)
    return out


def study_points(config: StudyConfig) -> list:
    """Sweep points (one block of seeds each) for :func:`k2_exact_block`: smallest N first, and within
    one N block after block across all (K, eta) -- an interrupted study has complete small-N data and
    equal seed counts for every model at the largest N it reached."""
    points = []
    for N in sorted(config.Ns):
        total = config.seeds_for(N)
        for b, start in enumerate(range(0, total, config.block)):
            for K in config.Ks:
                for eta in config.etas:
                    points.append(
                        {
                            "K": int(K),
                            "eta": float(eta),
                            "N": int(N),
                            "seeds": int(min(config.block, total - start)),
                            "seed": int(config.seed0 + b),
                            "alphas": [float(a) for a in config.alphas],
                            "n_test": int(config.n_test_per_N * N if K >= 3 else 1),
                        }
                    )
    return points


# ----------------------------------------------------------------------------------------------------
# K = 2: test error and loss from (D, Delta) exactly


def _k2_loss_rule():
    x, w = np.polynomial.legendre.leggauss(16)
    edges = np.linspace(0.0, 9.0, 10)
    a, b = edges[:-1, None], edges[1:, None]
    u = (0.5 * (b - a) * x + 0.5 * (a + b)).ravel()
    wu = (0.5 * (b - a) * w).ravel() * 2.0 * np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)  # |u| density
    h, wh = np.polynomial.hermite_e.hermegauss(40)
    return u, wu, h, wh / math.sqrt(2 * math.pi)


def k2_error_and_loss(D, Delta):
    """Exact eps_g and loss of K = 2 students with order parameters (D, Delta) (arrays, vectorised).

    >>> from asymptotics.numeric.closure import closure_moments
    >>> e, l = k2_error_and_loss(np.array([1.0]), np.array([0.5]))
    >>> m = closure_moments(2, 1.0, 0.5)
    >>> bool(abs(e[0] - m.eps_g) < 1e-14 and abs(l[0] - m.loss) < 1e-12)
    True
    """
    D = np.asarray(D, dtype=float)
    Delta = np.asarray(Delta, dtype=float)
    eps = np.arccos(np.clip(D / np.sqrt(np.maximum(D * D + Delta, 1e-300)), -1.0, 1.0)) / math.pi
    u, wu, h, wh = _k2_loss_rule()
    m = D[..., None, None] * u[:, None] + np.sqrt(np.maximum(Delta, 0.0))[..., None, None] * h[None, :]
    loss = np.einsum("...ij,i,j->...", np.logaddexp(0.0, -math.sqrt(2.0) * m), wu, wh)
    return eps, loss


def k2_exact_block(K: int, eta: float, N: int, seeds: int, seed: int, alphas, n_test: int = 1) -> dict:
    """:func:`asymptotics.sweep.tasks.sgd_block` with eps_g and L of K = 2 runs evaluated exactly."""
    from asymptotics.dynamics.sgd import simulate_sgd

    run = simulate_sgd(K, eta, N=N, seeds=seeds, seed=seed, alphas=alphas, n_test=n_test, workers=0)
    per = dict(run.per_seed)
    if K == 2:
        per["eps_g"], per["loss"] = k2_error_and_loss(per["D"], per["Delta"])
    out = {"alpha": run.alpha.tolist(), "seeds": int(seeds)}
    for name in OBSERVABLES:
        mean = per[name].mean(axis=0)
        out[name] = mean.tolist()
        out[f"{name}_m2"] = ((per[name] - mean) ** 2).sum(axis=0).tolist()
    return out


# ----------------------------------------------------------------------------------------------------
# running and analysing


def pooled_from_cache(config: StudyConfig, cache, *, equal_seeds: bool = True) -> dict:
    """Pool whatever blocks of the study are already in ``cache`` (an interrupted or partial run)."""
    from asymptotics.sweep.cache import ResultCache, cache_key
    from asymptotics.sweep.tasks import combine_blocks

    cache = cache if isinstance(cache, ResultCache) else ResultCache(cache)
    groups: dict = {}
    for p in study_points(config):
        entry = cache.get(cache_key(STUDY_FUNCTION, p))
        if entry is not None:
            groups.setdefault((p["K"], p["eta"], p["N"]), []).append(entry["result"])
    if equal_seeds:  # the same number of blocks for every model at each N
        for N in config.Ns:
            keys = [k for k in groups if k[2] == N]
            if keys:
                n = min(len(groups[k]) for k in keys)
                for k in keys:
                    groups[k] = groups[k][:n]
    return {key: combine_blocks(blocks) for key, blocks in groups.items()}


STUDY_FUNCTION = "asymptotics.analysis.finite_size:k2_exact_block"


def run_study(
    config: StudyConfig, *, cache=None, client=None, scheduler=None, workers=None, progress: bool = False
) -> dict:
    """Run the sweep of the study and return :func:`analyse` of its pooled results."""
    from asymptotics.sweep.runner import run_sweep
    from asymptotics.sweep.tasks import combine_blocks

    points = study_points(config)
    res = run_sweep(
        STUDY_FUNCTION,
        points,
        cache=cache,
        client=client,
        scheduler=scheduler,
        workers=workers,
        progress=progress,
    )
    if res.failed:
        first = next(r for r in res.records if r["status"] == "failed")
        raise RuntimeError(f"{res.failed} study points failed; first: {first['params']}: {first['error']}")
    groups: dict = {}
    for rec in res.records:
        p = rec["params"]
        groups.setdefault((p["K"], p["eta"], p["N"]), []).append(rec["result"])
    pooled = {key: combine_blocks(blocks) for key, blocks in groups.items()}
    out = analyse(pooled, config)
    out["sweep"] = {
        "points": res.points,
        "cached": res.cached,
        "computed": res.computed,
        "elapsed_seconds": res.elapsed,
        "cpu_seconds_of_points": sum(r["wall_time"] for r in res.records if not r["cached"]),
    }
    return out


def fit_power(N, dev, se):
    """Weighted least-squares fit ``dev = c N^-p`` (Gauss-Newton on the deviations themselves, errors
    ``se``); returns dict(p, p_err, c, c_err, chi2_dof).

    Parametrised as ``C (N/N0)^-p`` with ``N0`` the geometric mean of N (C and p nearly uncorrelated);
    the covariance is scaled by ``chi2/dof`` when that exceeds 1.  Needs at least 3 sizes and a
    deviation of one sign overall (``C != 0``); else NaN with a note.

    >>> N = np.array([100.0, 200.0, 400.0, 800.0])
    >>> f = fit_power(N, 3.0 / N, 0.01 * 3.0 / N)
    >>> round(f["p"], 10), round(f["c"], 8)
    (1.0, 3.0)
    """
    N, dev, se = (np.asarray(v, dtype=float) for v in (N, dev, se))
    nan = {"p": math.nan, "p_err": math.nan, "c": math.nan, "c_err": math.nan, "chi2_dof": math.nan}
    if len(N) < 3 or np.any(se <= 0):
        return {**nan, "note": "fewer than 3 sizes or a zero standard error: no power law fitted"}
    N0 = float(np.exp(np.mean(np.log(N))))
    x = np.log(N / N0)
    w = 1.0 / se**2
    # start: the log-space fit of the points of the majority sign, else p = 1
    C, p = float(np.sum(w * dev * np.exp(-x)) / np.sum(w * np.exp(-2 * x))), 1.0
    for _ in range(100):
        model = C * np.exp(-p * x)
        Jm = np.column_stack([np.exp(-p * x), -x * model])
        A = Jm.T @ (Jm * w[:, None])
        try:
            step = np.linalg.solve(A, Jm.T @ (w * (dev - model)))
        except np.linalg.LinAlgError:
            return {**nan, "note": "singular fit"}
        step[1] = float(np.clip(step[1], -0.5, 0.5))
        C, p = C + step[0], p + step[1]
        if abs(step[1]) < 1e-13 and abs(step[0]) <= 1e-13 * abs(C):
            break
    if C == 0 or not np.isfinite(p):
        return {**nan, "note": "no power law fitted"}
    model = C * np.exp(-p * x)
    Jm = np.column_stack([np.exp(-p * x), -x * model])
    cov = np.linalg.inv(Jm.T @ (Jm * w[:, None]))
    chi2 = float(np.sum(w * (dev - model) ** 2))
    dof = len(N) - 2
    cov = cov * (max(1.0, chi2 / dof) if dof > 0 else 1.0)
    c = C * N0**p
    # c = C N0^p: d c = N0^p dC + c ln(N0) dp
    gc = np.array([N0**p, c * math.log(N0)])
    return {
        "p": float(p),
        "p_err": float(math.sqrt(cov[1, 1])),
        "c": float(c),
        "c_err": float(math.sqrt(gc @ cov @ gc)),
        "chi2_dof": chi2 / dof if dof > 0 else math.nan,
    }


def secant_exponents(N, dev, se) -> list:
    """Local exponents ``-ln(dev_2/dev_1)/ln(N_2/N_1)`` between successive sizes, with propagated errors.

    >>> secant_exponents([100, 200], [0.02, 0.01], [0.0, 0.0])[0]["p"]
    1.0
    """
    out = []
    for i in range(len(N) - 1):
        a, b = dev[i], dev[i + 1]
        row = {"N_lo": int(N[i]), "N_hi": int(N[i + 1])}
        if a * b <= 0:
            row.update(p=math.nan, p_err=math.nan)
        else:
            L = math.log(N[i + 1] / N[i])
            row.update(p=-math.log(b / a) / L, p_err=math.sqrt((se[i] / a) ** 2 + (se[i + 1] / b) ** 2) / L)
        out.append(row)
    return out


def _closure_curves(Ks, etas, alphas):
    from asymptotics.dynamics.flow import integrate_closure

    return {(K, eta): integrate_closure(K, eta, list(alphas), rtol=1e-11) for K in Ks for eta in etas}


def _theory_k2(etas, alphas):
    from asymptotics.analysis.finite_size_k2 import k2_finite_size

    return {eta: k2_finite_size(eta, list(alphas)) for eta in etas}


def analyse(pooled: dict, config: StudyConfig, *, theory: bool = True) -> dict:
    """Deviations, fits, coefficients and spreads from pooled results ``{(K, eta, N): combine_blocks}``."""
    closure = _closure_curves(config.Ks, config.etas, config.alphas)
    k2 = _theory_k2(config.etas, config.alphas) if (theory and 2 in config.Ks) else {}
    out = {
        "config": {k: v for k, v in asdict(config).items() if k != "seeds"},
        "seeds_planned": {str(N): config.seeds_for(N) for N in config.Ns if N in config.seeds},
        "models": [],
    }
    for K in config.Ks:
        for eta in config.etas:
            Ns = np.array(sorted(N for (k, e, N) in pooled if k == K and e == eta), dtype=float)
            if Ns.size == 0:
                continue
            model = {
                "K": int(K),
                "eta": float(eta),
                "N": Ns.astype(int).tolist(),
                "seeds": [int(pooled[(K, eta, int(N))]["seeds"]) for N in Ns],
                "observables": {},
            }
            curve = closure[(K, eta)]
            for name in OBSERVABLES:
                rows = []
                for j, alpha in enumerate(config.alphas):
                    mean = np.array([pooled[(K, eta, int(N))][name][j] for N in Ns])
                    se = np.array([pooled[(K, eta, int(N))][f"{name}_se"][j] for N in Ns])
                    sd = np.array([pooled[(K, eta, int(N))][f"{name}_sd"][j] for N in Ns])
                    ref = float(getattr(curve, name)[j])
                    dev = mean - ref
                    w = 1.0 / (se * Ns) ** 2
                    coeff = float(np.sum(w * dev * Ns) / np.sum(w))
                    coeff_err = float(1.0 / math.sqrt(np.sum(w)))
                    spread_fit = fit_power(Ns, sd, sd / np.sqrt(2.0 * (np.array(model["seeds"]) - 1)))
                    row = {
                        "alpha": float(alpha),
                        "closure": ref,
                        "mean": mean.tolist(),
                        "se": se.tolist(),
                        "deviation": dev.tolist(),
                        "z": (dev / se).tolist(),
                        "N_times_deviation": (dev * Ns).tolist(),
                        "N_times_se": (se * Ns).tolist(),
                        "fit": fit_power(Ns, dev, se),
                        "secant": secant_exponents(Ns, dev, se),
                        "coefficient": coeff,
                        "coefficient_err": coeff_err,
                        "spread": sd.tolist(),
                        "sqrtN_times_spread": (sd * np.sqrt(Ns)).tolist(),
                        "spread_fit": {"exponent": -spread_fit["p"], "exponent_err": spread_fit["p_err"]},
                    }
                    if K == 2 and eta in k2:
                        th = k2[eta]
                        row["theory_coefficient"] = float(th.c1[name][j])
                        row["theory_coefficient_parts"] = {
                            part: float(v[j]) for part, v in th.c1_parts[name].items()
                        }
                        row["theory_sqrtN_spread"] = float(math.sqrt(max(th.var1[name][j], 0.0)))
                    rows.append(row)
                model["observables"][name] = rows
            out["models"].append(model)
    return out


def headline(results: dict, *, alpha: float | None = None) -> list:
    """One row per (K, eta, observable) at one recorded ``alpha`` fixed in advance (default: the last
    one; choosing, after the fact, the alpha with the largest deviation would bias the exponent low and
    the coefficient high): the fitted exponent, the coefficient, the derived one (K = 2), the z-score
    at the largest N and the spread exponent.  Also the exponent pooled over the recorded alphas
    (inverse-variance mean of the per-alpha fits; the recorded alphas share their runs, so its error is
    a lower bound).

    >>> headline({"models": []})
    []
    """
    rows = []
    for model in results["models"]:
        for name, per_alpha in model["observables"].items():
            alphas = [r["alpha"] for r in per_alpha]
            best = per_alpha[-1 if alpha is None else alphas.index(alpha)]
            fits = [
                r["fit"]
                for r in per_alpha
                if r["fit"]["p_err"] is not None and np.isfinite(r["fit"]["p_err"]) and r["fit"]["p_err"] > 0
            ]
            w = np.array([1.0 / f["p_err"] ** 2 for f in fits])
            pooled = (
                (
                    float(np.sum(w * np.array([f["p"] for f in fits])) / np.sum(w)),
                    float(1 / math.sqrt(np.sum(w))),
                )
                if fits
                else (math.nan, math.nan)
            )
            row = {
                "K": model["K"],
                "eta": model["eta"],
                "observable": name,
                "alpha": best["alpha"],
                "N_max": model["N"][-1],
                "seeds_at_N_max": model["seeds"][-1],
                "z_at_N_max": best["z"][-1],
                "exponent": best["fit"]["p"],
                "exponent_err": best["fit"]["p_err"],
                "exponent_pooled_over_alpha": pooled[0],
                "exponent_pooled_err": pooled[1],
                "coefficient": best["coefficient"],
                "coefficient_err": best["coefficient_err"],
                "spread_exponent": best["spread_fit"]["exponent"],
                "spread_exponent_err": best["spread_fit"]["exponent_err"],
            }
            if "theory_coefficient" in best:
                row["theory_coefficient"] = best["theory_coefficient"]
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------------
# figure


def plot_finite_size(results: dict, path, *, alpha=None):
    """Three panels: ``|deviation|`` vs N at one alpha (with a 1/N guide), N x deviation vs alpha at the
    largest N (points) and for K = 2 the derived coefficient (lines), and sqrt(N) x spread vs N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = results["models"]
    alphas = [r["alpha"] for r in models[0]["observables"]["D"]]
    j = alphas.index(alpha) if alpha is not None else len(alphas) - 1
    fig, axes = plt.subplots(len(OBSERVABLES), 3, figsize=(13, 3.0 * len(OBSERVABLES)), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = {"D": "D", "Delta": r"$\Delta$", "eps_g": r"$\varepsilon_g$", "loss": "L"}
    for i, name in enumerate(OBSERVABLES):
        ax_n, ax_a, ax_s = axes[i]
        for c, model in enumerate(models):
            col = colors[c % len(colors)]
            tag = f"K={model['K']}, η={model['eta']:g}"
            N = np.array(model["N"], dtype=float)
            row = model["observables"][name][j]
            dev, se = np.array(row["deviation"]), np.array(row["se"])
            ax_n.errorbar(N, np.abs(dev), yerr=se, fmt="o-", color=col, ms=4, capsize=2, label=tag)
            rows = model["observables"][name]
            a = np.array([r["alpha"] for r in rows])
            shift = 1.0 + 0.04 * (c - (len(models) - 1) / 2)  # side by side, not on top
            ax_a.errorbar(
                a * shift,
                [r["coefficient"] for r in rows],
                yerr=[r["coefficient_err"] for r in rows],
                fmt="o",
                color=col,
                ms=4,
                capsize=2,
                label=tag,
            )
            if "theory_coefficient" in rows[0]:
                ax_a.plot(a, [r["theory_coefficient"] for r in rows], "-", color=col, lw=1)
            ax_s.plot(N, row["sqrtN_times_spread"], "o-", color=col, ms=4, label=tag)
            if "theory_sqrtN_spread" in row:
                ax_s.axhline(row["theory_sqrtN_spread"], color=col, lw=0.8, ls="--")
        N_all = np.array(models[0]["N"], dtype=float)
        ref = np.nanmax([abs(m["observables"][name][j]["coefficient"]) for m in models])
        ax_n.plot(N_all, ref / N_all, "k--", lw=0.8, label="∝ 1/N")
        ax_n.set(
            xscale="log",
            yscale="log",
            xlabel="N",
            ylabel=f"|E[{labels[name]}] − closure|",
            title=f"{labels[name]}: mean deviation at α = {alphas[j]:g}",
        )
        ax_a.axhline(0.0, color="0.6", lw=0.5)
        ax_a.set(
            xscale="log",
            xlabel="α",
            ylabel="N × deviation",
            title="coefficient of 1/N (points: measured; lines: derived, K = 2)",
        )
        ax_a.set_xticks(alphas)
        ax_a.set_xticklabels([f"{x:g}" for x in alphas])
        ax_a.minorticks_off()
        ax_s.set(xscale="log", xlabel="N", ylabel="√N × seed spread", title="spread ∝ N^-1/2")
        if i == 0:
            ax_n.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
