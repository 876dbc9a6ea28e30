"""``asymptotics curve``: the exact closure learning curve on a logarithmic alpha grid.

Examples::

    asymptotics curve --K 3 --eta 1 --alpha-max 1e6
    asymptotics curve --K 2 --eta 0.5 --alpha 1,10,100 --json

Limits (checked before any work): ``alpha <= 1e12`` (the closure's D stays inside the validated
domain of the moments), at most 100000 grid points, ``1e-6 <= eta <= 1e3``.  With ``--json`` nothing
is written unless ``--out`` is given.
"""

from __future__ import annotations

from asymptotics.cli_support import (
    float_in_range,
    float_list,
    int_in_range,
    nonnegative_float,
    positive_float,
)

__all__ = [
    "register",
    "run",
    "parse_alpha_list",
    "add_model_arguments",
    "add_output_arguments",
    "learning_rate_from_args",
    "ALPHA_MAX",
    "ETA_RANGE",
    "MAX_POINTS",
]

#: largest alpha of an integration (D ~ alpha^(1/3) stays below the moments' D_max = 1e6)
ALPHA_MAX = 1e12
#: learning rates the flow commands accept
ETA_RANGE = (1e-6, 1e3)
#: largest number of output points
MAX_POINTS = 100_000


def parse_alpha_list(text: str) -> list[float]:
    """Parse ``"1,10,1e3"`` into floats in ``[0, ALPHA_MAX]``, with a clear error.

    >>> parse_alpha_list("1,10,1e3")
    [1.0, 10.0, 1000.0]
    """
    return float_list("--alpha", text, minimum=0.0, maximum=ALPHA_MAX, max_count=MAX_POINTS)


#: largest K of the exact closure (the deterministic routes of the moments, see asymptotics.numeric.domain)
CLOSURE_K_MAX = 20


def add_model_arguments(p, k_max: int = CLOSURE_K_MAX) -> None:
    """Arguments shared by the commands that run the softmax teacher-student model (and its start)."""
    p.add_argument(
        "--K", type=int_in_range(2, k_max), default=3, help=f"number of classes, 2..{k_max}, default 3"
    )
    p.add_argument(
        "--eta",
        type=float_in_range(*ETA_RANGE),
        default=1.0,
        help=f"learning rate eta in [{ETA_RANGE[0]:g}, {ETA_RANGE[1]:g}], default 1; with --schedule "
        "it is the schedule's starting rate unless the schedule sets eta/eta0 itself",
    )
    p.add_argument(
        "--schedule",
        default=None,
        help="learning-rate schedule instead of a constant eta, e.g. power:beta=0.5 "
        "(see 'asymptotics exponents --help')",
    )
    p.add_argument("--D0", type=nonnegative_float, default=0.0, help="initial D (default 0: W(0) = 0)")
    p.add_argument("--Delta0", type=nonnegative_float, default=0.0, help="initial Delta (default 0)")


def add_output_arguments(p, command: str) -> None:
    """``--out`` (default ``output/<command>``), ``--no-plot`` and ``--quiet``, shared by the model commands."""
    p.add_argument(
        "--out",
        default=None,
        help=f"folder for CSV, JSON and PNG (default output/{command}; with --json no files "
        "are written unless --out is given)",
    )
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG plot")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def output_folder(args, command: str):
    """The checked output folder of a model command, or ``None`` when nothing is to be written."""
    from asymptotics.cli_support import check_output_dir

    if args.out is None and args.json:
        return None
    return check_output_dir(args.out if args.out is not None else f"output/{command}")


def learning_rate_from_args(args):
    """The constant eta or the parsed schedule named on the command line."""
    if args.schedule is not None:
        from asymptotics.dynamics.schedules import parse_schedule

        return parse_schedule(args.schedule, eta=args.eta)
    return args.eta


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "curve",
        help="integrate the exact (D, Delta) closure and print the learning curve",
        description="Integrate the exact centered closure from D = Delta = 0 (or --D0, "
        "--Delta0) and report alpha, D, Delta, eps_g, L.  "
        f"alpha <= {ALPHA_MAX:g}, at most {MAX_POINTS} points.",
    )
    add_model_arguments(p)
    p.add_argument(
        "--alpha-max",
        type=float_in_range(1e-6, ALPHA_MAX),
        default=1e6,
        help=f"largest alpha of the grid, at most {ALPHA_MAX:g}, default 1e6",
    )
    p.add_argument(
        "--alpha-min", type=positive_float, default=0.1, help="smallest alpha of the grid, default 0.1"
    )
    p.add_argument(
        "--points-per-decade",
        type=int_in_range(1, 1000),
        default=4,
        help="grid points per decade, 1..1000, default 4",
    )
    p.add_argument("--alpha", default=None, help="explicit comma-separated alpha values (overrides the grid)")
    p.add_argument(
        "--rtol",
        type=float_in_range(1e-14, 1e-2),
        default=1e-10,
        help="ODE relative tolerance in [1e-14, 1e-2], default 1e-10",
    )
    add_output_arguments(p, "curve")
    from asymptotics.losses.cli import add_loss_argument

    add_loss_argument(p, "curve")
    p.add_argument(
        "--json",
        action="store_true",
        help="print exactly one JSON object (alpha, D, Delta, eps_g, loss; with --loss also "
        "cross_entropy); no files unless --out",
    )
    p.set_defaults(handler=run)


def run(args) -> int:
    import sys

    from asymptotics.cli_support import OutputFiles, figure_png, print_json, strict_jsonable
    from asymptotics.dynamics.flow import integrate_closure, log_grid
    from asymptotics.tables import csv_text, format_table
    from asymptotics.validation import InvalidInputError

    out = output_folder(args, "curve")
    eta = learning_rate_from_args(args)
    if args.alpha is not None:
        alphas = parse_alpha_list(args.alpha)
    else:
        lo = min(args.alpha_min, args.alpha_max)
        import math

        points = math.log10(args.alpha_max / lo) * args.points_per_decade
        if points > MAX_POINTS:
            raise InvalidInputError(f"the grid would have {points:.0f} points; at most {MAX_POINTS}")
        alphas = log_grid(lo, args.alpha_max, args.points_per_decade)
    progress = not args.quiet and not args.json and max(alphas) > 1e3
    loss = getattr(args, "loss", None)
    curve = integrate_closure(
        args.K,
        eta,
        alphas,
        D0=args.D0,
        Delta0=args.Delta0,
        rtol=args.rtol,
        progress=progress,
        **({} if loss is None else {"loss": loss}),
    )
    table = curve.as_dict()
    strict_jsonable(table)  # refuse a non-finite number before writing anything
    files = OutputFiles()
    if out is not None:
        files.add(out / "curve.csv", csv_text(table))
        meta = {"K": curve.K, "eta": str(eta), "D0": curve.D0, "Delta0": curve.Delta0, "rtol": curve.rtol}
        if loss is not None:
            meta["loss_name"] = loss
        files.add(out / "curve.json", _json_text({**meta, **table}))
        if not args.no_plot:
            from asymptotics.dynamics.curve_plot import learning_curve_figure

            files.add(
                out / "curve.png",
                figure_png(
                    learning_curve_figure({"exact closure": curve}, title=f"K = {curve.K}, eta = {eta}")
                ),
            )
    written = files.commit()
    if args.json:
        print_json(table)
    else:
        print(
            f"# exact closure, K = {curve.K}, eta = {eta}, D0 = {curve.D0}, Delta0 = {curve.Delta0}, "
            f"rtol = {curve.rtol:g} ({curve.rhs_evaluations} flow evaluations)"
            + ("" if loss is None else f", loss {loss}")
        )
        print(format_table(table))
    if written:
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0


def _json_text(obj) -> str:
    import json

    from asymptotics.cli_support import strict_jsonable

    return json.dumps(strict_jsonable(obj), indent=2, allow_nan=False) + "\n"
