"""The beta = 1 law of label smoothing against the exact closure integrated to alpha = 1e100.

Under ``eta = (1 + alpha)^-1`` the derived exponents of eps_g and of the excess loss
(:func:`asymptotics.losses.saturation.saturated_schedule_law`) have corrections ``alpha^-kappa``,
``kappa = c/(K-1)`` (0.036 for K = 2, 0.027 for K = 3). By alpha = 1e12 the local slopes are still
0.02-0.04 away from the law, the limit of the closure integrated in ``(D, Delta)``
(``validate_loss_late_time.py``). Here the closure is continued in ``(D, ln Delta)``
(:func:`asymptotics.losses.long_time.long_time_closure`) from 1e4 to 1e100, and three things are
recorded:

* the local slopes of ``eps_g`` and ``L - L_min`` on 321 points over [1e20, 1e100], extrapolated with
  the correction powers ``kappa, 2 kappa, 3 kappa, 4 kappa``
  (:func:`asymptotics.analysis.extrapolation.extrapolate_exponent`), compared with the derived exponents;
* the slope of ``ln |D - D_0|`` over [1e60, 1e100], compared with ``-kappa``;
* the agreement with :func:`asymptotics.dynamics.flow.integrate_closure` on [1e4, 1e8].

Run (about half a minute)::

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
REPORT_AT = (1e8, 1e12, 1e20, 1e30, 1e50, 1e100)


def one(K: int) -> dict:
    t0 = time.perf_counter()
    law = saturated_schedule_law(LOSS, K, 1.0)
    kappa = zero_noise_optimum(LOSS, K)["curvature"] / (K - 1)
    early = np.logspace(4, 8, 9)
    long_early = long_time_closure(LOSS, K, HARMONIC, early)
    ref = integrate_closure(K, HARMONIC, early, loss=LOSS, rtol=1e-12, moment_rtol=1e-11 if K == 3 else None)
    agreement = {
        name: float(np.max(np.abs(getattr(long_early, name) / getattr(ref, name) - 1)))
        for name in ("D", "Delta", "eps_g", "loss")
    }
    alpha = 10 ** np.linspace(8, 100, 369)
    c = long_time_closure(LOSS, K, HARMONIC, alpha)
    fit = alpha >= 1e20
    out = {
        "K": K,
        "kappa": kappa,
        "D_limit": c.D_limit,
        "agreement_with_integrate_closure_1e4_1e8": agreement,
        "rhs_evaluations": c.rhs_evaluations,
    }
    for name, values, target in (
        ("eps_g", c.eps_g, law["exponent_eps_g"]),
        ("excess_loss", c.excess_loss, law["exponent_excess_loss"]),
    ):
        s = np.gradient(np.log(values), np.log(alpha))
        ex = extrapolate_exponent(alpha[fit], s[fit], powers=tuple(n * kappa for n in (1, 2, 3, 4)), tol=1e-4)
        out[name] = {
            "derived": target,
            "extrapolated": ex.value,
            "extrapolation_error": ex.error,
            "deviation": abs(ex.value - target),
            "local_slopes": {f"{a:.0e}": float(np.interp(np.log(a), np.log(alpha), s)) for a in REPORT_AT},
        }
    tail = alpha >= 1e60
    out["D_minus_D0_slope_1e60_1e100"] = float(
        np.polyfit(np.log(alpha[tail]), np.log(np.abs(c.D[tail] - c.D_limit)), 1)[0]
    )
    out["seconds"] = round(time.perf_counter() - t0, 2)
    return out


def main() -> None:
    rows = []
    for K in (2, 3):
        row = one(K)
        print(json.dumps(row))
        rows.append(row)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"loss": LOSS, "schedule": "eta = (1 + alpha)^-1", "rows": rows}, indent=2) + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
