"""Label smoothing's schedule laws at beta = 1 and 0.75 against the exact closure continued to very long times.

Under ``eta = (1 + alpha)^-beta`` the derived exponents of eps_g and of the excess loss
(:func:`asymptotics.losses.saturation.saturated_schedule_law`) are approached slowly:

* at beta = 1 the corrections decay like ``alpha^-kappa``, ``kappa = c/(K-1)`` (0.036 for K = 2, 0.027 for
  K = 3); by alpha = 1e12 the local slopes are still 0.02-0.04 away from the law;
* at beta = 0.75 the corrections decay like ``alpha^-1/4``, and the excess loss ``L - L_min``, a float64
  difference, is lost below ~1e-12.

Both are beyond the closure integrated in ``(D, Delta)`` (``validate_loss_late_time.py``). Here the
closure is continued in ``(D, ln Delta)`` (:func:`asymptotics.losses.long_time.long_time_closure`),
with the excess loss computed as a path integral of the exact identities (no cancellation):

* beta = 1 to alpha = 1e100: local slopes on 369 points, extrapolated over [1e20, 1e100] with the powers
  ``kappa, 2 kappa, 3 kappa, 4 kappa``; the slope of ``ln |D - D_0|`` over [1e60, 1e100] against
  ``-kappa``;
* beta = 0.75 to alpha = 1e20 (beyond it ``D - D_0 = O(eta)`` is below the float64 resolution of ``D``
  and the excess loss of K = 3 loses its accuracy): extrapolated over [1e10, 1e20] with the powers
  ``1/4, 1/2, 3/4, 1``;
* each against :func:`asymptotics.dynamics.flow.integrate_closure` on [1e4, 1e8].

Run (about two minutes)::

    python benchmarks/validate_saturated_long_time.py

Writes ``benchmarks/results/saturated_long_time.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from asymptotics.analysis.extrapolation import extrapolate_exponent
from asymptotics.dynamics.flow import integrate_closure
from asymptotics.dynamics.schedules import PowerLaw
from asymptotics.losses.long_time import long_time_closure
from asymptotics.losses.saturation import saturated_schedule_law, zero_noise_optimum

RESULTS = Path(__file__).parent / "results" / "saturated_long_time.json"
LOSS = "label_smoothing:eps=0.1"
HARMONIC = PowerLaw(1.0, 1.0, 1.0)


CASES = {
    # beta: (grid in log10 alpha, fit from, correction powers as multiples of kappa or absolute)
    1.0: {"grid": (8, 100, 369), "fit_from": 1e20, "report_at": (1e8, 1e12, 1e20, 1e30, 1e50, 1e100)},
    0.75: {"grid": (6, 20, 113), "fit_from": 1e10, "report_at": (1e6, 1e8, 1e10, 1e12, 1e16, 1e20)},
}


def one(K: int, beta: float) -> dict:
    t0 = time.perf_counter()
    schedule = PowerLaw(1.0, beta, 1.0)
    law = saturated_schedule_law(LOSS, K, beta)
    kappa = zero_noise_optimum(LOSS, K)["curvature"] / (K - 1)
    case = CASES[beta]
    powers = tuple(n * kappa for n in (1, 2, 3, 4)) if beta == 1 else (1 - beta, 2 * (1 - beta), beta, 1.0)
    early = np.logspace(4, 8, 9)
    long_early = long_time_closure(LOSS, K, schedule, early)
    ref = integrate_closure(K, schedule, early, loss=LOSS, rtol=1e-12, moment_rtol=1e-11 if K == 3 else None)
    agreement = {
        name: float(np.max(np.abs(getattr(long_early, name) / getattr(ref, name) - 1)))
        for name in ("D", "Delta", "eps_g", "loss")
    }
    lo, hi, n = case["grid"]
    alpha = 10 ** np.linspace(lo, hi, n)
    c = long_time_closure(LOSS, K, schedule, alpha)
    fit = alpha >= case["fit_from"]
    out = {
        "K": K,
        "beta": beta,
        "kappa": kappa,
        "correction_powers": powers,
        "fit_range": [case["fit_from"], float(alpha[-1])],
        "D_limit": c.D_limit,
        "agreement_with_integrate_closure_1e4_1e8": agreement,
        "rhs_evaluations": c.rhs_evaluations,
    }
    for name, values, target in (
        ("eps_g", c.eps_g, law["exponent_eps_g"]),
        ("excess_loss", c.excess_loss, law["exponent_excess_loss"]),
    ):
        s = np.gradient(np.log(values), np.log(alpha))
        ex = extrapolate_exponent(alpha[fit], s[fit], powers=powers, tol=1e-4)
        out[name] = {
            "derived": target,
            "extrapolated": ex.value,
            "extrapolation_error": ex.error,
            "deviation": abs(ex.value - target),
            "local_slope_at_fit_end": float(s[-1]),
            "local_slopes": {
                f"{a:.0e}": float(np.interp(np.log(a), np.log(alpha), s)) for a in case["report_at"]
            },
        }
    if beta == 1:
        tail = alpha >= 1e60
        out["D_minus_D0_slope_1e60_1e100"] = float(
            np.polyfit(np.log(alpha[tail]), np.log(np.abs(c.D[tail] - c.D_limit)), 1)[0]
        )
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    rows = []
    for beta in (1.0, 0.75):
        for K in (2, 3):
            row = one(K, beta)
            print(json.dumps(row))
            rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"loss": LOSS, "schedule": "eta = (1 + alpha)^-beta", "rows": rows}, indent=2) + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
