"""``asymptotics sparse``: exact expectations, series, expected loss, peak and exponents of the
sparse-feature mechanism (a stand-in model reproducing the abstract's claims of arXiv 2605.23591).

    asymptotics sparse --s 2 --a 0.5 --D 1000,10000 --N 50,100,400 [--digits 30]
                       [--simulate --seeds 64 [--seed 0]] [--order 3] [--M 100000] [--plot FILE] [--json]

``--json`` prints one JSON object: ``s``, ``a``, ``D``, ``N``, ``seen_expected``, ``missing_signal``,
``unseen_mass`` (lists over D; decimal strings with all requested digits when ``--digits`` is given,
floats otherwise), ``loss`` (theory of E L, a list over D of lists over N), ``peak_N`` (list over D),
``exponent_under``, ``exponent_over``, ``exponent_gap``; with ``--order k`` ``series`` (for each of the
three expectations the first k terms of its asymptotic series in D as [coefficient, power] pairs);
with ``--simulate`` ``simulated_loss`` and ``simulated_loss_se`` shaped like ``loss``.  Also
``model``, ``loss_median``, ``loss_kind`` ("mean"; or "median" within ``3 sd(rank) + 2`` of the
threshold, where the expected loss is infinite and heavy-tailed -- there ``loss`` holds the median),
``loss_parts`` (the three parts of the mean-field theory), ``threshold``, the simulated parts and
medians.

The parser is built so that sub-subcommands can be added (``asymptotics sparse frontier ...``): the
core options live on the ``sparse`` parser itself and :data:`SPARSE_SUBCOMMANDS` lists modules that
register sub-subcommands on the ``sparse`` parser's own subparsers; without one the core command runs.

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> p = register(sub)
>>> p.prog.endswith('sparse')
True
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

from asymptotics.cli_support import decimal_text
from asymptotics.validation import InvalidInputError

__all__ = ["SPARSE_SUBCOMMANDS", "parse_int_list", "register", "run"]

#: modules providing ``register(sparse_subparsers)`` for ``asymptotics sparse <name> ...``
SPARSE_SUBCOMMANDS: tuple = ("asymptotics.sparse.frontier_cli", "asymptotics.sparse.instability_cli")

MODEL_NAME = "a stand-in model reproducing the abstract's claims of arXiv 2605.23591"


def parse_int_list(name: str, text: str) -> list:
    """Comma-separated integers (1e3 notation accepted if integral); raises with a clear message.

    >>> parse_int_list("D", "1000,1e4")
    [1000, 10000]
    """
    if text is None:
        raise InvalidInputError(f"--{name} is required")
    out = []
    for tok in str(text).split(","):
        tok = tok.strip()
        if not tok:
            raise InvalidInputError(f"--{name}: empty entry in {text!r}")
        try:
            v = float(tok)
        except ValueError:
            raise InvalidInputError(f"--{name}: {tok!r} is not a number") from None
        if not math.isfinite(v):
            raise InvalidInputError(f"--{name}: {tok!r} is not finite")
        if not v.is_integer():
            raise InvalidInputError(f"--{name} must be integers, got {tok!r}")
        if v < 1:
            raise InvalidInputError(f"--{name} must be >= 1, got {tok!r}")
        out.append(int(v))
    return out


def register(subparsers):
    """Add the ``sparse`` subcommand (and any sub-subcommands of :data:`SPARSE_SUBCOMMANDS`)."""
    p = subparsers.add_parser(
        "sparse",
        help="sparse-feature mechanism: exact expectations, series, "
        "double-descent peak, asymmetric exponents",
        description="Sparse-feature mechanism (a stand-in model reproducing the "
        "abstract's claims of arXiv 2605.23591): exact expectations of the "
        "seen set, their asymptotic series in D, the learner's expected "
        "loss in both regimes, the double-descent peak and the two "
        "exponents; optionally simulated.",
    )
    p.add_argument(
        "--s",
        type=decimal_text,
        default=None,
        help="sparsity exponent s > 1 (p_i = min(1, i^-s)), a decimal kept exact for --digits",
    )
    p.add_argument(
        "--a",
        type=decimal_text,
        default=None,
        help="task exponent a > 0 (p_i w_i^2 = i^-(1+a)), a decimal kept exact for --digits",
    )
    p.add_argument("--D", default=None, help="sample sizes, comma-separated integers (<= 1e12)")
    p.add_argument("--N", default=None, help="feature counts, comma-separated integers")
    p.add_argument("--M", type=float, default=None, help="finite number of coordinates (default infinite)")
    p.add_argument(
        "--digits",
        type=int,
        default=None,
        help="digits of the exact expectations and series coefficients (10 ... 100)",
    )
    p.add_argument("--order", type=int, default=None, help="number of asymptotic-series terms (1 ... 12)")
    p.add_argument("--simulate", action="store_true", help="also simulate the learner")
    p.add_argument(
        "--seeds",
        type=int,
        default=None,
        help="simulated draws per (D, N) (default 64; 8 with --activation relu)",
    )
    p.add_argument(
        "--activation",
        default="linear",
        help="feature activation: linear (default; phi = F x) or relu (phi = ReLU(F x + b): "
        "simulation and the Gaussian-equivalence prediction)",
    )
    p.add_argument(
        "--bias",
        type=float,
        default=1.0,
        help="relu only: bias scale sigma_b, b_k ~ N(0, sigma_b^2/N) (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="master seed of the simulation (default 0)")
    p.add_argument(
        "--plot",
        default="output/sparse/sparse.png",
        help="PNG of loss vs N (default output/sparse/sparse.png; '' for none; not with --json)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.set_defaults(handler=run)
    if SPARSE_SUBCOMMANDS:
        sub = p.add_subparsers(dest="sparse_command", metavar="SUBCOMMAND", parser_class=type(p))
        for name in SPARSE_SUBCOMMANDS:
            importlib.import_module(name).register(sub)
    return p


def _check(args):
    if args.s is None or args.a is None:
        raise InvalidInputError("--s and --a are required")
    if args.activation not in ("linear", "relu"):
        raise InvalidInputError(f"unknown activation {args.activation!r}; choose linear or relu")
    if args.seeds is None:
        args.seeds = 64 if args.activation == "linear" else 8
    # the decimals as typed feed the exact model (--digits); the floats everything else
    args.s_text, args.a_text = args.s, args.a
    args.s, args.a = float(args.s), float(args.a)
    for name in ("s", "a"):
        v = getattr(args, name)
        if not math.isfinite(v):
            raise InvalidInputError(f"--{name} must be finite, got {v}")
    if not args.s > 1:
        raise InvalidInputError(f"--s must be > 1, got {args.s}")
    if not args.a > 0:
        raise InvalidInputError(f"--a must be > 0, got {args.a}")
    Ds = parse_int_list("D", args.D)
    Ns = parse_int_list("N", args.N)
    if max(Ds) > 10**12:
        raise InvalidInputError(f"--D must be <= 1e12, got {max(Ds)}")
    if max(Ns) > 10**9:
        raise InvalidInputError(f"--N must be <= 1e9, got {max(Ns)}")
    if args.digits is not None and not 10 <= args.digits <= 100:
        raise InvalidInputError(f"--digits must be between 10 and 100, got {args.digits}")
    if args.order is not None and not 1 <= args.order <= 12:
        raise InvalidInputError(f"--order must be between 1 and 12, got {args.order}")
    M = None
    if args.M is not None:
        if not math.isfinite(args.M) or not float(args.M).is_integer() or args.M < 1:
            raise InvalidInputError(f"--M must be a positive integer, got {args.M}")
        M = int(args.M)
        if args.order is not None:
            raise InvalidInputError("--order (the series in D) needs M infinite; drop --M")
    if args.activation == "relu":
        if M is not None or args.digits is not None or args.order is not None:
            raise InvalidInputError("--activation relu takes no --M, --digits or --order")
        if max(Ds) > 5000:
            raise InvalidInputError(f"--activation relu simulates D <= 5000, got {max(Ds)}")
        if max(Ns) > 20000:
            raise InvalidInputError(f"--activation relu simulates N <= 20000, got {max(Ns)}")
        if not (math.isfinite(args.bias) and args.bias >= 0):
            raise InvalidInputError(f"--bias must be >= 0 and finite, got {args.bias}")
        if not 2 <= args.seeds <= 10000:
            raise InvalidInputError(f"--seeds must be between 2 and 10000, got {args.seeds}")
    if args.simulate:
        if max(Ds) > 10**6:
            raise InvalidInputError(f"--simulate handles D <= 1e6, got {max(Ds)}")
        if max(Ns) > 20000:
            raise InvalidInputError(f"--simulate handles N <= 20000, got {max(Ns)}")
        if not 2 <= args.seeds <= 100000:
            raise InvalidInputError(f"--seeds must be between 2 and 100000, got {args.seeds}")
        if args.seed < 0:
            raise InvalidInputError(f"--seed must be >= 0, got {args.seed}")
    return Ds, Ns, M


def _number(x) -> float:
    v = float(x)
    if not math.isfinite(v):
        raise InvalidInputError("a result is not finite (numerical failure); nothing written")
    return v


def run(args) -> int:
    """Run ``asymptotics sparse`` (core form); prints a table or one JSON object; returns 0."""
    if getattr(args, "sparse_command", None):
        return 0  # handled by the sub-subcommand's own handler
    Ds, Ns, M = _check(args)
    if args.activation == "relu":
        return _run_relu(args, Ds, Ns)
    import mpmath
    import numpy as np

    from asymptotics.sparse.expectations import expectation
    from asymptotics.sparse.exponents import exponent_values
    from asymptotics.sparse.learner import LossTheory
    from asymptotics.sparse.model import SparseModel
    from asymptotics.sparse.peak import PeakModel, find_peak

    model = SparseModel(args.s_text, args.a_text, M=M)
    names = ("seen_expected", "missing_signal", "unseen_mass")
    exact = {}
    for name in names:
        if args.digits is None:
            exact[name] = [_number(v) for v in expectation(name, model, Ds)]
        else:
            exact[name] = [
                mpmath.nstr(v, args.digits, strip_zeros=False)
                for v in expectation(name, model, Ds, digits=args.digits)
            ]
    loss, loss_median, loss_kind, thresholds, peaks, parts = [], [], [], [], [], []
    for D in Ds:
        th = LossTheory(model, D)
        pk = PeakModel(th)
        row, rmed, rkind = [], [], []
        for N in Ns:
            med = pk.median(N)
            try:
                r = th.loss(N)
                if r["near_peak"]:  # heavy-tailed band: the median is the prediction
                    row.append(_number(med)), rkind.append("median")
                else:
                    row.append(_number(r["loss"])), rkind.append("mean")
                parts.append(
                    {
                        "D": D,
                        "N": N,
                        "regime": r["regime"],
                        "near_peak": r["near_peak"],
                        "seen_fit": _number(r["seen_fit"]),
                        "missing_signal": _number(r["missing_signal"]),
                        "aliasing": _number(r["aliasing"]),
                    }
                )
            except InvalidInputError:  # at the threshold: expectation infinite
                row.append(_number(med)), rkind.append("median")
            rmed.append(_number(med))
        loss.append(row), loss_median.append(rmed), loss_kind.append(rkind)
        thresholds.append(_number(th.threshold))
        peaks.append(find_peak(th)["peak_N"])
    ev = exponent_values(SparseModel(args.s, args.a))
    out = {
        "model": MODEL_NAME,
        "s": args.s,
        "a": args.a,
        "M": M if M is not None else "infinite",
        "D": Ds,
        "N": Ns,
        **exact,
        "loss": loss,
        "loss_median": loss_median,
        "loss_kind": loss_kind,
        "loss_parts": parts,
        "threshold": thresholds,
        "peak_N": peaks,
        "exponent_under": ev["exponent_under"],
        "exponent_over": ev["exponent_over"],
        "exponent_gap": ev["exponent_gap"],
        "prefactor_under": ev["prefactor_under"],
        "prefactor_over": ev["prefactor_over"],
        "exactness": {
            "seen_expected": "exact",
            "missing_signal": "exact",
            "unseen_mass": "exact",
            "loss": "asymptotic (deterministic equivalent; over-parameterised part exact given the data)",
            "loss_median": "asymptotic",
        },
    }
    if args.order is not None:
        from asymptotics.sparse.series import asymptotic_series

        out["series"] = {}
        for name in names:
            rows = asymptotic_series(name, model, args.order, digits=args.digits)
            out["series"][name] = [[r["coefficient"], r["power"]] for r in rows]
            if any(r["log_power"] for r in rows):
                out.setdefault("series_log_power", {})[name] = [r["log_power"] for r in rows]
    if args.simulate:
        from asymptotics.sparse.simulate import simulate, summarize

        bar = None
        if not args.quiet:
            from tqdm import tqdm

            bar = tqdm(total=len(Ds) * args.seeds, file=sys.stderr, desc="simulating", leave=False)
        sims = {
            "simulated_loss": [],
            "simulated_loss_se": [],
            "simulated_loss_median": [],
            "simulated_seen_fit": [],
            "simulated_missing_signal": [],
            "simulated_aliasing": [],
        }
        for D in Ds:
            done = [0]

            def prog(k, total, done=done):
                if bar is not None:
                    bar.update(k - done[0])
                done[0] = k

            res = summarize(simulate(model, D, Ns, seeds=args.seeds, seed=args.seed, progress=prog))
            sims["simulated_loss"].append([_number(v) for v in res["loss"]["mean"]])
            sims["simulated_loss_se"].append([_number(v) for v in res["loss"]["se"]])
            sims["simulated_loss_median"].append([_number(v) for v in res["loss"]["median"]])
            for k in ("seen_fit", "missing_signal", "aliasing"):
                sims[f"simulated_{k}"].append([_number(v) for v in res[k]["mean"]])
        if bar is not None:
            bar.close()
        out.update(sims)
        out["simulation"] = {"seeds": args.seeds, "seed": args.seed}
    plot_path = None
    if args.plot and not args.json:
        plot_path = _plot(args.plot, model, Ds, Ns, out)
        out["plot"] = plot_path
    if args.json:
        print(json.dumps(out))
        return 0
    _print_table(out, Ds, Ns, np)
    if plot_path:
        print(f"plot written to {plot_path}")
    return 0


def _run_relu(args, Ds, Ns) -> int:
    """``--activation relu``: simulated population loss (finite N and infinite width) and the
    Gaussian-equivalence prediction (:mod:`asymptotics.sparse.relu`)."""
    import numpy as np

    from asymptotics.cli_support import print_json
    from asymptotics.sparse.expectations import missing_signal, seen_expected
    from asymptotics.sparse.model import SparseModel
    from asymptotics.sparse.relu import get_prediction, simulate_relu

    model = SparseModel(args.s, args.a)
    out = {
        "model": MODEL_NAME,
        "activation": "relu",
        "features": "phi_k = ReLU(F_k . x + b_k), F_ki ~ N(0, 1/N), "
        "b_k ~ N(0, bias^2/N); minimum-norm least squares",
        "bias": args.bias,
        "s": args.s,
        "a": args.a,
        "D": Ds,
        "N": Ns,
        "seeds": args.seeds,
        "seed": args.seed,
        "seen_expected": [float(v) for v in seen_expected(model, Ds)],
        "missing_signal": [float(v) for v in missing_signal(model, Ds)],
        "simulated_loss": [],
        "simulated_loss_se": [],
        "simulated_loss_median": [],
        "feature_rank": [],
        "simulated_floor": [],
        "simulated_floor_se": [],
        "loss_gaussian_equivalence": [],
        "floor_gaussian_equivalence": [],
        "exponent_over": -args.a / args.s,
        "exactness": {
            "missing_signal": "exact",
            "simulated_loss": "exact missing signal + stratified fresh test set (standard error included)",
            "gaussian_equivalence": "approximation",
        },
    }
    grid = [float(n) for n in Ns] + [math.inf]
    for D in Ds:
        res = simulate_relu(model, D, grid, seeds=args.seeds, seed=args.seed, bias=args.bias)
        S = res.summary()
        out["simulated_loss"].append([_number(v) for v in S["mean"][:-1]])
        out["simulated_loss_se"].append([_number(v) for v in S["se"][:-1]])
        out["simulated_loss_median"].append([_number(v) for v in S["median"][:-1]])
        out["feature_rank"].append([_number(v) for v in S["rank_mean"][:-1]])
        out["simulated_floor"].append(_number(S["mean"][-1]))
        out["simulated_floor_se"].append(_number(S["se"][-1]))
        ok = [n for n in Ns if n < D / 2]
        out["loss_gaussian_equivalence"].append(
            {"N": ok, "loss": [_number(get_prediction(model, D, n, bias=args.bias)["loss"]) for n in ok]}
        )
        out["floor_gaussian_equivalence"].append(
            _number(get_prediction(model, D, math.inf, bias=args.bias)["loss"])
        )
    if len(Ds) >= 2:
        out["exponent_over_simulated"] = float(np.polyfit(np.log(Ds), np.log(out["simulated_floor"]), 1)[0])
    if args.json:
        print_json(out)
        return 0
    print(
        f"sparse features with ReLU activation: s = {args.s}, a = {args.a}, bias = {args.bias} ({MODEL_NAME})"
    )
    for i, D in enumerate(Ds):
        print(
            f"\nD = {D}: E|S| = {out['seen_expected'][i]:.6g}, missing signal = {out['missing_signal'][i]:.6g}, "
            f"infinite-width floor {out['simulated_floor'][i]:.6g} +- {out['simulated_floor_se'][i]:.2g} "
            f"(Gaussian equivalence {out['floor_gaussian_equivalence'][i]:.6g})"
        )
        geq = dict(zip(out["loss_gaussian_equivalence"][i]["N"], out["loss_gaussian_equivalence"][i]["loss"]))
        print(f"  {'N':>8} {'simulated':>12} {'+- se':>10} {'rank Phi':>9} {'Gauss. equiv.':>14}")
        for j, N in enumerate(Ns):
            g = f"{geq[N]:>14.6g}" if N in geq else f"{'--':>14}"
            print(
                f"  {N:>8} {out['simulated_loss'][i][j]:>12.6g} {out['simulated_loss_se'][i][j]:>10.2g} "
                f"{out['feature_rank'][i][j]:>9.1f} {g}"
            )
    if "exponent_over_simulated" in out:
        print(
            f"\nfloor exponent: simulated {out['exponent_over_simulated']:+.4g}, -a/s = {out['exponent_over']:+.4g}"
        )
    return 0


def _print_table(out, Ds, Ns, np):
    print(f"sparse features: s = {out['s']}, a = {out['a']}, M = {out['M']} ({out['model']})")
    print(
        f"exponents: under-parameterised (N) {out['exponent_under']:+.6g}, over-parameterised floor (D) "
        f"{out['exponent_over']:+.6g}, gap a(1 - 1/s) = {out['exponent_gap']:.6g}"
    )
    for i, D in enumerate(Ds):
        print(
            f"\nD = {D}: E|S| = {out['seen_expected'][i]}, missing signal = {out['missing_signal'][i]}, "
            f"unseen mass = {out['unseen_mass'][i]}"
        )
        print(
            f"  threshold (E rank) = {out['threshold'][i]:.6g}, peak of the median at N = {out['peak_N'][i]}"
        )
        head = f"  {'N':>8} {'E L (theory)':>14} {'median':>12}"
        if "simulated_loss" in out:
            head += f" {'simulated':>12} {'+- se':>10} {'sim median':>12}"
        print(head)
        for j, N in enumerate(Ns):
            kind = "" if out["loss_kind"][i][j] == "mean" else "*"
            line = f"  {N:>8} {out['loss'][i][j]:>13.6g}{kind or ' '} {out['loss_median'][i][j]:>12.6g}"
            if "simulated_loss" in out:
                line += (
                    f" {out['simulated_loss'][i][j]:>12.6g} {out['simulated_loss_se'][i][j]:>10.2g}"
                    f" {out['simulated_loss_median'][i][j]:>12.6g}"
                )
            print(line)
    if any(k != "mean" for row in out["loss_kind"] for k in row):
        print("  (* near the threshold the expected loss is infinite / heavy-tailed: the median is shown)")
    if "series" in out:
        print("\nasymptotic series in D (coefficient, power):")
        for name, rows in out["series"].items():
            print(f"  {name}: " + ", ".join(f"({c}, {p})" for c, p in rows))


def _plot(path, model, Ds, Ns, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from asymptotics.analysis.plots import apply_style
    from asymptotics.sparse.learner import LossTheory
    from asymptotics.sparse.peak import PeakModel

    apply_style()
    fig, ax = plt.subplots()
    for i, D in enumerate(Ds):
        th = LossTheory(model, D)
        pk = PeakModel(th)
        grid = np.unique(np.round(np.geomspace(1, max(max(Ns), 3 * th.threshold), 120)).astype(int))
        med = [pk.median(int(n)) for n in grid]
        (line,) = ax.loglog(grid, med, label=f"D = {D}: median (theory)")
        mean = []
        for n in grid:
            try:
                mean.append(th.loss(int(n))["loss"])
            except InvalidInputError:
                mean.append(np.nan)
        ax.loglog(grid, mean, ":", color=line.get_color(), lw=1.0)
        ax.axvline(out["peak_N"][i], color=line.get_color(), ls="--", lw=0.8)
        if "simulated_loss" in out:
            ax.errorbar(
                Ns,
                out["simulated_loss"][i],
                yerr=out["simulated_loss_se"][i],
                fmt="o",
                ms=3,
                color=line.get_color(),
                label=f"D = {D}: simulated mean",
            )
            ax.plot(Ns, out["simulated_loss_median"][i], "x", color=line.get_color(), ms=4)
    ax.set_xlabel("N (features)")
    ax.set_ylabel("population loss")
    ax.set_title(
        f"sparse features s = {model.s}, a = {model.a} (dotted: E L theory, dashed: peak)", fontsize=9
    )
    ax.legend(fontsize=7)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return str(path)
