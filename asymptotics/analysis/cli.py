"""``asymptotics exponents``: windowed effective exponents and extrapolated exponents of eps_g and L.

Examples::

    asymptotics exponents --K 3 --eta 1 --schedule power:beta=0.5
    asymptotics exponents --K 2 --alpha-max 1e8 --json
    asymptotics exponents --K 3 --schedule power:beta=0.75 --model reduced --alpha-max 1e12

The computation lives in :mod:`asymptotics.analysis.exponent_report`; this module only parses the
arguments.  The plot goes to ``output/exponents/exponents.png`` by default; with ``--json`` no file
is written unless ``--plot`` is given.
"""

from __future__ import annotations

from asymptotics.cli_support import int_in_range, positive_float

__all__ = ["register", "run"]

DEFAULT_PLOT = "output/exponents/exponents.png"


def register(subparsers) -> None:
    """Add the ``exponents`` subcommand."""
    p = subparsers.add_parser(
        "exponents",
        help="effective-exponent table and extrapolated exponents of eps_g and L",
        description="Local slopes d ln y/d ln alpha of eps_g and L from dense output, a table of "
        "effective exponents per window, and the exponents extrapolated to alpha -> infinity. "
        "alpha-max is at most 1e12 for the exact closure and 1e30 for the reduced flow.",
    )
    p.add_argument("--K", type=int_in_range(2, 20), default=3, help="number of classes, 2..20, default 3")
    p.add_argument(
        "--eta",
        type=positive_float,
        default=1.0,
        help="learning rate; with --schedule, the schedule's starting rate unless the schedule "
        "sets eta0/eta itself (default 1)",
    )
    p.add_argument(
        "--schedule",
        default=None,
        help="schedule, e.g. power:beta=0.5[,eta0=1,alpha0=1], constant:eta=1, "
        "step:gamma=0.5,every=10, cosine:alpha_max=100",
    )
    p.add_argument(
        "--model",
        choices=("closure", "reduced"),
        default="closure",
        help="exact closure (default) or boundary-layer reduced flow",
    )
    p.add_argument("--alpha-max", type=positive_float, default=1e8, help="largest alpha, default 1e8")
    p.add_argument("--alpha-min", type=positive_float, default=1.0, help="start of the table, default 1")
    p.add_argument(
        "--fit-from",
        type=positive_float,
        default=None,
        help="start of the extrapolation range (between alpha-min and alpha-max/1.2)",
    )
    p.add_argument("--per", choices=("decade", "half-decade"), default="decade", help="window width")
    p.add_argument(
        "--rtol", type=positive_float, default=None, help="ODE relative tolerance, in [1e-14, 1e-3]"
    )
    p.add_argument(
        "--plot",
        default=None,
        help=f"PNG path for the plot (default {DEFAULT_PLOT}; with --json none unless given)",
    )
    p.add_argument("--no-plot", action="store_true", help="do not write the plot")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Run the ``exponents`` subcommand; prints the table (or JSON) and returns 0."""
    from asymptotics.analysis.exponent_report import exponent_figure, exponent_report, format_exponent_report
    from asymptotics.cli_support import OutputFiles, check_output_file, figure_png, print_json
    from asymptotics.dynamics.schedules import Constant, parse_schedule
    from asymptotics.validation import InvalidInputError

    if args.rtol is not None and not 1e-14 <= args.rtol <= 1e-3:
        raise InvalidInputError(f"rtol must lie in [1e-14, 1e-3], got {args.rtol}")
    plot = None
    if not args.no_plot and (args.plot is not None or not args.json):
        plot = check_output_file(args.plot or DEFAULT_PLOT, "--plot")
    sched = parse_schedule(args.schedule, eta=args.eta) if args.schedule else Constant(args.eta)
    report = exponent_report(
        args.K,
        args.eta,
        schedule=sched,
        model=args.model,
        alpha_max=args.alpha_max,
        alpha_min=args.alpha_min,
        fit_from=args.fit_from,
        per=args.per,
        rtol=args.rtol,
    )
    files = OutputFiles()
    if plot is not None:
        files.add(plot, figure_png(exponent_figure(report)))
        report["plot"] = str(plot)
    report.pop("_plot")
    text = None if args.json else format_exponent_report(report)
    if args.json:
        from asymptotics.cli_support import strict_jsonable

        strict_jsonable(report)  # refuse non-finite numbers before writing anything
    files.commit()
    if args.json:
        print_json(report)
    else:
        print(text)
    return 0
