"""Effective-exponent report of eps_g and L: windowed exponents, local slopes, extrapolation.

The library behind ``asymptotics exponents`` (:mod:`asymptotics.analysis.cli`).

``--model closure`` (default) integrates the exact centered closure; ``--model reduced`` the
boundary-layer reduced flow (:mod:`asymptotics.asymptotic.schedule_exponents`), whose local slopes are
exact functions of the state.  The local slopes of the closure come from its dense output
(:func:`asymptotics.analysis.slopes.local_slope`), the extrapolation from
:func:`asymptotics.analysis.extrapolation.extrapolate_exponent` with the correction powers of the
model (``k/3`` for fixed eta; for ``PowerLaw`` with exponent beta the powers of
:func:`~asymptotics.asymptotic.schedule_exponents.correction_powers` together with ``k(1-beta)/3``,
the 1/D corrections).

Measured (this module's tests): fixed eta = 1, alpha in [1e3, 1e8]: K = 2 and K = 3 exponents of
eps_g and L are -1/3 to better than 1e-4.
"""

from __future__ import annotations

import math

import numpy as np

from asymptotics.analysis.closure_observables import ClosureObservables, exact_closure_observables
from asymptotics.analysis.extrapolation import extrapolate_exponent
from asymptotics.analysis.slopes import effective_exponents, local_slope
from asymptotics.dynamics.schedules import Constant, PowerLaw, as_schedule
from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

#: largest alpha_max per model: the exact closure's D stays inside the validated domain of the
#: moments (D ~ alpha^(1/3)), the reduced flow's state stays representable in float64
ALPHA_MAX = {"closure": 1e12, "reduced": 1e30}

__all__ = [
    "ALPHA_MAX",
    "ClosureObservables",
    "exact_closure_observables",
    "model_correction_powers",
    "exponent_report",
    "format_exponent_report",
    "exponent_figure",
]


# ----------------------------------------------------------------------------------------------
# exponent report
# ----------------------------------------------------------------------------------------------


def model_correction_powers(K: int, schedule, count: int = 4) -> tuple:
    """Correction powers of alpha^(-1) used to extrapolate local slopes (see module docstring).

    >>> [round(p, 4) for p in model_correction_powers(3, 1.0)]
    [0.3333, 0.6667, 1.0, 1.3333]
    >>> [round(p, 4) for p in model_correction_powers(2, PowerLaw(1.0, 0.5, 1.0))]
    [0.3333, 0.5, 0.6667, 0.8333]
    """
    from asymptotics.asymptotic.schedule_exponents import correction_powers

    sched = as_schedule(schedule)
    beta = 0.0 if isinstance(sched, Constant) else getattr(sched, "beta", None)
    if beta is None or beta >= 1:
        return tuple(k / 3 for k in range(1, count + 1))
    # 1/D corrections (K >= 3) or 1/D^2 (K = 2: the top-gap density is even), D ~ alpha^((1-beta)/3)
    g = (1 - beta) / 3 if K >= 3 else 2 * (1 - beta) / 3
    pw = set(round(k * g, 10) for k in range(1, 6))
    pw |= set(round(p, 10) for p in correction_powers(beta, max_count=6))
    return tuple(sorted(p for p in pw if p > 1e-9))[:count]


def _sample_grid(lo: float, hi: float, per_decade: int) -> np.ndarray:
    n = max(6, int(round(math.log10(hi / lo) * per_decade)) + 1)
    return np.logspace(math.log10(lo), math.log10(hi), n)


def exponent_report(
    K: int,
    eta,
    *,
    schedule=None,
    model: str = "closure",
    alpha_max: float = 1e8,
    alpha_min: float = 1.0,
    fit_from: float | None = None,
    per: str = "decade",
    rtol: float | None = None,
    points_per_decade: int = 4,
) -> dict:
    """Effective-exponent tables and extrapolated exponents of eps_g and L (a JSON-ready dict).

    Local slopes are sampled ``points_per_decade`` per decade on ``[fit_from, alpha_max/1.2]``
    (default ``fit_from = min(1e3, alpha_max/1e3)`` for the closure, ``sqrt(alpha_max)`` for the reduced
    flow) and extrapolated with :func:`model_correction_powers`.

    Measured with the closure to alpha = 1e8, K = 2: fixed eta, exponents -1/3 to ~3e-9 (error estimate
    ~2e-7); PowerLaw beta = 0.25 and 0.5: derived exponents to < 1e-5; beta = 0.75: eps_g only to
    ~6e-3 at alpha_max = 1e8 because the leading corrections decay as alpha^(-1/6); to 6e-4 (error
    estimate 2e-3) at alpha_max = 1e10, or use the reduced flow to 1e12 (exact to ~1e-5).

    >>> r = exponent_report(2, 1.0, model="reduced", alpha_max=1e6)
    >>> round(r["eps_g_exponent"], 4), r["eps_g_exponent_error"] < 1e-4
    (-0.3333, True)
    """
    K = check_num_classes(K)
    sched = as_schedule(schedule if schedule is not None else eta)
    check_positive("alpha_max", alpha_max)
    check_positive("alpha_min", alpha_min)
    if model not in ("closure", "reduced"):
        raise InvalidInputError(f"model must be 'closure' or 'reduced', got {model!r}")
    if alpha_max > ALPHA_MAX[model]:
        raise InvalidInputError(
            f"alpha-max must be <= {ALPHA_MAX[model]:g} for the {model} model, got {alpha_max:g}"
        )
    if alpha_max < 100 * alpha_min:
        raise InvalidInputError(f"alpha-max must be at least 100 alpha-min, got {alpha_max:g}")
    if fit_from is not None:
        check_positive("fit-from", fit_from)
        if not alpha_min <= fit_from <= alpha_max / 1.2 / 10:
            raise InvalidInputError(
                f"fit-from must lie in [alpha-min, alpha-max/12] = "
                f"[{alpha_min:g}, {alpha_max / 12:g}], got {fit_from:g}"
            )
    powers = model_correction_powers(K, sched)
    report = {
        "K": K,
        "schedule": repr(sched),
        "model": model,
        "alpha_range": [alpha_min, alpha_max],
        "correction_powers": list(powers),
    }
    if fit_from is None:
        fit_from = min(1e3, alpha_max / 1e3) if model == "closure" else math.sqrt(alpha_max)
    grid = _sample_grid(fit_from, alpha_max / 1.2, points_per_decade)
    report["fit_range"] = [float(grid[0]), float(grid[-1])]
    series = {}
    if model == "closure":
        obs = exact_closure_observables(K, sched, alpha_max, rtol=rtol or (1e-10 if K == 2 else 1e-9))
        report["rhs_evaluations"] = obs.rhs_evaluations
        for name, f in (("eps_g", obs.eps_g), ("loss", obs.loss)):
            table = effective_exponents(f, alpha_min, alpha_max, per=per, label=name)
            s, e = local_slope(f, grid, alpha_range=(alpha_min / 2, alpha_max))
            series[name] = (table, s, e)

        def plot_data():
            pa = _sample_grid(alpha_min, alpha_max, 6)
            fs = (("eps_g", obs.eps_g), ("loss", obs.loss))
            curves = {n: (pa, np.array([f(a) for a in pa])) for n, f in fs}
            inner = pa[1:-1]
            slopes = {
                n: (inner, local_slope(f, inner, alpha_range=(alpha_min / 2, alpha_max))[0]) for n, f in fs
            }
            return curves, slopes
    else:
        from asymptotics.asymptotic.schedule_exponents import schedule_reduced_flow

        flow = schedule_reduced_flow(
            K, sched, alpha_max, alpha_start=alpha_min, rtol=rtol or 1e-10, points_per_decade=16
        )
        fine = schedule_reduced_flow(
            K, sched, alpha_max, alpha_start=alpha_min, rtol=rtol or 1e-10, alphas=grid
        )
        for name, y in (("eps_g", flow.eps_g), ("loss", flow.loss)):
            table = effective_exponents((flow.alpha, y), alpha_min, alpha_max, per=per, label=name)
            s = fine.eps_g_slope if name == "eps_g" else fine.loss_slope
            series[name] = (table, s, np.full_like(s, 1e-9))

        def plot_data():
            return (
                {"eps_g": (flow.alpha, flow.eps_g), "loss": (flow.alpha, flow.loss)},
                {"eps_g": (flow.alpha, flow.eps_g_slope), "loss": (flow.alpha, flow.loss_slope)},
            )

    report["table"] = {}
    for name, (table, s, e) in series.items():
        ex = extrapolate_exponent(grid, s, e, powers=powers, tol=1e-4)
        report["table"][name] = table.rows()
        report[f"{name}_exponent"] = ex.value
        report[f"{name}_exponent_error"] = ex.error
        report[f"{name}_asymptotic"] = ex.asymptotic
        report[f"{name}_last_local_slope"] = float(s[-1])
    if isinstance(sched, (Constant, PowerLaw)):
        beta = 0.0 if isinstance(sched, Constant) else sched.beta
        if beta < 1:
            from asymptotics.asymptotic.schedule_exponents import predicted_exponents

            pred = predicted_exponents(beta)
            report["predicted"] = {"eps_g_exponent": pred["eps_g"], "loss_exponent": pred["loss"]}
    report["_plot"] = plot_data
    return report


def exponent_figure(report: dict):
    """The curves with their local-slope inset (and the Bayes references for K = 2), a Figure."""
    from asymptotics.analysis.plots import loglog_with_slope_inset

    curves, slopes = report["_plot"]()
    refs = {}
    if report["K"] == 2:
        from asymptotics.dynamics.bayes_optimal import bayes_reference_curve

        a = curves["eps_g"][0]
        a = a[a >= 1.0]
        if a.size:
            ref = bayes_reference_curve(a)
            refs["Bayes-optimal (batch)"] = (a, np.array(ref["eps_bayes"]))
            refs["optimal online"] = (a, np.array(ref["eps_online"]))
    fig = loglog_with_slope_inset(
        curves,
        slopes=slopes,
        references=refs,
        title=f"K = {report['K']}, {report['schedule']} ({report['model']})",
        inset_ylim=(-1.0, 0.1),
    )
    return fig


def format_exponent_report(report: dict) -> str:
    """The report as the text table printed by ``asymptotics exponents``."""
    lines = [
        f"K = {report['K']}, schedule {report['schedule']}, model {report['model']}, "
        f"alpha in [{report['alpha_range'][0]:g}, {report['alpha_range'][1]:g}]"
    ]
    for name in ("eps_g", "loss"):
        lines.append("")
        lines.append(f"effective exponents of {name} (secant over the window; local slope at its centre)")
        lines.append(f"{'alpha_lo':>10} {'alpha_hi':>10} {'secant':>12} {'local':>12} {'error':>9}")
        for r in report["table"][name]:
            lines.append(
                f"{r['alpha_lo']:10.3g} {r['alpha_hi']:10.3g} {r['secant_exponent']:+12.6f} "
                f"{r['local_slope']:+12.6f} {r['local_slope_error']:9.1e}"
            )
    lines.append("")
    lo, hi = report["fit_range"]
    pw = ", ".join(f"{p:.4g}" for p in report["correction_powers"])
    lines.append(
        f"extrapolated from local slopes on [{lo:.3g}, {hi:.3g}] with corrections alpha^-p, p in {{{pw}}}:"
    )
    for name in ("eps_g", "loss"):
        flag = "" if report[f"{name}_asymptotic"] else "  (NOT asymptotic within 1e-4)"
        lines.append(
            f"  {name + '_exponent':>15} = {report[f'{name}_exponent']:+.6f} "
            f"+- {report[f'{name}_exponent_error']:.1e}{flag}"
        )
    if "predicted" in report:
        lines.append(
            f"  derived (reduced flow): eps_g {report['predicted']['eps_g_exponent']:+.6f}, "
            f"loss {report['predicted']['loss_exponent']:+.6f}"
        )
    if report["K"] == 2:
        lines.append(
            "  Bayes-optimal reference (K = 2): eps_g ~ alpha^-1 (see asymptotics.dynamics.bayes_optimal)"
        )
    if report.get("plot"):
        lines.append(f"plot written to {report['plot']}")
    return "\n".join(lines)
