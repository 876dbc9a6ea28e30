"""``reproduce``: run every derivation and check of the toolkit and write all artefacts into one folder.

Steps (each a small function ``step_<name>(ctx) -> dict``, run in this order):

1. ``closure``      symbolic derivation of the centered closure (LaTeX of each step), general K, K = 2, 3;
2. ``integration``  exact closure, K = 2 and 3, eta = 1, from W(0) = 0 to ``alpha_max``;
3. ``sgd``          finite-N online SGD (K = 3) against the closure, with standard errors;
4. ``constants``    rho_K(0), Delta*, C_D, C_eps, C_L to ``digits`` digits and the late-time series;
5. ``check``        the late-time series against the integrated closure at the largest alpha;
6. ``exponents``    effective-exponent tables and extrapolated exponents of eps_g and L;
7. ``schedules``    exponents under eta ~ alpha^(-beta) (reduced flow), beta = 0.25, 0.5, 0.75;
8. ``k_dependence`` leading prefactors for K = 2..10;
9. ``bayes``        Bayes-optimal and optimal-online references (K = 2) next to the closure;
10. ``peaked``      peaked-distribution mechanism, n = 128: c0, c2, L(tau) and its local slope;
11. ``sparse``      sparse-feature mechanism (stand-in model): peak, exponents, frontier, GD instability, ReLU;
12. ``losses``      losses as data: atlas rows (derived late-time laws of several losses, K, schedules),
                    the derived flows of two losses, the label-smoothing plateau against the closure;
13. ``figures``     :mod:`asymptotics.report.figures` (PNG and PDF);
14. ``report``      :mod:`asymptotics.report.document` -> report.tex, compiled to report.pdf.

A step that fails (a module missing or broken) is recorded as ``"unavailable: <reason>"`` in
``results["steps"]`` and in the report; the others still run.  Every number lands in ``results.json``
as ``{"value", "error", "method"}`` (decimal strings where the precision exceeds float64).

Modes (``MODES``): ``quick`` (alpha to 1e5, 20 digits, N = 500 x 4 seeds: ~1-2 minutes on 2 cores),
``default`` (alpha to 1e6, 30 digits, N = 1000 x 8 seeds), ``full`` (alpha to 1e8, 50 digits,
N = 2000 x 16 seeds, alpha to 20 for SGD).

>>> sorted(MODES)
['default', 'full', 'quick']
>>> quantity(0.1234567891, 1e-9, "demo")
{'value': 0.12345679, 'error': 1e-09, 'method': 'demo'}
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from asymptotics.validation import InvalidInputError

__all__ = ["MODES", "STEPS", "reproduce", "quantity", "rounded"]

#: settings of each mode
MODES = {
    "quick": {
        "alpha_max": 1e5,
        "digits": 20,
        "series_digits": {2: 15, 3: 15},
        "series_order": 3,
        "sgd": {"N": 500, "seeds": 4, "alphas": [0.25, 0.5, 1, 2, 3, 5, 7, 10], "n_test": 4000},
        "schedule_alpha_max": 1e10,
        "kdep_digits": 15,
        "kdep_K": list(range(2, 11)),
        "bayes_alpha_max": 1e5,
        "peaked": {"n": 128, "beta_star": 1e4, "tau_max": 1e16},
        "sparse": {
            "D": [300, 1000],
            "seeds": 16,
            "C": [1e4, 1e6, 1e8],
            "draws": 500,
            "relu_D": [60, 200, 600],
            "relu_seeds": 2,
        },
        "losses": {
            "losses": ["cross_entropy", "margin:m=1", "label_smoothing:eps=0.1"],
            "K": [2, 3],
            "schedules": "constant,power:beta=0.5",
            "check": False,
            "plateau": {"K": [2], "eta": [1.0], "alpha": 1e4},
        },
        "rtol": 1e-10,
    },
    "default": {
        "alpha_max": 1e6,
        "digits": 30,
        "series_digits": {2: 30, 3: 20},
        "series_order": 3,
        "sgd": {"N": 1000, "seeds": 8, "alphas": [0.25, 0.5, 1, 2, 3, 5, 7, 10, 15, 20], "n_test": 8000},
        "schedule_alpha_max": 1e12,
        "kdep_digits": 20,
        "kdep_K": list(range(2, 11)),
        "bayes_alpha_max": 1e6,
        "peaked": {"n": 128, "beta_star": 1e4, "tau_max": 1e16},
        "sparse": {
            "D": [300, 1000, 3000],
            "seeds": 64,
            "C": [1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10],
            "draws": 2000,
            "relu_D": [100, 316, 1000],
            "relu_seeds": 6,
        },
        "losses": {
            "losses": [
                "cross_entropy",
                "cross_entropy:T=2",
                "label_smoothing:eps=0.1",
                "focal:gamma=2",
                "brier",
                "margin:m=1",
            ],
            "K": [2, 3, 5],
            "schedules": "constant,power:beta=0.25,power:beta=0.5,power:beta=0.75",
            "check": False,
            "plateau": {"K": [2, 3], "eta": [0.25, 1.0], "alpha": 1e4},
        },
        "rtol": 1e-10,
    },
    "full": {
        "alpha_max": 1e8,
        "digits": 50,
        "series_digits": {2: 50, 3: 30},
        "series_order": 3,
        "sgd": {"N": 2000, "seeds": 16, "alphas": [0.25, 0.5, 1, 2, 3, 5, 7, 10, 15, 20], "n_test": 16000},
        "schedule_alpha_max": 1e14,
        "kdep_digits": 30,
        "kdep_K": list(range(2, 11)),
        "bayes_alpha_max": 1e8,
        "peaked": {"n": 128, "beta_star": 1e5, "tau_max": 1e19},
        "sparse": {
            "D": [300, 1000, 3000],
            "seeds": 256,
            "C": [1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12],
            "draws": 10000,
            "relu_D": [100, 316, 1000, 3162],
            "relu_seeds": 12,
        },
        "losses": {
            "losses": [
                "cross_entropy",
                "cross_entropy:T=2",
                "label_smoothing:eps=0.1",
                "focal:gamma=2",
                "brier",
                "margin:m=1",
            ],
            "K": [2, 3, 5],
            "schedules": "constant,power:beta=0.25,power:beta=0.5,power:beta=0.75",
            "check": True,
            "plateau": {"K": [2, 3], "eta": [0.25, 0.5, 1.0], "alpha": 1e4},
        },
        "rtol": 1e-11,
    },
}

ETA = 1.0


def rounded(x, sig: int = 10) -> float:
    """``x`` as a float rounded to ``sig`` significant digits (so its decimal form is short and stable).

    >>> rounded(2 / 3, 4)
    0.6667
    """
    x = float(x)
    return float(f"{x:.{sig}g}") if math.isfinite(x) else x


def quantity(value, error, method: str, *, digits: int | None = None) -> dict:
    """One reported number: value (decimal string for mpmath numbers, else a rounded float), error, method.

    ``digits`` sets the number of significant digits of an mpmath value.
    """
    import mpmath

    if isinstance(value, mpmath.mpf):
        value = mpmath.nstr(value, digits or mpmath.mp.dps, min_fixed=-4, max_fixed=6)
    elif isinstance(value, (float, np.floating)):
        value = rounded(value, 8)
    elif isinstance(value, (int, np.integer)):
        value = int(value)
    if isinstance(error, mpmath.mpf):
        error = rounded(error, 2)
    elif isinstance(error, (float, np.floating)):
        error = rounded(error, 2)
    return {"value": value, "error": error, "method": method}


def _grid(lo, hi, per_decade):
    n = max(2, int(round(math.log10(hi / lo) * per_decade)) + 1)
    return np.logspace(math.log10(lo), math.log10(hi), n)


# -------------------------------------------------------------------------------------------------
# steps
# -------------------------------------------------------------------------------------------------


def step_closure(ctx) -> dict:
    """Symbolic derivation of the centered closure: LaTeX of each step (general K) and flows for K = 2, 3."""
    from asymptotics.symbolic.closure import derive_closure, flow_latex, num_classes_symbol

    def as_json(steps):
        return [
            {
                "title": st.title,
                "text": st.text,
                "latex": [ln for ln in st.latex().splitlines() if not ln.startswith("%")],
            }
            for st in steps
        ]

    Ksym = num_classes_symbol()
    cl = derive_closure(Ksym)
    binary = derive_closure(2)
    out = {
        "steps": as_json(cl.steps),
        "flow_latex": {"K": flow_latex(Ksym)},
        "binary_steps": as_json(binary.steps[4:]),
    }
    for K in (2, 3):
        out["flow_latex"][str(K)] = flow_latex(K)
    return out


def _closure_arrays(obs, alphas):
    D, Delta, eps, loss = [], [], [], []
    for a in alphas:
        d, dl = obs.state(a)
        D.append(d)
        Delta.append(dl)
        eps.append(obs.eps_g(a))
        loss.append(obs.loss(a))
    return {
        "alpha": np.asarray(alphas, float),
        "D": np.array(D),
        "Delta": np.array(Delta),
        "eps_g": np.array(eps),
        "loss": np.array(loss),
    }


def step_integration(ctx) -> dict:
    """Exact closure (K = 2, 3; eta = 1) to ``alpha_max``; accuracy from a second run at 100x looser rtol."""
    from asymptotics.analysis.closure_observables import exact_closure_observables

    s = ctx["settings"]
    amax, rtol = s["alpha_max"], s["rtol"]
    out = {}
    ctx["closure"] = {}
    for K in (2, 3):
        t0 = time.time()
        obs = exact_closure_observables(K, ETA, amax, rtol=rtol)
        elapsed = time.time() - t0
        loose = exact_closure_observables(K, ETA, amax, rtol=rtol * 100)
        alphas = _grid(1e-2, amax, 8)
        arr = _closure_arrays(obs, alphas)
        ctx["closure"][K] = {"obs": obs, "arrays": arr}
        method = (
            f"exact centered closure, LSODA in ln(1+alpha), rtol {rtol:g}, moments by "
            f"closure_moments (auto); error = difference to a run at rtol {rtol * 100:g}"
        )
        final = {}
        Dl, Deltal = loose.state(amax)
        ref = {"D": Dl, "Delta": Deltal, "eps_g": loose.eps_g(amax), "loss": loose.loss(amax)}
        for name in ("D", "Delta", "eps_g", "loss"):
            v = float(arr[name][-1])
            final[name] = quantity(v, abs(v - ref[name]), method)
        out[f"K{K}"] = {
            "K": K,
            "eta": ETA,
            "alpha_max": amax,
            "rtol": rtol,
            "rhs_evaluations": obs.rhs_evaluations,
            "seconds": rounded(elapsed, 3),
            "final": final,
        }
    return out


def step_sgd(ctx) -> dict:
    """Finite-N online SGD (K = 3, eta = 1, W(0) = 0) against the exact closure at the same alphas."""
    from asymptotics.dynamics.sgd import simulate_sgd

    cfg = ctx["settings"]["sgd"]
    K = 3
    run = simulate_sgd(
        K, ETA, N=cfg["N"], seeds=cfg["seeds"], seed=1, alphas=cfg["alphas"], n_test=cfg["n_test"]
    )
    obs = ctx.get("closure", {}).get(K, {}).get("obs")
    if obs is None:
        from asymptotics.analysis.closure_observables import exact_closure_observables

        obs = exact_closure_observables(K, ETA, max(cfg["alphas"]) * 1.01)
    theory = _closure_arrays(obs, run.alpha)
    rows = []
    worst_z, worst_rel = 0.0, 0.0
    for j, a in enumerate(run.alpha):
        row = {"alpha": rounded(a, 6)}
        for name in ("D", "Delta", "eps_g", "loss"):
            m, se, th = float(run.mean[name][j]), float(run.se[name][j]), float(theory[name][j])
            row[name] = {"sgd": rounded(m, 6), "se": rounded(se, 2), "closure": rounded(th, 6)}
            rel = abs(m - th) / abs(th)
            worst_rel = max(worst_rel, rel)
            if se > 0:
                worst_z = max(worst_z, abs(m - th) / se)
        rows.append(row)
    ctx["sgd"] = {"run": run, "theory": theory}
    return {
        "K": K,
        "eta": ETA,
        "N": cfg["N"],
        "seeds": cfg["seeds"],
        "n_test": cfg["n_test"],
        "rows": rows,
        "max_relative_deviation": rounded(worst_rel, 3),
        "max_deviation_in_se": rounded(worst_z, 3),
        "method": "simulate_sgd (float64, BLAS blocks), mean +- standard error over seeds; "
        "closure from the exact integration",
    }


def step_constants(ctx) -> dict:
    """Leading constants to ``digits`` digits and the late-time series (corrections in alpha^(-1/3))."""
    import mpmath

    from asymptotics.asymptotic.gap_density import top_gap_density_closed_form
    from asymptotics.asymptotic.late_time import late_time_series
    from asymptotics.asymptotic.reduced_flow import leading_prefactors

    s = ctx["settings"]
    digits = s["digits"]
    out = {"digits": digits}
    ctx["series"] = {}
    for K in (2, 3):
        lead = leading_prefactors(K, ETA, digits)
        with mpmath.workdps(digits + 10):
            closed = top_gap_density_closed_form(K).evalf(digits + 10)
            rho_err = abs(lead["rho0"] - mpmath.mpf(str(closed)))
        tol = mpmath.mpf(10) ** (-digits)
        methods = {
            "rho0": "top_gap_density_at_zero (tanh-sinh quadrature); error = |value - SymPy closed form|",
            "Delta_star": "fixed_point_Delta: root of Delta = eta B(Delta), B by Gaussian quadrature",
            "A_star": "pi^2/12 + Delta*/2 (closed-form layer integral)",
            "C_D": "(3 eta rho0 A*/(K-1))^(1/3)",
            "C_eps": "rho0 sqrt(Delta*/pi)/C_D",
            "C_L": "rho0 A*/C_D",
        }
        consts = {}
        for name, method in methods.items():
            err = max(rho_err, tol * abs(lead[name])) if name == "rho0" else tol * abs(lead[name])
            consts[name] = quantity(lead[name], err, method + f" ({digits} digits)", digits=digits)
        entry = {"leading": consts}
        sd = s["series_digits"][K]
        lt = late_time_series(K, ETA, order=s["series_order"], digits=sd)
        ctx["series"][K] = lt
        acc = 10.0 ** (-sd) if sd > 15 else 1e-13
        how = (
            "late_time_series: 1/D expansion of the closure, slaving, quadrature, inversion; "
            + ("binary layer moments" if K == 2 else "binary layers + junction moments")
            + f" ({sd} digits, exact Delta-derivatives)"
        )
        corr = {}
        for obs_name, coeffs in lt.coefficients.items():
            for i, c in enumerate(coeffs[1:], start=1):
                if isinstance(c, tuple):
                    corr[f"{obs_name}_a{i}"] = quantity(c[0], acc, how, digits=min(sd, 15))
                    corr[f"{obs_name}_a{i}_log"] = quantity(c[1], acc, how, digits=min(sd, 15))
                    corr[f"{obs_name}_a{i}_C"] = quantity(c[2], acc, how, digits=min(sd, 15))
                else:
                    corr[f"{obs_name}_a{i}"] = quantity(c, acc, how, digits=min(sd, 15))
        for i, e in enumerate(lt.e[1:], start=1):
            corr[f"e{i}"] = quantity(e, acc, how, digits=min(sd, 15))
        entry["corrections"] = corr
        entry["series_digits"] = sd
        entry["series_order"] = lt.order
        out[f"K{K}"] = entry
    return out


def step_check(ctx) -> dict:
    """Prefactor ratios and the late-time series with its fitted constant C at the largest alpha."""
    out = {}
    for K in (2, 3):
        obs = ctx["closure"][K]["obs"]
        lt = ctx["series"][K]
        amax = obs.alpha_max
        D, _ = obs.state(amax)
        exact = {"D": D, "eps_g": obs.eps_g(amax), "loss": obs.loss(amax)}
        lead = lt.leading
        third = amax ** (1 / 3)
        ratios = {
            "D": exact["D"] / (float(lead["C_D"]) * third),
            "eps_g": exact["eps_g"] * third / float(lead["C_eps"]),
            "loss": exact["loss"] * third / float(lead["C_L"]),
        }
        C = lt.fit_initial_constant(amax, D)
        # the constant C is fitted on D at amax; eps_g and L are then predictions.  The series is also
        # compared one decade earlier, where the fitted C is reused.
        entry = {"alpha": amax, "C": quantity(float(C), None, "fit_initial_constant on D(alpha_max)")}
        entry["prefactor_ratio"] = {
            k: quantity(v, None, "exact closure x alpha^(1/3) / leading prefactor") for k, v in ratios.items()
        }
        series_err = {}
        for a in (amax / 10, amax):
            Da, _ = obs.state(a)
            ex = {"eps_g": obs.eps_g(a), "loss": obs.loss(a)}
            for name in ("eps_g", "loss"):
                for terms in range(1, lt.order + 2):
                    f = getattr(lt, name)
                    v = float(f(a, C, terms))
                    series_err[f"{name}_terms{terms}_alpha{a:.0e}"] = rounded(abs(v / ex[name] - 1), 3)
        entry["series_relative_error"] = series_err
        entry["method"] = (
            "relative error |series/exact - 1| of the late-time series truncated after "
            "`terms` terms, C fitted on D at the largest alpha"
        )
        out[f"K{K}"] = entry
    return out


def step_exponents(ctx) -> dict:
    """Effective exponents per decade and extrapolated exponents (known correction powers k/3)."""
    from asymptotics.analysis.exponent_report import model_correction_powers
    from asymptotics.analysis.extrapolation import extrapolate_exponent
    from asymptotics.analysis.slopes import effective_exponents, local_slope

    out = {}
    for K in (2, 3):
        obs = ctx["closure"][K]["obs"]
        amax = obs.alpha_max
        fit_from = min(1e3, amax / 100)
        grid = _grid(fit_from, amax / 1.2, 4)
        powers = model_correction_powers(K, ETA)
        entry = {
            "fit_range": [rounded(grid[0], 6), rounded(grid[-1], 6)],
            "correction_powers": [rounded(p, 6) for p in powers],
        }
        for name, f in (("eps_g", obs.eps_g), ("loss", obs.loss)):
            table = effective_exponents(f, 1.0, amax, per="decade", label=name)
            s, e = local_slope(f, grid, alpha_range=(0.5, amax))
            ex = extrapolate_exponent(grid, s, e, powers=powers, tol=1e-4)
            entry[name] = {
                "exponent": quantity(
                    ex.value,
                    ex.error,
                    "extrapolate_exponent of local slopes on "
                    f"[{grid[0]:.3g}, {grid[-1]:.3g}]"
                    f" with {ex.n_terms} correction powers",
                ),
                "asymptotic": ex.asymptotic,
                "last_local_slope": rounded(s[-1], 8),
                "table": [{k: rounded(v, 6) for k, v in r.items()} for r in table.rows()],
            }
        inner = _grid(0.05, amax / 1.5, 6)
        ctx["closure"][K]["slopes"] = {
            n: local_slope(f, inner, alpha_range=(0.02, amax))[0]
            for n, f in (("eps_g", obs.eps_g), ("loss", obs.loss))
        }
        ctx["closure"][K]["slope_alpha"] = inner
        out[f"K{K}"] = entry
    return out


def step_schedules(ctx) -> dict:
    """Exponents of eps_g and L under eta = (1 + alpha)^(-beta) from the reduced flow (K = 3)."""
    from asymptotics.asymptotic.schedule_exponents import measure_schedule_exponents, schedule_reduced_flow
    from asymptotics.dynamics.schedules import PowerLaw

    amax = ctx["settings"]["schedule_alpha_max"]
    K = 3
    out = {"K": K, "alpha_max": amax, "betas": {}}
    flows = {}
    for beta in (0.0, 0.25, 0.5, 0.75):
        r = measure_schedule_exponents(K, beta, alpha_max=amax)
        flows[beta] = schedule_reduced_flow(K, PowerLaw(1.0, beta, 1.0), amax, points_per_decade=8)
        method = (
            f"reduced flow (LSODA), exact local slopes on [{r['alpha_range'][0]:.3g}, "
            f"{r['alpha_range'][1]:.3g}] extrapolated with correction powers "
            + ", ".join(f"{p:.3g}" for p in r["correction_powers"])
        )
        out["betas"][str(beta)] = {
            "beta": beta,
            "eps_g_exponent": quantity(r["eps_g_exponent"], r["eps_g_exponent_error"], method),
            "loss_exponent": quantity(r["loss_exponent"], r["loss_exponent_error"], method),
            "eps_g_predicted": rounded(r["eps_g_predicted"], 10),
            "loss_predicted": rounded(r["loss_predicted"], 10),
            "eps_g_last_local_slope": rounded(r["eps_g_last_local_slope"], 8),
            "loss_last_local_slope": rounded(r["loss_last_local_slope"], 8),
        }
    ctx["schedule_flows"] = flows
    return out


def step_k_dependence(ctx) -> dict:
    """Leading prefactors C_D, C_eps, C_L for K = 2..10 (eta = 1) and their [rho^2 (K-1)]^(1/3) scaling."""
    from asymptotics.asymptotic.reduced_flow import leading_prefactors

    s = ctx["settings"]
    digits = s["kdep_digits"]
    rows = []
    for K in s["kdep_K"]:
        c = leading_prefactors(K, ETA, digits)
        scale = (float(c["rho0"]) ** 2 * (K - 1)) ** (1 / 3)
        rows.append(
            {
                "K": K,
                "rho0": rounded(c["rho0"], 10),
                "C_D": rounded(c["C_D"], 10),
                "C_eps": rounded(c["C_eps"], 10),
                "C_L": rounded(c["C_L"], 10),
                "C_eps_over_scale": rounded(float(c["C_eps"]) / scale, 10),
                "C_L_over_scale": rounded(float(c["C_L"]) / scale, 10),
            }
        )
    return {
        "eta": ETA,
        "digits": digits,
        "rows": rows,
        "method": f"leading_prefactors at {digits} digits, shown rounded to 10 significant digits",
    }


def step_bayes(ctx) -> dict:
    """Bayes-optimal and optimal-online eps_g (K = 2) versus the closure's eps_g."""
    from asymptotics.dynamics.bayes_optimal import bayes_reference_curve, large_alpha_constants

    amax = min(ctx["settings"]["bayes_alpha_max"], ctx["settings"]["alpha_max"])
    alphas = _grid(1.0, amax, 4)
    ref = bayes_reference_curve(list(alphas))
    obs = ctx["closure"][2]["obs"]
    closure = np.array([obs.eps_g(a) for a in alphas])
    const = large_alpha_constants(15)
    ctx["bayes"] = {
        "alpha": alphas,
        "bayes": np.asarray(ref["eps_bayes"], float),
        "online": np.asarray(ref["eps_online"], float),
        "closure": closure,
    }
    return {
        "K": 2,
        "alpha": [rounded(a, 6) for a in alphas],
        "kappa_bayes": quantity(const["kappa_bayes"], 1e-15, "1/(sqrt(2 pi) I), I by quadrature", digits=15),
        "kappa_online": quantity(const["kappa_online"], 1e-15, "sqrt(2/pi)/I", digits=15),
        "eps_bayes_at_max": quantity(float(ref["eps_bayes"][-1]), None, "bayes_error (state evolution)"),
        "eps_online_at_max": quantity(float(ref["eps_online"][-1]), None, "online_optimal_error (ODE)"),
        "eps_closure_at_max": quantity(float(closure[-1]), None, "exact closure, online SGD eta = 1"),
        "ratio_closure_to_bayes_at_max": rounded(closure[-1] / ref["eps_bayes"][-1], 6),
    }


def step_finite_size(ctx) -> dict:
    """Finite-size study of online SGD (read from ``benchmarks/results/finite_size.json``, the output of
    ``benchmarks/validate_finite_size.py``: 2.1 CPU-hours, too long to rerun here) and its figure."""
    import asymptotics
    from asymptotics.analysis.finite_size import plot_finite_size

    path = Path(asymptotics.__file__).resolve().parents[1] / "benchmarks" / "results" / "finite_size.json"
    if not path.is_file():
        raise FileNotFoundError(
            "benchmarks/results/finite_size.json is not in this installation "
            "(run benchmarks/validate_finite_size.py)"
        )
    study = json.loads(path.read_text())
    plot_finite_size(study, ctx["out_dir"] / "finite_size.pdf")
    model = study["models"][0]
    return {
        "source": "benchmarks/results/finite_size.json",
        "headline": study["headline"],
        "N": model["N"],
        "seeds": model["seeds"],
        "figure": "finite_size.pdf",
    }


def step_peaked(ctx) -> dict:
    """Peaked-distribution mechanism (n = 128): c0, c2, c3, regimes, L(tau) and its plateau slope."""
    from asymptotics.peaked.cli import plateau_slope
    from asymptotics.peaked.dynamics import integrate_aligned_flow
    from asymptotics.peaked.expansion import coefficients, regimes

    cfg = ctx["settings"]["peaked"]
    n, beta_star = cfg["n"], cfg["beta_star"]
    digits = ctx["settings"]["digits"]
    import mpmath

    # coefficients() rounds its results to the caller's working precision: ask at the target precision
    with mpmath.workdps(digits + 10):
        co = coefficients(n, digits)
    reg = regimes(n, beta_star)
    curve = integrate_aligned_flow(n, beta_star, cfg["tau_max"])
    slope, tau_p, beta_p = plateau_slope(curve)
    pref = float(co["prefactor"])
    ctx["peaked"] = {"curve": curve, "regimes": reg, "prefactor": pref, "plateau": (slope, tau_p)}
    how = f"asymptotics.peaked.expansion.coefficients ({digits} digits)"
    return {
        "n": n,
        "beta_star": beta_star,
        "c0": quantity(co["c0"], 10.0**-digits, how + ": E[max h]", digits=digits),
        "c2": quantity(co["c2"], 10.0**-digits, how + ": (pi^2/12) rho_n(0)", digits=digits),
        "c3": quantity(co["c3"], 10.0**-digits, how, digits=digits),
        "prefactor": quantity(
            co["prefactor"], 10.0**-digits, how + ": c2^(2/3) ((n-1)/3)^(1/3)", digits=digits
        ),
        "intermediate_beta_range": [rounded(reg["intermediate"][0], 6), rounded(reg["intermediate"][1], 6)],
        "plateau_slope": quantity(
            slope,
            1e-6,
            "exact local slope of the aligned flow at its plateau (integrate_aligned_flow, rtol 1e-11)",
        ),
        "plateau_tau": rounded(tau_p, 6),
        "plateau_beta": rounded(beta_p, 6),
        "L_tau_third_at_plateau": rounded(float(curve.loss_at(tau_p)[0]) * tau_p ** (1 / 3), 8),
    }


def step_sparse(ctx) -> dict:
    """Sparse-feature mechanism (s = 2, a = 1/2): the peak at the seen count, the two exponents, the
    compute-optimal frontier (ridgeless and optimal ridge), the GD instability law against Monte
    Carlo and the ReLU floor."""
    from asymptotics.sparse import MODEL_NAME
    from asymptotics.sparse.expectations import missing_signal
    from asymptotics.sparse.exponents import exponent_values, infinite_data_fit
    from asymptotics.sparse.frontier import (
        OptimalRidgeSurface,
        RidgelessSurface,
        frontier,
        frontier_exponents,
        scaling_optimum,
    )
    from asymptotics.sparse.instability import InstabilityLaw, instability_lower_bound, sample_lambda_max
    from asymptotics.sparse.learner import LossTheory
    from asymptotics.sparse.model import SparseModel
    from asymptotics.sparse.peak import PeakModel, find_peak
    from asymptotics.sparse.relu import get_prediction, simulate_relu
    from asymptotics.sparse.simulate import simulate, summarize

    cfg = ctx["settings"]["sparse"]
    s, a = 2.0, 0.5
    model = SparseModel(s, a)
    data = {}
    peaks, curves = [], {}
    for D in cfg["D"]:
        th = LossTheory(model, D)
        pk = PeakModel(th)
        peak_N = find_peak(th)["peak_N"]
        grid = np.unique(np.round(np.geomspace(2, 5 * th.threshold, 50)).astype(int))
        sims = sorted({max(2, round(f * th.threshold)) for f in (0.2, 0.6, 1.0, 1.6, 4.0)})
        S = summarize(simulate(model, D, sims, seeds=cfg["seeds"], seed=1))
        curves[D] = {
            "N": grid.tolist(),
            "median": [pk.median(int(n)) for n in grid],
            "threshold": th.threshold,
            "sim_N": sims,
            "sim_median": S["loss"]["median"].tolist(),
        }
        peaks.append(
            {
                "D": D,
                "seen_expected": quantity(float(th.stats.n), 1e-13, "exact harmonic sum"),
                "threshold": quantity(float(th.threshold), None, "E rank (collision model)"),
                "peak_N": int(peak_N),
                "ratio": rounded(peak_N / th.stats.n, 6),
            }
        )
    ev = exponent_values(model)
    Ns = np.logspace(4, 6, 9)
    Ds = np.logspace(6, 8, 9)
    data["exponents_curves"] = {
        "N": Ns.tolist(),
        "fit": [infinite_data_fit(model, n) for n in Ns],
        "D": Ds.tolist(),
        "floor": [float(v) for v in missing_signal(model, [round(d) for d in Ds])],
        "exponent_under": ev["exponent_under"],
        "exponent_over": ev["exponent_over"],
    }
    ex = frontier_exponents(s, a)
    t0 = time.time()
    fr = frontier(RidgelessSurface(model), cfg["C"])
    per_C = (time.time() - t0) / len(cfg["C"])
    frr = frontier(OptimalRidgeSurface(model), [cfg["C"][0], cfg["C"][-1]])
    mN, mD, mL = fr.measured_exponents()
    rN, rD, rL = frr.measured_exponents()
    so = scaling_optimum(model)
    how = f"secant slope of the theory optimum over C = {cfg['C'][0]:g} ... {cfg['C'][-1]:g}"
    data["frontier_curves"] = {
        "C": fr.C.tolist(),
        "N": fr.N.tolist(),
        "D": fr.D.tolist(),
        "loss": fr.loss.tolist(),
        "exponents": [ex["exponent_N"], ex["exponent_D"], ex["exponent_loss"]],
    }
    # instability
    N_i, D_i = 100, 1000
    law = InstabilityLaw(s, N_i, D_i)
    smp = sample_lambda_max(s, N_i, D_i, cfg["draws"], seed=5)
    rows, worst = [], 0.0
    etas = [law.eta_for_probability(q) for q in (0.05, 0.2, 0.4, 0.6, 0.8, 0.95)]
    for eta in etas:
        p_th = law.probability(eta)
        p_mc, se = smp.probability(eta)
        worst = max(worst, abs(p_mc - p_th) / se if se > 0 else 0.0)
        rows.append(
            {
                "eta": rounded(eta, 6),
                "theory": rounded(p_th, 6),
                "simulated": rounded(p_mc, 6),
                "se": rounded(se, 2),
                "bound": rounded(instability_lower_bound(s, N_i, D_i, eta)["bound"], 6),
            }
        )
    eg = np.linspace(min(etas) * 0.95, max(etas) * 1.05, 30)
    data["instability_curves"] = {
        "eta_grid": eg.tolist(),
        "law_grid": [law.probability(e) for e in eg],
        "bound_grid": [instability_lower_bound(s, N_i, D_i, e)["bound"] for e in eg],
        "eta": [r["eta"] for r in rows],
        "simulated": [r["simulated"] for r in rows],
        "se": [r["se"] for r in rows],
    }
    # ReLU floor
    floors = [
        float(
            simulate_relu(model, D, [math.inf], seeds=cfg["relu_seeds"], n_test=1000, seed=3).summary()[
                "mean"
            ][0]
        )
        for D in cfg["relu_D"]
    ]
    geq = [float(get_prediction(model, D, math.inf)["loss"]) for D in cfg["relu_D"]]
    relu_slope = float(np.polyfit(np.log(cfg["relu_D"]), np.log(floors), 1)[0])
    ctx["sparse"] = {"curves": curves, **data}
    return {
        "model": MODEL_NAME,
        "s": s,
        "a": a,
        "peaks": peaks,
        "exponent_under": quantity(ev["exponent_under"], 0.0, "derived (SymPy): -a"),
        "exponent_over": quantity(ev["exponent_over"], 0.0, "derived (SymPy): -a/s"),
        "prefactor_under": quantity(ev["prefactor_under"], 1e-15, "derived (SymPy), D = infinity"),
        "frontier": {
            "C": [rounded(c, 6) for c in fr.C],
            "N_opt": [rounded(v, 8) for v in fr.N],
            "D_opt": [rounded(v, 8) for v in fr.D],
            "loss_opt": [rounded(v, 8) for v in fr.loss],
            "exponent_N": quantity(mN, abs(mN - ex["exponent_N"]), how + "; error = distance to 1/(1+s)"),
            "exponent_D": quantity(mD, abs(mD - ex["exponent_D"]), how + "; error = distance to s/(1+s)"),
            "exponent_loss": quantity(
                mL, abs(mL - ex["exponent_loss"]), how + "; error = distance to -a/(1+s)"
            ),
            "ridge_exponent_N": quantity(rN, abs(rN - ex["exponent_N"]), "optimal ridge; " + how),
            "ridge_exponent_loss": quantity(rL, abs(rL - ex["exponent_loss"]), "optimal ridge; " + how),
            "derived": {k: rounded(v, 10) for k, v in ex.items()},
            "prefactor_N": quantity(so["prefactor_N"], None, "scaling function at D = 1e12: x*^(s/(s+1))"),
            "prefactor_loss": quantity(so["prefactor_loss"], None, "scaling function at D = 1e12"),
            "x_star": quantity(so["x_star"], None, "argmin x^(a/(s+1)) f(x)"),
            "seconds_per_C": rounded(per_C, 3),
        },
        "instability": {
            "N": N_i,
            "D": D_i,
            "draws": cfg["draws"],
            "rows": rows,
            "max_deviation_in_se": rounded(worst, 3),
            "lambda_max_mean": quantity(
                float(smp.lam.mean()),
                float(smp.lam.std() / math.sqrt(smp.lam.size)),
                "Monte Carlo mean +- SE",
            ),
            "lambda_max_mean_law": quantity(law.mean(), None, "law"),
        },
        "relu": {
            "D": cfg["relu_D"],
            "floor": [rounded(v, 6) for v in floors],
            "floor_gaussian_equivalence": [rounded(v, 6) for v in geq],
            "floor_slope": quantity(
                relu_slope,
                abs(relu_slope + a / s),
                "least-squares slope of the simulated infinite-width floor; error = distance to -a/s",
            ),
        },
    }


#: keys of an atlas row kept in results.json (the command-line contract of ``asymptotics atlas`` plus the
#: regime, the limit of the training loss and Delta*)
LOSS_ROW_KEYS = (
    "loss",
    "K",
    "schedule",
    "regime",
    "exponent_eps_g",
    "exponent_loss",
    "prefactor_eps_g",
    "prefactor_loss",
    "plateau_eps_g",
    "limit_loss",
    "Delta_star",
    "method",
    "error",
)


def _dummy_indices(latex: str) -> str:
    """Print SymPy's generated bound indices of inner class sums (``_j``, ``_s0``) as ``j``."""
    import re

    return re.sub(r"(?<![A-Za-z\\])_(?:s\d+|j)(?![A-Za-z0-9])", "j", latex)


def step_losses(ctx) -> dict:
    """Losses as data: derived atlas rows (no closure check in quick/default), the derived flows of a
    boundary-layer loss and of label smoothing, and the label-smoothing plateau (fixed point of the
    closure) against the closure integrated at constant eta."""
    from asymptotics.dynamics.flow import integrate_closure
    from asymptotics.losses.atlas import compute_atlas
    from asymptotics.losses.derivation import loss_flow_latex
    from asymptotics.losses.saturation import plateau

    cfg = ctx["settings"]["losses"]
    t0 = time.time()
    atlas = compute_atlas(cfg["losses"], cfg["K"], cfg["schedules"], eta=ETA, check=cfg["check"])
    seconds = time.time() - t0
    ctx["losses"] = {"atlas": atlas}
    rows = []
    for r in atlas["rows"]:
        row = {}
        for key in LOSS_ROW_KEYS:
            v = r.get(key)
            row[key] = rounded(v, 10) if isinstance(v, float) else v
        rows.append(row)
    flows = {}
    for name in ("focal:gamma=2", "label_smoothing:eps=0.1"):
        flows[name] = _dummy_indices(loss_flow_latex(name)).splitlines()
    ls = "label_smoothing:eps=0.1"
    p_cfg = cfg["plateau"]
    checks = []
    for K in p_cfg["K"]:
        for eta in p_cfg["eta"]:
            fp = plateau(ls, K, eta)
            curve = integrate_closure(K, eta, [p_cfg["alpha"]], loss=ls, rtol=1e-12)
            closure = {
                "D": float(curve.D[-1]),
                "Delta": float(curve.Delta[-1]),
                "eps_g": float(curve.eps_g[-1]),
            }
            diff = max(abs(closure[k] - fp[k]) for k in closure)
            how = (
                "fixed point drift = 0, 2 Delta restoring = eta noise on the exact moments "
                "(saturation.plateau; residual " + f"{fp['residual']:.1e})"
            )
            checks.append(
                {
                    "loss": ls,
                    "K": K,
                    "eta": eta,
                    "alpha": p_cfg["alpha"],
                    "D_star": quantity(fp["D"], 1e-10, how),
                    "Delta_star": quantity(fp["Delta"], 1e-10, how),
                    "eps_g_fixed_point": quantity(fp["eps_g"], 1e-10, how),
                    "eps_g_closure": quantity(
                        closure["eps_g"],
                        None,
                        "exact closure integrated at constant eta to alpha = "
                        f"{p_cfg['alpha']:g} (LSODA, rtol 1e-12)",
                    ),
                    "max_abs_difference": rounded(diff, 3),
                }
            )
    method = (
        "asymptotics.losses.atlas.compute_atlas (derived late-time laws: boundary layers or the "
        "saturated fixed point); error = "
        + (
            "deviation of the exponents measured on the exact closure"
            if cfg["check"]
            else "size of the first neglected correction at alpha_ref"
        )
    )
    return {
        "eta": ETA,
        "losses": list(cfg["losses"]),
        "K": list(cfg["K"]),
        "schedules": cfg["schedules"],
        "check": bool(cfg["check"]),
        "alpha_ref": atlas["alpha_ref"],
        "rows": rows,
        "seconds_atlas": rounded(seconds, 3),
        "flow_latex": flows,
        "plateau": checks,
        "method": method,
    }


def step_figures(ctx) -> dict:
    """All figures (PNG and PDF); a figure whose data is unavailable is skipped and reported."""
    from asymptotics.report import figures

    return figures.make_all(ctx, ctx["out_dir"])


def step_report(ctx) -> dict:
    """report.tex from the results dict; report.pdf with pdflatex when available."""
    from asymptotics.report.document import build_report
    from asymptotics.report.latex import compile_pdf

    out_dir = ctx["out_dir"]
    results = ctx["results"]
    doc = build_report(results)
    tex = doc.write(out_dir / "report.tex")
    info = {"available": shutil.which("pdflatex") is not None, "compiled": False, "message": ""}
    if not info["available"]:
        info["message"] = "pdflatex not found: report.tex written, report.pdf not compiled"
        print(f"reproduce: {info['message']}", file=sys.stderr)
    else:
        try:
            compile_pdf(tex)
            info["compiled"] = True
            info["message"] = "compiled with pdflatex"
        except (RuntimeError, OSError) as exc:
            info["message"] = str(exc).splitlines()[0]
            print(f"reproduce: report.pdf not compiled: {exc}", file=sys.stderr)
    results["pdflatex"] = info
    return {"tex": "report.tex", "pdf": "report.pdf" if info["compiled"] else None}


#: (name, function, what it does), in the order they run
STEPS = (
    ("closure", step_closure, "symbolic derivation of the centered closure"),
    ("integration", step_integration, "exact closure integrations K = 2, 3"),
    ("sgd", step_sgd, "online SGD versus the closure"),
    ("constants", step_constants, "boundary-layer constants and late-time series"),
    ("check", step_check, "late-time series versus the exact closure"),
    ("exponents", step_exponents, "effective and extrapolated exponents"),
    ("schedules", step_schedules, "learning-rate schedule exponents"),
    ("k_dependence", step_k_dependence, "prefactors for K = 2..10"),
    ("bayes", step_bayes, "Bayes-optimal reference K = 2"),
    ("peaked", step_peaked, "peaked-distribution mechanism"),
    ("finite_size", step_finite_size, "finite-size study of SGD (stored results)"),
    ("sparse", step_sparse, "sparse-feature mechanism (stand-in model)"),
    ("losses", step_losses, "losses as data: atlas and label-smoothing plateau"),
    ("figures", step_figures, "figures"),
    ("report", step_report, "LaTeX report"),
)


def _one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0] if text else type(exc).__name__


def reproduce(out_dir, *, mode: str = "quick", progress: bool = True) -> dict:
    """Run every step in ``mode``; write figures, ``results.json`` and ``report.tex``/``.pdf`` to ``out_dir``.

    Returns the results dict (the content of ``results.json``).  Accuracy of every number is stated
    next to it (``error``); the quick mode runs in about 1-2 minutes on 2 cores.

    >>> reproduce("/tmp/x", mode="fast")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: mode must be one of quick, default, full; got 'fast'
    """
    if mode not in MODES:
        raise InvalidInputError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = MODES[mode]
    results = {
        "mode": mode,
        "out_dir": str(out_dir),
        "settings": settings,
        "eta": ETA,
        "steps": {},
        "timings": {},
        "files": [],
        "pdflatex": {
            "available": shutil.which("pdflatex") is not None,
            "compiled": False,
            "message": "report step not run",
        },
    }
    ctx = {"settings": settings, "out_dir": out_dir, "results": results}
    start = time.time()
    for i, (name, func, what) in enumerate(STEPS, start=1):
        if progress:
            print(f"[{i:2d}/{len(STEPS)}] {name:<12} {what} ...", file=sys.stderr, flush=True)
        t0 = time.time()
        try:
            if name == "report":
                _write_results(out_dir, results)
            value = func(ctx)
            results[name] = value
            results["steps"][name] = "ok"
        except Exception as exc:  # a missing or broken module must not stop the other steps
            results[name] = None
            results["steps"][name] = f"unavailable: {_one_line(exc)}"
        dt = time.time() - t0
        results["timings"][name] = rounded(dt, 3)
        if progress:
            status = results["steps"][name]
            print(
                f"         {name:<12} {status} in {dt:.1f} s (total {time.time() - start:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    results["timings"]["total"] = rounded(time.time() - start, 3)
    results["files"] = sorted(
        p.name for p in out_dir.iterdir() if p.is_file() and p.suffix in (".png", ".pdf", ".tex", ".json")
    )
    if "results.json" not in results["files"]:
        results["files"].append("results.json")
    _write_results(out_dir, results)
    return results


def _write_results(out_dir: Path, results: dict) -> Path:
    from asymptotics.tables import to_jsonable

    path = out_dir / "results.json"
    path.write_text(json.dumps(to_jsonable(results), indent=1, sort_keys=False))
    return path
