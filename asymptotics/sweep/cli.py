"""``asymptotics sweep curve|simulate``: parameter grids on Dask with a result cache.

Examples::

    asymptotics sweep curve --K 2,3,5 --eta 0.25,0.5,1,2 --alpha 1e2,1e4,1e6 --out sweeps/grid1
    asymptotics sweep simulate --K 3 --eta 1 --N 250,500,1000,2000,4000,8000 --seeds 64 --out sweeps/sgd
    asymptotics sweep curve --K 2 --eta 0.5,1 --alpha 10,100 --scheduler tcp://127.0.0.1:8786 --json

A point of ``curve`` is one (K, eta): the closure integrated once and recorded at every ``--alpha``.
A point of ``simulate`` is one block of ``--seeds-per-point`` SGD seeds at one (K, eta, N); the
``--seeds`` seeds of each (K, eta, N) are split into blocks with batch seeds ``--seed``, ``--seed`` + 1,
...  Every finished point is cached under ``<out>/cache`` (or ``--cache``): rerunning the same
command computes only what is missing; ``--force`` recomputes everything.

Files written to ``--out``: ``table.csv`` and ``table.parquet`` (one row per point and recorded
alpha), ``provenance.json``, and for ``simulate`` also ``summary.csv`` (all blocks of a (K, eta, N)
pooled: mean, seed-to-seed standard deviation and standard error per alpha).  With ``--json``
stdout holds one JSON object: ``points, done, failed, cached, table`` (path of the CSV), ``rows``
(the table's rows) and a few more keys (``computed, parquet, provenance, summary``).

Exit status: the number of failed points (at most 100), 0 when every point succeeded; bad input
prints one ``error:`` line, exits 2 and writes nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from asymptotics.cli_support import check_output_dir
from asymptotics.validation import InvalidInputError

__all__ = ["register", "run_curve", "run_simulate"]

MAX_EXIT_FAILURES = 100


def _add_common(p, command: str) -> None:
    p.add_argument("--K", default="3", help="comma-separated numbers of classes, default 3")
    p.add_argument("--eta", default="1", help="comma-separated learning rates, default 1")
    p.add_argument(
        "--out",
        default=f"output/sweep/{command}",
        help=f"folder for the table, provenance and (by default) the cache; default output/sweep/{command}",
    )
    p.add_argument(
        "--cache", default=None, help="cache folder (default <out>/cache); share it between sweeps"
    )
    p.add_argument("--force", action="store_true", help="recompute every point, even if cached")
    p.add_argument(
        "--scheduler",
        default=None,
        help="address of a running Dask scheduler (tcp://host:port), or 'synchronous'",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local worker processes (default: one per CPU; 1 = in-process, no Dask)",
    )
    p.add_argument(
        "--retries", type=int, default=3, help="resubmissions of a point lost to a dead worker, default 3"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")


def register(subparsers) -> None:
    """Add ``sweep curve`` and ``sweep simulate`` to an argparse ``subparsers`` object."""
    sweep = subparsers.add_parser(
        "sweep",
        help="run the closure or SGD over parameter grids on Dask, with a result cache",
        description="Parameter grids on a local Dask cluster (default) or any Dask scheduler, with a "
        "content-addressed result cache: interrupted sweeps resume, repeated points are free.",
    )
    sub = sweep.add_subparsers(dest="sweep_command", metavar="KIND", parser_class=type(sweep))
    sweep.set_defaults(handler=lambda args: _usage(sweep))

    c = sub.add_parser(
        "curve",
        help="exact closure curves over K x eta",
        description="One point per (K, eta): the exact closure from W(0) = 0 recorded at --alpha.",
    )
    _add_common(c, "curve")
    c.add_argument("--alpha", default="1,10,100", help="comma-separated recorded alphas, default 1,10,100")
    c.add_argument(
        "--rtol", type=float, default=1e-10, help="ODE relative tolerance (precision), default 1e-10"
    )
    c.set_defaults(handler=run_curve)

    s = sub.add_parser(
        "simulate",
        help="finite-N online SGD over K x eta x N, seeds split into blocks",
        description="One point per (K, eta, N, block of seeds): online SGD recorded at --alpha.",
    )
    _add_common(s, "simulate")
    s.add_argument("--N", default="1000", help="comma-separated input dimensions, default 1000")
    s.add_argument("--seeds", type=int, default=8, help="seeds per (K, eta, N), default 8")
    s.add_argument("--seeds-per-point", type=int, default=16, help="seeds per point (block), default 16")
    s.add_argument("--seed", type=int, default=0, help="batch seed of the first block, default 0")
    s.add_argument("--alpha", default="1,2,5,10", help="comma-separated recorded alphas, default 1,2,5,10")
    s.add_argument(
        "--n-test",
        type=int,
        default=4000,
        help="test inputs per seed and alpha for eps_g and L (precision), default 4000",
    )
    s.set_defaults(handler=run_simulate)


def _usage(parser) -> int:
    parser.print_help(sys.stderr)
    return 2


# ----------------------------------------------------------------------------------------------------
# validation (everything is decided before any work or any file)


def _check_int(flag: str, value, minimum: int) -> int:
    if value is None or isinstance(value, bool) or int(value) != value or value < minimum:
        raise InvalidInputError(f"{flag} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_out(args) -> tuple[Path, Path]:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InvalidInputError(f"--out {out} exists and is not a folder")
    cache = Path(args.cache) if args.cache else out / "cache"
    if cache.exists() and not cache.is_dir():
        raise InvalidInputError(f"--cache {cache} exists and is not a folder")
    check_output_dir(out, "--out")
    check_output_dir(cache, "--cache")
    return out, cache


def _check_where(args) -> None:
    if args.workers is not None:
        _check_int("--workers", args.workers, 1)
        if args.scheduler is not None:
            raise InvalidInputError("give either --scheduler or --workers, not both")
    if args.scheduler is not None:
        from asymptotics.sweep.runner import _check_scheduler_address

        _check_scheduler_address(args.scheduler)
    _check_int("--retries", args.retries, 0)


def _recorded_alphas(text: str) -> list[float]:
    from asymptotics.sweep.grid import parse_float_list

    return sorted(parse_float_list("--alpha", text))


# ----------------------------------------------------------------------------------------------------
# the two commands


def run_curve(args) -> int:
    """``asymptotics sweep curve``."""
    from asymptotics.sweep.grid import parse_float_list, parse_int_list, product_grid

    Ks = parse_int_list("--K", args.K, minimum=2)
    etas = parse_float_list("--eta", args.eta)
    alphas = _recorded_alphas(args.alpha)
    if not (isinstance(args.rtol, float) and 1e-14 <= args.rtol <= 1e-2):
        raise InvalidInputError(f"--rtol must lie in [1e-14, 1e-2], got {args.rtol!r}")
    _check_where(args)
    out, cache = _check_out(args)
    points = product_grid({"K": Ks, "eta": etas}, fixed={"alphas": alphas})
    return _run(args, "asymptotics.sweep.tasks:closure_curve", points, {"rtol": args.rtol}, out, cache)


def run_simulate(args) -> int:
    """``asymptotics sweep simulate``."""
    from asymptotics.sweep.grid import parse_float_list, parse_int_list

    Ks = parse_int_list("--K", args.K, minimum=2)
    etas = parse_float_list("--eta", args.eta)
    Ns = parse_int_list("--N", args.N, minimum=2)
    if min(Ns) < max(Ks):
        raise InvalidInputError(f"every --N must be >= the largest K ({max(Ks)}), got N = {min(Ns)}")
    seeds = _check_int("--seeds", args.seeds, 1)
    per = _check_int("--seeds-per-point", args.seeds_per_point, 1)
    seed0 = _check_int("--seed", args.seed, 0)
    n_test = _check_int("--n-test", args.n_test, 1)
    alphas = _recorded_alphas(args.alpha)
    if min(alphas) * min(Ns) < 1:
        raise InvalidInputError(
            f"the first --alpha must be at least one step: alpha * N >= 1, got {min(alphas)} * {min(Ns)}"
        )
    _check_where(args)
    out, cache = _check_out(args)
    sizes = [min(per, seeds - start) for start in range(0, seeds, per)]
    points = [
        {"K": K, "eta": eta, "N": N, "seeds": size, "seed": seed0 + b, "alphas": alphas}
        for K in Ks
        for eta in etas
        for N in Ns
        for b, size in enumerate(sizes)
    ]
    return _run(
        args,
        "asymptotics.sweep.tasks:sgd_block",
        points,
        {"n_test": n_test},
        out,
        cache,
        summarise=_simulate_summary,
    )


def _simulate_summary(result, out: Path) -> dict:
    """Pool the blocks of each (K, eta, N) and write ``summary.csv``; return its path."""
    import pandas as pd

    from asymptotics.sweep.tasks import OBSERVABLES, combine_blocks

    groups: dict = {}
    for rec in result.records:
        p = rec["params"]
        g = groups.setdefault((p["K"], p["eta"], p["N"]), {"ok": [], "failed": 0})
        if rec["status"] == "ok":
            g["ok"].append(rec["result"])
        else:
            g["failed"] += 1
    rows = []
    for (K, eta, N), g in groups.items():
        if not g["ok"]:
            continue
        pooled = combine_blocks(g["ok"])
        for j, alpha in enumerate(pooled["alpha"]):
            row = {
                "K": K,
                "eta": eta,
                "N": N,
                "alpha": alpha,
                "seeds": pooled["seeds"],
                "blocks_failed": g["failed"],
            }
            for name in OBSERVABLES:
                for suffix in ("", "_sd", "_se"):
                    row[f"{name}{suffix}"] = pooled[f"{name}{suffix}"][j]
            rows.append(row)
    path = out / "summary.csv"
    tmp = out / ".summary.csv.tmp"
    pd.DataFrame(rows).to_csv(tmp, index=False, float_format=lambda x: repr(float(x)))
    tmp.replace(path)
    return {"summary": str(path)}


def _command_line(args) -> list[str]:
    """The effective command (every option, defaults included), for the provenance record."""
    words = ["asymptotics", "sweep", args.sweep_command]
    for name, value in sorted(vars(args).items()):
        if name in ("handler", "sweep_command", "command") or value is None or value is False:
            continue
        words.append(f"--{name.replace('_', '-')}")
        if value is not True:
            words.append(str(value))
    return words


def _run(args, function: str, points: list, precision: dict, out: Path, cache: Path, summarise=None) -> int:
    from asymptotics.sweep.runner import run_sweep
    from asymptotics.sweep.table import provenance, table_rows, write_json_atomic, write_table

    result = run_sweep(
        function,
        points,
        precision=precision,
        cache=cache,
        force=args.force,
        scheduler=args.scheduler,
        workers=args.workers,
        progress=not args.quiet,
        retries=args.retries,
    )
    paths = write_table(result.table(), out)
    extra = summarise(result, out) if summarise is not None else {}
    prov = provenance(result, command=_command_line(args), extra={"cache": str(cache), "out": str(out)})
    paths["provenance"] = str(write_json_atomic(out / "provenance.json", prov))
    summary = {
        "points": result.points,
        "done": result.done,
        "failed": result.failed,
        "cached": result.cached,
        "computed": result.computed,
        "table": paths["csv"],
        "parquet": paths["parquet"],
        "provenance": paths["provenance"],
        **extra,
    }
    if args.json:
        summary["rows"] = table_rows(result.records)
        json.dump(summary, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(
            f"# sweep {result.function} on {result.where}: {result.points} points, {result.done} done "
            f"({result.cached} from the cache, {result.computed} computed), {result.failed} failed, "
            f"{result.elapsed:.1f} s"
        )
        for rec in result.records:
            if rec["status"] == "failed":
                print(f"failed: {rec['params']}: {rec['error']}")
        print(
            "wrote "
            + ", ".join(str(v) for v in paths.values())
            + ("" if not extra else ", " + ", ".join(extra.values()))
        )
    return min(result.failed, MAX_EXIT_FAILURES)
