"""``asymptotics peaked``: regimes, expansion and loss curve of the peaked-distribution mechanism.

    asymptotics peaked --n 128 --beta-star 100 [--tau-max 1e12] [--plot output/peaked/peaked.png] [--json]
    asymptotics peaked --n 128 --entropy 0.5 [--json]

``--entropy H`` first finds the teacher inverse temperature beta* at which the mean softmax entropy of
n i.i.d. Gaussian logits equals H (then runs as with ``--beta-star``).  ``--json`` prints one JSON
object with at least ``c0``, ``c2``, ``loss_exponent`` (the local slope d ln L/d ln tau at the
plateau of the intermediate regime) and, with ``--entropy``, ``beta_star``.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> p = register(sub)
>>> p.prog.endswith('peaked')
True
"""

from __future__ import annotations

import math

from asymptotics.cli_support import float_in_range, int_in_range, positive_float
from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

__all__ = ["register", "run", "beta_for_entropy", "plateau_slope"]

DEFAULT_PLOT = "output/peaked/peaked.png"


def register(subparsers):
    """Add the ``peaked`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "peaked",
        help="one-third time scaling of a softmax head learning a peaked (low-entropy) teacher",
        description="Peaked-distribution mechanism: statistical-mechanics constants c0, c2, c3 of <ln Z>, "
        "the regimes of the aligned gradient flow, its exact loss curve and the local slope "
        "d ln L/d ln tau at the plateau (-1/3).  n <= 100000, beta* <= 1e7.",
    )
    p.add_argument(
        "--n",
        type=int_in_range(2, 100_000),
        required=True,
        help="number of classes (vocabulary size), 2..100000",
    )
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument(
        "--beta-star",
        type=float_in_range(0.01, 1e7),
        help="teacher inverse temperature, 0.01 <= beta* <= 1e7",
    )
    g.add_argument("--entropy", type=positive_float, help="target mean teacher entropy H (nats); finds beta*")
    p.add_argument(
        "--tau-max",
        type=float_in_range(1e-6, 1e15),
        default=None,
        help="end of the integration (default: until beta is within 1e-6 of beta*, at most 1e15)",
    )
    p.add_argument(
        "--digits", type=int_in_range(5, 50), default=15, help="digits of the printed constants, 5..50"
    )
    p.add_argument(
        "--plot",
        default=None,
        help=f"output file of the plot (default {DEFAULT_PLOT}; '' for none; with --json none unless given)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.set_defaults(handler=run)
    return p


def beta_for_entropy(n: int, H: float) -> float:
    """Teacher inverse temperature with mean softmax entropy H (float, relative accuracy ~1e-12).

    >>> b = beta_for_entropy(2, 0.5)
    >>> from asymptotics.peaked.stat_mech_float import gap_thermodynamics
    >>> round(gap_thermodynamics(2, b)["entropy"], 9)
    0.5
    """
    from scipy.optimize import brentq

    from asymptotics.peaked.stat_mech_float import gap_thermodynamics

    n = check_num_classes(n)
    check_positive("entropy", H)
    if not H < math.log(n):
        raise InvalidInputError(f"entropy must be < ln n = {math.log(n):.6g}, got {H}")
    f = lambda lb: gap_thermodynamics(n, math.exp(lb))["entropy"] - H
    lo, hi = math.log(1e-4), math.log(1e7)
    if f(hi) > 0:
        raise InvalidInputError(f"entropy {H} is below the range reachable with beta* <= 1e7")
    return math.exp(brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))


def _finite_curve_points(curve, every: int = 4) -> dict:
    """Every ``every``-th point of the curve where all four values are finite (the slope is undefined
    where the loss has reached 0 at saturation)."""
    import numpy as np

    keep = (
        np.isfinite(curve.tau) & np.isfinite(curve.beta) & np.isfinite(curve.loss) & np.isfinite(curve.slope)
    )
    idx = np.flatnonzero(keep)[::every]
    return {
        "tau": curve.tau[idx].tolist(),
        "beta": curve.beta[idx].tolist(),
        "loss": curve.loss[idx].tolist(),
        "slope": curve.slope[idx].tolist(),
    }


def plateau_slope(curve) -> tuple:
    """Local slope at the plateau of the intermediate regime: the stationary point (local maximum)
    of ``d ln L/d ln tau`` between the early dip and saturation.  Returns ``(slope, tau, beta)``;
    falls back to the slope at beta = sqrt(beta*) when there is no stationary point.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> c = SimpleNamespace(slope=np.array([-0.1, -0.5, -0.34, -0.33, -0.35, -1.0]),
    ...                     tau=np.arange(6.0), beta=np.arange(1.0, 7.0), beta_star=10.0)
    >>> plateau_slope(c)
    (-0.33, 3.0, 4.0)
    """
    import numpy as np

    s = curve.slope
    ok = np.isfinite(s)
    best, seen_dip = None, False
    for i in range(1, len(s) - 1):
        if not (ok[i - 1] and ok[i] and ok[i + 1]):
            continue
        if s[i] <= s[i - 1] and s[i] <= s[i + 1]:
            seen_dip = True
        elif seen_dip and s[i] >= s[i - 1] and s[i] >= s[i + 1]:
            best = i
            break
    if best is None:
        best = int(np.argmin(np.abs(np.log(curve.beta) - 0.5 * math.log(curve.beta_star))))
    return float(s[best]), float(curve.tau[best]), float(curve.beta[best])


def run(args) -> int:
    """Run the subcommand; prints text (or one JSON object with ``--json``) and returns 0."""
    import mpmath

    from asymptotics.cli_support import OutputFiles, check_output_file, figure_png, print_json
    from asymptotics.peaked.dynamics import integrate_aligned_flow
    from asymptotics.peaked.expansion import coefficients, regimes

    n = check_num_classes(args.n)
    digits = int(args.digits)
    if digits < 5 or digits > 50:
        raise InvalidInputError(f"digits must be between 5 and 50, got {digits}")
    plot = args.plot if args.plot is not None else ("" if args.json else DEFAULT_PLOT)
    plot = check_output_file(plot, "--plot") if plot else None
    beta_star = (
        beta_for_entropy(n, args.entropy)
        if args.entropy is not None
        else float(check_positive("beta-star", args.beta_star))
    )
    if beta_star > 1e7:
        raise InvalidInputError(f"beta-star must be <= 1e7, got {beta_star}")
    tau_max = 1e15 if args.tau_max is None else float(check_positive("tau-max", args.tau_max))
    co = coefficients(n, digits)
    reg = regimes(n, beta_star)
    curve = integrate_aligned_flow(n, beta_star, tau_max, points_per_decade=8)
    slope, t_pl, b_pl = plateau_slope(curve)
    pref = float(co["prefactor"])
    pred = pref * curve.tau ** (-1.0 / 3.0)
    files = OutputFiles()
    plot_path = ""
    if plot is not None:
        import matplotlib.pyplot as plt

        fig, (a1, a2) = plt.subplots(2, 1, figsize=(6, 6), sharex=True)
        a1.loglog(curve.tau, curve.loss, label="exact aligned flow")
        a1.loglog(curve.tau, pred, "--", label=r"$c_2^{2/3}((n-1)/3\tau)^{1/3}$")
        a1.set_ylabel("L")
        a1.legend(fontsize=8)
        a1.set_title(f"n={n}, beta*={beta_star:.6g}")
        a2.semilogx(curve.tau, curve.slope)
        a2.axhline(-1 / 3, ls=":", c="k")
        a2.set_ylim(-1.5, 0.05)
        a2.set_xlabel(r"$\tau$")
        a2.set_ylabel(r"d ln L/d ln $\tau$")
        fig.tight_layout()
        files.add(plot, figure_png(fig))
        plot_path = str(plot)
    nstr = lambda x: mpmath.nstr(x, digits)
    if args.json:
        out = {
            "n": n,
            "beta_star": beta_star,
            "c0": float(co["c0"]),
            "c2": float(co["c2"]),
            "c3": float(co["c3"]),
            "rho0": float(co["rho0"]),
            "prefactor": pref,
            "loss_exponent": slope,
            "plateau_tau": t_pl,
            "plateau_beta": b_pl,
            "high_temperature": bool(reg["high_temperature"]),
            "intermediate_beta": list(reg["intermediate"]) if reg["has_intermediate"] else None,
            "c0_str": nstr(co["c0"]),
            "c2_str": nstr(co["c2"]),
            "c3_str": nstr(co["c3"]),
            "curve": _finite_curve_points(curve, every=4),
            "plot": plot_path or None,
        }
        files.commit()
        print_json(out)
        return 0
    files.commit()
    print(
        f"peaked-distribution mechanism: n = {n}, beta* = {beta_star:.10g}"
        + (f"  (mean teacher entropy {args.entropy})" if args.entropy is not None else "")
    )
    print("expansion  <ln Z> = beta c0 + c2/beta + c3/beta^2 + O(beta^-3)")
    print(f"  c0 = E[max h] = rho_n(0) = {nstr(co['c0'])}")
    print(f"  c2 = (pi^2/12) rho_n(0)  = {nstr(co['c2'])}")
    print(
        f"  c3 = tau3 zeta(3)/6      = {nstr(co['c3'])}   (three-way tie density tau3 = {nstr(co['tau3'])})"
    )
    print("regimes")
    if reg["high_temperature"]:
        print(
            f"  high temperature: beta* = {beta_star:.4g} < c0 = {reg['c0']:.4g}: exponential "
            "convergence, no power law"
        )
    else:
        lo, hi = reg["intermediate"]
        print(f"  early: beta < c0 = {reg['c0']:.4g} (beta grows linearly in tau)")
        if reg["has_intermediate"]:
            print(
                f"  intermediate: {lo:.4g} < beta < {hi:.4g}: L = c2/beta, beta^3 = 3 c2 tau/(n-1),"
                " L ~ tau^(-1/3)"
            )
        else:
            print(
                "  intermediate: no clean window (beta* too small for corrections < 5e-3); "
                "L ~ c2/beta while c0 << beta << beta*"
            )
        print(f"  saturation: beta -> beta* (exponential approach), beta > ~{reg['saturation']:.4g}")
    print(f"predicted  L tau^(1/3) -> c2^(2/3) ((n-1)/3)^(1/3) = {pref:.10g}")
    print(f"local slope at the plateau: {slope:.6f} at tau = {t_pl:.4g} (beta = {b_pl:.4g})")
    print(f"{'tau':>12} {'beta':>12} {'L (integrated)':>16} {'L (predicted)':>16} {'slope':>10}")
    for i in range(0, len(curve.tau), 8):
        print(
            f"{curve.tau[i]:12.4e} {curve.beta[i]:12.6g} {curve.loss[i]:16.8e} {pred[i]:16.8e} "
            f"{curve.slope[i]:10.5f}"
        )
    if plot_path:
        print(f"plot written to {plot_path}")
    return 0
