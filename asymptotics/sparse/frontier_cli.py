"""``asymptotics sparse frontier``: the compute-optimal frontier of the sparse-feature mechanism
(a stand-in model reproducing the abstract's claims of arXiv 2605.23591).

    asymptotics sparse frontier --s 2 --a 0.5 --C 1e4,1e6,1e8 [--ridge optimal|0|LAMBDA] [--c 1]
                                [--plot FILE] [--json]

``--json`` prints one JSON object with the lists ``C``, ``N_opt``, ``D_opt``, ``loss_opt`` (the
optimum on the theory's expected-loss surface at ``c N D = C``; N and D real) and the derived exponents
``exponent_N = 1/(1+s)``, ``exponent_D = s/(1+s)``, ``exponent_loss = -a/(1+s)``; also ``model``,
``ridge``, the measured exponents (least-squares slopes over the C values given, with two or more),
the caricature optimum ``N_caricature`` (closed form for ``A N^-a + B D^-a/s``), the regime of each
optimum and, for ``--ridge optimal``, the optimal ridge at each optimum.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> p = register(sub)
>>> p.prog.endswith('frontier')
True
"""

from __future__ import annotations

import math

from asymptotics.cli_support import finite_float
from asymptotics.validation import InvalidInputError

__all__ = ["register", "run", "parse_ridge"]

MODEL_NAME = "a stand-in model reproducing the abstract's claims of arXiv 2605.23591"


def parse_ridge(text: str):
    """``optimal`` or a number >= 0 (0: ridgeless).

    >>> parse_ridge("optimal"), parse_ridge("0"), parse_ridge("1e-3")
    ('optimal', 0.0, 0.001)
    >>> parse_ridge("-1")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: --ridge must be 'optimal' or a number >= 0, got '-1'
    """
    t = str(text).strip().lower()
    if t == "optimal":
        return "optimal"
    try:
        v = float(t)
    except ValueError:
        raise InvalidInputError(f"--ridge must be 'optimal' or a number >= 0, got {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise InvalidInputError(f"--ridge must be 'optimal' or a number >= 0, got {text!r}")
    if v > 10:
        raise InvalidInputError(f"--ridge must be <= 10, got {text!r}")
    return v


def register(subparsers):
    p = subparsers.add_parser(
        "frontier",
        help="compute-optimal frontier N*(C), D*(C), L*(C) at C = c N D",
        description="Compute-optimal frontier of the sparse-feature mechanism (" + MODEL_NAME + "): the "
        "optimum of the expected-loss surface at compute C = c N D, ridgeless (the band "
        "around the interpolation threshold, where the expected loss is infinite, excluded) "
        "or at the optimal ridge, with the derived exponents 1/(1+s), s/(1+s), -a/(1+s).",
    )
    p.add_argument("--s", type=finite_float, required=True, help="sparsity exponent s > 1")
    p.add_argument("--a", type=finite_float, required=True, help="task exponent a > 0")
    p.add_argument("--C", required=True, help="compute values, comma-separated (> 0; C/c <= 1e15)")
    p.add_argument("--c", type=finite_float, default=1.0, help="compute per parameter per sample (default 1)")
    p.add_argument("--ridge", default="0", help="'optimal', or a ridge lambda >= 0 (default 0: ridgeless)")
    p.add_argument("--plot", default="", help="PNG of the frontier (default none)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.set_defaults(handler=run)
    return p


def _check(args):
    from asymptotics.cli_support import check_output_file, float_list

    if not args.s > 1:
        raise InvalidInputError(f"--s must be > 1, got {args.s}")
    if not args.a > 0:
        raise InvalidInputError(f"--a must be > 0, got {args.a}")
    if args.s > 50 or args.a > 50:
        raise InvalidInputError("--s and --a must be <= 50")
    Cs = float_list("--C", args.C)
    if min(Cs) <= 0:
        raise InvalidInputError(f"--C values must be > 0, got {min(Cs):g}")
    if not (math.isfinite(args.c) and args.c > 0):
        raise InvalidInputError(f"--c must be > 0, got {args.c}")
    if max(Cs) / args.c > 1e15:
        raise InvalidInputError(f"--C/c must be <= 1e15, got {max(Cs) / args.c:g}")
    ridge = parse_ridge(args.ridge)
    plot = check_output_file(args.plot, "--plot") if args.plot else None
    return Cs, ridge, plot


def run(args) -> int:
    Cs, ridge, plot = _check(args)
    import numpy as np

    from asymptotics.cli_support import OutputFiles, figure_png, print_json
    from asymptotics.sparse.exponents import exponent_values
    from asymptotics.sparse.frontier import (
        FixedRidgeSurface,
        OptimalRidgeSurface,
        PowerLawSurface,
        RidgelessSurface,
        frontier,
        frontier_exponents,
    )
    from asymptotics.sparse.model import SparseModel

    model = SparseModel(args.s, args.a)
    if ridge == "optimal":
        surf = OptimalRidgeSurface(model)
    elif ridge == 0:
        surf = RidgelessSurface(model)
    else:
        surf = FixedRidgeSurface(model, ridge)
    for C in Cs:
        surf.search_bounds(C, args.c)  # too small a C: a clear error before the work
    fr = frontier(surf, Cs, args.c)
    order = np.argsort(np.asarray(Cs), kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(order.size)  # report in the order given
    ex = frontier_exponents(args.s, args.a)
    ev = exponent_values(model)
    car = PowerLawSurface(ev["prefactor_under"], args.a, ev["prefactor_over"], args.a / args.s)
    details = [surf.details(n, d) for n, d in zip(fr.N, fr.D)]
    out = {
        "model": MODEL_NAME,
        "s": args.s,
        "a": args.a,
        "c": args.c,
        "ridge": ridge if ridge == "optimal" else float(ridge),
        "surface": surf.name,
        "C": [float(Cs[i]) for i in range(len(Cs))],
        "N_opt": [float(fr.N[inv[i]]) for i in range(len(Cs))],
        "D_opt": [float(fr.D[inv[i]]) for i in range(len(Cs))],
        "loss_opt": [float(fr.loss[inv[i]]) for i in range(len(Cs))],
        "regime": [details[inv[i]]["regime"] for i in range(len(Cs))],
        "N_over_threshold": [float(fr.N[inv[i]] / details[inv[i]]["threshold"]) for i in range(len(Cs))],
        **ex,
        "exponents_derivation": "stationarity of the Lagrangian L + mu (c N D - C) (SymPy, "
        "asymptotics.sparse.frontier.derive_frontier); the scaling form "
        "L = D^(-a/s) f(N D^(-1/s)) gives the caricature's exponents",
        "N_caricature": [float(car.closed_form(C, args.c)[0]) for C in Cs],
    }
    if ridge == "optimal":
        out["ridge_opt"] = [float(details[inv[i]]["ridge"]) for i in range(len(Cs))]
    if len(Cs) >= 2 and len(set(Cs)) == len(Cs):
        mN, mD, mL = fr.measured_exponents()
        out.update({"exponent_N_measured": mN, "exponent_D_measured": mD, "exponent_loss_measured": mL})
    if plot:
        files = OutputFiles()
        files.add(plot, figure_png(_figure(fr, ex, model)))
        files.commit()
        out["plot"] = str(plot)
    if args.json:
        print_json(out)
        return 0
    print(
        f"compute-optimal frontier, s = {args.s}, a = {args.a}, c = {args.c}, ridge = {out['ridge']} "
        f"({MODEL_NAME})"
    )
    print(
        f"derived exponents: N* ~ C^{ex['exponent_N']:.6g}, D* ~ C^{ex['exponent_D']:.6g}, "
        f"L* ~ C^{ex['exponent_loss']:.6g}"
    )
    if "exponent_N_measured" in out:
        print(
            f"measured over the C given: {out['exponent_N_measured']:.6g}, {out['exponent_D_measured']:.6g}, "
            f"{out['exponent_loss_measured']:.6g}"
        )
    print(f"  {'C':>10} {'N*':>12} {'D*':>12} {'L*':>12} {'N*/E rank':>10} {'N* caricature':>14}")
    for i, C in enumerate(Cs):
        print(
            f"  {C:>10.4g} {out['N_opt'][i]:>12.6g} {out['D_opt'][i]:>12.6g} {out['loss_opt'][i]:>12.6g} "
            f"{out['N_over_threshold'][i]:>10.4g} {out['N_caricature'][i]:>14.6g}"
        )
    if plot:
        print(f"plot written to {plot}")
    return 0


def _figure(fr, ex, model):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from asymptotics.analysis.plots import apply_style

    apply_style()
    fig, ax = plt.subplots()
    for vals, key, label in (
        (fr.N, "exponent_N", "N*"),
        (fr.D, "exponent_D", "D*"),
        (fr.loss, "exponent_loss", "L*"),
    ):
        (line,) = ax.loglog(fr.C, vals, "o-", ms=3, label=f"{label} (theory optimum)")
        ax.loglog(
            fr.C,
            vals[-1] * (fr.C / fr.C[-1]) ** ex[key],
            ":",
            color=line.get_color(),
            label=f"C^{ex[key]:.3g} (derived)",
        )
    ax.set_xlabel("compute C = c N D")
    ax.set_title(f"frontier, s = {model.s}, a = {model.a} (stand-in model)", fontsize=9)
    ax.legend(fontsize=7)
    return fig
