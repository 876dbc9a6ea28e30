"""Check the budget-tuned learning-rate schedule of the reduced flow against the exact closure (K = 2).

What it does.  :func:`asymptotics.asymptotic.schedule_exponents.optimise_schedule` tunes
``PowerLaw(eta0 = eta_max, beta, alpha0)`` (``eta = eta0 (1 + alpha/alpha0)^(-beta)``) for the final eps_g
at a sample budget alpha_T, using the *reduced* flow started from ``D = 1, Delta = Delta*(eta_max)`` at
alpha = 1; its module states that the optimal eps_g(alpha_T) then decays like alpha_T^(-0.63), heading to
alpha_T^(-2/3).  For each budget (default 1e3 .. 1e8, eta_max = 1) this script

1. gets the optimised schedule (``optimise_schedule(2, alpha_T)``, defaults, with its reduced-flow
   comparators: best constant rate and best budget-independent power law);
2. integrates the EXACT (D, Delta) closure (:func:`asymptotics.dynamics.flow.integrate_closure`) with that
   schedule from the standard initial condition W(0) = 0 (D = Delta = 0 at alpha = 0) to alpha_T, at
   rtol 1e-10 and again at rtol 1e-12 (the difference is the integration error), and records eps_g, L,
   D, Delta at alpha_T;
3. integrates the reduced flow with the same schedule from the optimiser's start (what optimise_schedule
   predicts; recomputed at rtol 1e-10 to also get L), and, as a diagnostic of the initial-condition
   mismatch, from the exact closure's state at alpha = 100;
4. baselines on the exact closure (same start):
   * ``constant``: eta = eta_max = 1 (``parse_schedule("constant:eta=1")``);
   * ``inv_alpha``: 1/alpha decay ``parse_schedule("power:eta0=1,beta=1,alpha0=1")``, i.e.
     eta = 1/(1 + alpha) -- the PowerLaw family with beta = 1 is the parametrisation parse_schedule
     offers for eta0/(1 + alpha/alpha0);
   * ``inv_alpha_tuned``: the same family with alpha0 tuned to each budget on the exact closure
     (bounded Brent search in ln alpha0 over [0, ln alpha_T + 2]): the strongest 1/alpha baseline;
   * ``constant_tuned``: a constant rate eta <= 1 tuned to each budget on the exact closure (Brent in ln eta);
5. for budgets <= 1e5 (skipped with ``--quick``) re-optimises (ln alpha0, beta) by Nelder--Mead directly
   on the exact closure, starting from the reduced-flow optimum, to measure how much the reduced-flow
   tuning leaves on the table;
6. local budget exponents (log-log slopes between consecutive budgets) of the final eps_g for every
   variant, a heuristic extrapolation of the optimal-schedule slopes (least squares in
   ``slope = s_inf + a / ln(alpha_mid)``, using the slopes from 1e3, 1e4 or 1e5 on), and the relative exact-vs-reduced difference times D(alpha_T)^2
   (the reduced flow is leading order in 1/D);
7. prints a table and writes ``benchmarks/results/budget_schedule.json``.

Runtime (measured on the 2-core machine, shared with other jobs): the full run (budgets 1e3 .. 1e8)
takes ~140 s of CPU, 143 s wall at load ~2 and 228 s wall at load ~3.4 -- per budget 12-45 s (at load ~2), of
which the exact-closure re-optimisation (step 5, budgets <= 1e5) takes up to ~30 s, optimise_schedule 1-9 s,
the baseline tuning ~10 s; a single exact-closure run to 1e8 takes ~1 s.
``--quick`` (budgets 1e3, 1e4, 1e5, no re-optimisation) takes ~30 s and writes no JSON unless
``--output`` is given.

    python benchmarks/validate_budget_schedule.py [--quick] [--budgets 1e3,1e4,...] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from asymptotics.asymptotic.schedule_exponents import delta_star, optimise_schedule, schedule_reduced_flow
from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.schedules import Constant, PowerLaw, parse_schedule

RESULTS = Path(__file__).resolve().parent / "results" / "budget_schedule.json"
K = 2
ETA_MAX = 1.0
RTOL, RTOL_REF = 1e-10, 1e-12
ALPHA_MATCH = 100.0  # where the matched reduced flow takes over the exact state
REOPT_MAX_BUDGET = 1e5  # exact-closure re-optimisation only up to this budget
EXTRAP_FROM = (1e3, 1e4, 1e5)  # lower budget of the first slope used in the extrapolations
FULL_BUDGETS = (1e3, 1e4, 1e5, 1e6, 1e7, 1e8)
QUICK_BUDGETS = (1e3, 1e4, 1e5)


def exact_final(schedule, budget: float, rtol: float = RTOL) -> dict:
    """Exact closure from W(0) = 0 to ``budget``: final observables (and the state at ALPHA_MATCH)."""
    t0 = time.perf_counter()
    alphas = [ALPHA_MATCH, budget] if budget > ALPHA_MATCH else [budget]
    c = integrate_closure(K, schedule, alphas, rtol=rtol)
    out = {
        "eps_g": float(c.eps_g[-1]),
        "loss": float(c.loss[-1]),
        "D": float(c.D[-1]),
        "Delta": float(c.Delta[-1]),
        "rhs_evaluations": int(c.rhs_evaluations),
        "seconds": time.perf_counter() - t0,
    }
    if budget > ALPHA_MATCH:
        out["state_at_match"] = [float(c.D[0]), float(c.Delta[0])]
    return out


def reduced_final(schedule, budget: float, alpha_start: float, D0: float, Delta0: float) -> dict:
    f = schedule_reduced_flow(
        K,
        schedule,
        budget,
        alpha_start=alpha_start,
        D0=D0,
        Delta0=Delta0,
        alphas=[alpha_start, budget],
        rtol=RTOL,
    )
    return {
        "eps_g": float(f.eps_g[-1]),
        "loss": float(f.loss[-1]),
        "D": float(f.D[-1]),
        "Delta": float(f.Delta[-1]),
    }


def tune_inv_alpha(budget: float) -> dict:
    """Best alpha0 of eta = eta_max/(1 + alpha/alpha0) for the exact closure at this budget."""
    n = {"n": 0}

    def obj(la0):
        n["n"] += 1
        return math.log(
            integrate_closure(K, PowerLaw(ETA_MAX, 1.0, math.exp(la0)), [budget], rtol=RTOL).eps_g[-1]
        )

    r = minimize_scalar(obj, bounds=(0.0, math.log(budget) + 2.0), method="bounded", options={"xatol": 1e-3})
    a0 = float(math.exp(r.x))
    return {
        "alpha0": a0,
        "spec": f"power:eta0={ETA_MAX:g},beta=1,alpha0={a0:.6g}",
        "evaluations": n["n"],
        "at_bound": bool(r.x < 1e-2 or r.x > math.log(budget) + 2.0 - 1e-2),
    }


def tune_constant(budget: float) -> dict:
    """Best constant eta in [1e-10, eta_max] for the exact closure at this budget."""
    n = {"n": 0}

    def obj(le):
        n["n"] += 1
        return math.log(integrate_closure(K, Constant(math.exp(le)), [budget], rtol=RTOL).eps_g[-1])

    lo, hi = math.log(1e-10), math.log(ETA_MAX)
    r = minimize_scalar(obj, bounds=(lo, hi), method="bounded", options={"xatol": 1e-3})
    return {
        "eta": float(math.exp(r.x)),
        "evaluations": n["n"],
        "at_bound": bool(r.x > hi - 1e-2 or r.x < lo + 1e-2),
    }


def reoptimise_exact(budget: float, start: PowerLaw, max_beta: float = 8.0) -> dict:
    """Nelder--Mead on (ln alpha0, beta) for the exact closure, from the reduced-flow optimum."""
    n = {"n": 0}
    L = math.log(budget)

    def make(p):
        return PowerLaw(ETA_MAX, min(max(p[1], 0.0), max_beta), math.exp(min(max(p[0], -5.0), L + 2.0)))

    def obj(p):
        n["n"] += 1
        try:
            return math.log(integrate_closure(K, make(p), [budget], rtol=RTOL).eps_g[-1])
        except Exception:  # noqa: BLE001 - a failed run is simply a bad point
            return math.inf

    r = minimize(
        obj,
        [math.log(start.alpha0), start.beta],
        method="Nelder-Mead",
        options={"xatol": 1e-3, "fatol": 1e-7, "maxfev": 80},
    )
    s = make(r.x)
    return {"alpha0": s.alpha0, "beta": s.beta, "eps_g": float(math.exp(r.fun)), "evaluations": n["n"]}


def local_slopes(budgets, values) -> list:
    lb, lv = np.log(np.asarray(budgets, float)), np.log(np.asarray(values, float))
    return (np.diff(lv) / np.diff(lb)).tolist()


def extrapolate_slopes(budgets, slopes, from_budget: float) -> dict | None:
    """Heuristic: least squares of slope = s_inf + a/ln(alpha_mid) over the slopes whose lower budget is
    >= ``from_budget`` (needs >= 3 of them; None otherwise)."""
    b = np.asarray(budgets, float)
    use = b[:-1] >= from_budget * (1 - 1e-12)
    if use.sum() < 3:
        return None
    lb = np.log(b)
    x = (1.0 / (0.5 * (lb[1:] + lb[:-1])))[use]
    y = np.asarray(slopes)[use]
    a, s_inf = np.polyfit(x, y, 1)
    resid = y - (s_inf + a * x)
    return {
        "s_inf": float(s_inf),
        "a": float(a),
        "max_residual": float(np.abs(resid).max()),
        "from_budget": from_budget,
        "slopes_used": int(use.sum()),
        "model": "slope = s_inf + a / ln(alpha_mid), alpha_mid = geometric mean of consecutive budgets",
    }


def run_budget(budget: float, reoptimise: bool) -> dict:
    t_budget = time.perf_counter()
    t0 = time.perf_counter()
    opt = optimise_schedule(K, budget, eta_max=ETA_MAX)
    t_opt = time.perf_counter() - t0
    sched: PowerLaw = opt["schedule"]
    row = {
        "budget": budget,
        "schedule": {
            "eta0": sched.eta0,
            "beta": sched.beta,
            "alpha0": sched.alpha0,
            "alpha0_over_budget": sched.alpha0 / budget,
            "beta_at_bound": opt["beta_at_bound"],
            "spec": f"power:eta0={sched.eta0:g},beta={sched.beta:.6g},alpha0={sched.alpha0:.6g}",
        },
        "optimise_schedule": {
            "eps_g": opt["eps_g"],
            "evaluations": opt["evaluations"],
            "seconds": t_opt,
            "eps_g_constant": opt["eps_g_constant"],
            "eta_constant": opt["eta_constant"],
            "eps_g_anytime": opt["eps_g_anytime"],
            "beta_anytime": opt["beta_anytime"],
        },
    }
    ex = exact_final(sched, budget)
    ref = exact_final(sched, budget, rtol=RTOL_REF)
    ex["relative_error_vs_rtol_1e-12"] = abs(ex["eps_g"] / ref["eps_g"] - 1)
    row["exact_opt"] = ex
    red = reduced_final(sched, budget, 1.0, 1.0, delta_star(ETA_MAX))
    row["reduced_opt"] = red
    D_m, Delta_m = ex["state_at_match"]
    row["reduced_opt_matched"] = dict(
        reduced_final(sched, budget, ALPHA_MATCH, D_m, Delta_m), alpha_start=ALPHA_MATCH
    )
    rel = ex["eps_g"] / red["eps_g"] - 1
    row["exact_vs_reduced"] = {
        "eps_g_relative": rel,
        "loss_relative": ex["loss"] / red["loss"] - 1,
        "eps_g_relative_times_D2": rel * ex["D"] ** 2,
        "eps_g_relative_matched": ex["eps_g"] / row["reduced_opt_matched"]["eps_g"] - 1,
    }

    base = {}
    base["constant"] = dict(
        exact_final(parse_schedule(f"constant:eta={ETA_MAX:g}"), budget), spec=f"constant:eta={ETA_MAX:g}"
    )
    base["inv_alpha"] = dict(
        exact_final(parse_schedule(f"power:eta0={ETA_MAX:g},beta=1,alpha0=1"), budget),
        spec=f"power:eta0={ETA_MAX:g},beta=1,alpha0=1",
    )
    t0 = time.perf_counter()
    ti = tune_inv_alpha(budget)
    base["inv_alpha_tuned"] = dict(
        exact_final(parse_schedule(ti["spec"]), budget),
        tuning=ti,
        spec=ti["spec"],
        tuning_seconds=time.perf_counter() - t0,
    )
    t0 = time.perf_counter()
    tc = tune_constant(budget)
    base["constant_tuned"] = dict(
        exact_final(Constant(tc["eta"]), budget),
        tuning=tc,
        spec=f"constant:eta={tc['eta']:.6g}",
        tuning_seconds=time.perf_counter() - t0,
    )
    # the module's reduced-flow comparators, evaluated on the exact closure
    base["constant_tuned_reduced"] = dict(
        exact_final(Constant(opt["eta_constant"]), budget), spec=f"constant:eta={opt['eta_constant']:.6g}"
    )
    base["anytime_reduced"] = dict(
        exact_final(PowerLaw(ETA_MAX, opt["beta_anytime"], 1.0), budget),
        spec=f"power:eta0={ETA_MAX:g},beta={opt['beta_anytime']:.1f},alpha0=1",
    )
    row["baselines_exact"] = base
    row["gain"] = {k: v["eps_g"] / ex["eps_g"] for k, v in base.items()}
    if reoptimise and budget <= REOPT_MAX_BUDGET:
        t0 = time.perf_counter()
        ro = reoptimise_exact(budget, sched)
        ro["seconds"] = time.perf_counter() - t0
        ro["improvement_over_reduced_tuned"] = 1 - ro["eps_g"] / ex["eps_g"]
        row["exact_reoptimised"] = ro
    row["seconds"] = time.perf_counter() - t_budget
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="budgets 1e3,1e4,1e5, no exact re-optimisation; no JSON unless --output",
    )
    parser.add_argument(
        "--budgets", type=str, default=None, help="comma-separated budgets (default 1e3..1e8)"
    )
    parser.add_argument("--output", type=Path, default=None, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args()
    budgets = (
        [float(b) for b in args.budgets.split(",")]
        if args.budgets
        else list(QUICK_BUDGETS if args.quick else FULL_BUDGETS)
    )
    output = args.output if args.output is not None else (None if args.quick else RESULTS)
    t_all = time.perf_counter()
    rows = []
    for b in budgets:
        row = run_budget(b, reoptimise=not args.quick)
        rows.append(row)
        print(f"alpha_T = {b:.0e} done in {row['seconds']:.1f} s", flush=True)

    series = {
        "exact_opt": [r["exact_opt"]["eps_g"] for r in rows],
        "reduced_opt": [r["reduced_opt"]["eps_g"] for r in rows],
        **{
            f"exact_{k}": [r["baselines_exact"][k]["eps_g"] for r in rows] for k in rows[0]["baselines_exact"]
        },
        "reduced_constant_tuned": [r["optimise_schedule"]["eps_g_constant"] for r in rows],
        "reduced_anytime": [r["optimise_schedule"]["eps_g_anytime"] for r in rows],
    }
    slopes = {k: local_slopes(budgets, v) for k, v in series.items()}
    loss_slopes = {
        "exact_opt": local_slopes(budgets, [r["exact_opt"]["loss"] for r in rows]),
        "reduced_opt": local_slopes(budgets, [r["reduced_opt"]["loss"] for r in rows]),
    }
    extrap = {
        k: {f"from_{fb:.0e}": extrapolate_slopes(budgets, slopes[k], fb) for fb in EXTRAP_FROM}
        for k in ("exact_opt", "reduced_opt")
    }
    runtime = time.perf_counter() - t_all

    # ---- tables
    print()
    print("final eps_g at alpha_T (K = 2, eta_max = 1; exact closure from W(0) = 0)")
    hdr = (
        f"{'alpha_T':>8} {'beta':>6} {'a0/aT':>6} | {'exact opt':>10} {'reduced':>10} {'ex/red-1':>9} "
        f"{'*D^2':>5} | {'L exact':>9} {'L red':>9} | {'const 1':>9} {'1/(1+a)':>9} {'1/a tuned':>9} "
        f"{'const tnd':>9}"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        b = r["baselines_exact"]
        print(
            f"{r['budget']:8.0e} {r['schedule']['beta']:6.3f} {r['schedule']['alpha0_over_budget']:6.3f} | "
            f"{r['exact_opt']['eps_g']:10.4e} {r['reduced_opt']['eps_g']:10.4e} "
            f"{r['exact_vs_reduced']['eps_g_relative']:+9.2e} {r['exact_vs_reduced']['eps_g_relative_times_D2']:5.2f} | "
            f"{r['exact_opt']['loss']:9.3e} {r['reduced_opt']['loss']:9.3e} | "
            f"{b['constant']['eps_g']:9.3e} {b['inv_alpha']['eps_g']:9.3e} {b['inv_alpha_tuned']['eps_g']:9.3e} "
            f"{b['constant_tuned']['eps_g']:9.3e}"
        )
    print()
    print("gain of the optimised schedule on the exact closure: eps_g(baseline) / eps_g(optimised)")
    for r in rows:
        g = r["gain"]
        extra = ""
        if "exact_reoptimised" in r:
            ro = r["exact_reoptimised"]
            extra = (
                f" | exact re-opt: beta {ro['beta']:.3f} a0 {ro['alpha0']:.4g} "
                f"improves by {ro['improvement_over_reduced_tuned']:.1e}"
            )
        print(
            f"{r['budget']:8.0e} const 1 {g['constant']:7.2f}  1/(1+a) {g['inv_alpha']:7.2f}  "
            f"1/a tuned (a0={r['baselines_exact']['inv_alpha_tuned']['tuning']['alpha0']:.3g}) "
            f"{g['inv_alpha_tuned']:5.2f}  const tuned {g['constant_tuned']:5.2f}  "
            f"anytime(red) {g['anytime_reduced']:5.2f}{extra}"
        )
    print()
    print("local budget exponents d ln eps_g / d ln alpha_T between consecutive budgets")
    for k, v in slopes.items():
        print(f"  {k:28s} " + " ".join(f"{s:+.4f}" for s in v))
    for k in ("exact_opt", "reduced_opt"):
        for name, e in extrap[k].items():
            if e:
                print(
                    f"  {k}: extrapolated (heuristic, slope = s_inf + a/ln alpha, slopes {name}): "
                    f"s_inf = {e['s_inf']:+.4f}, a = {e['a']:.3f}, max residual {e['max_residual']:.1e}"
                )
    print(
        f"integration error of exact eps_g (rtol 1e-10 vs 1e-12): max "
        f"{max(r['exact_opt']['relative_error_vs_rtol_1e-12'] for r in rows):.1e}"
    )
    print(f"total runtime {runtime:.0f} s")

    if output is not None:
        result = {
            "description": "budget-tuned schedule (optimise_schedule, reduced flow) checked on the exact closure",
            "K": K,
            "eta_max": ETA_MAX,
            "rtol": RTOL,
            "rtol_reference": RTOL_REF,
            "exact_initial_condition": "W(0) = 0: D = Delta = 0 at alpha = 0",
            "reduced_initial_condition": "D = 1, Delta = Delta*(eta_max) at alpha = 1 (optimise_schedule)",
            "budgets": budgets,
            "rows": rows,
            "local_slopes_eps_g": slopes,
            "local_slopes_loss": loss_slopes,
            "extrapolated_slopes_eps_g": extrap,
            "module_claims": {
                "reduced_slope_1e4_1e6": -0.620,
                "reduced_slope_1e6_1e8": -0.633,
                "limit": -2 / 3,
                "beta_at_1e4_1e6_1e8": [3.9, 5.2, 6.2],
                "alpha0_over_budget": 0.2,
                "constant_tuned_slope": [-0.49, -0.48],
                "anytime_slope": -0.50,
            },
            "runtime_seconds": runtime,
            "quick": bool(args.quick),
        }
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(result, indent=1, default=float) + "\n")
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
