"""``asymptotics curve``: the exact closure learning curve on a logarithmic alpha grid.

Examples::

    asymptotics curve --K 3 --eta 1 --alpha-max 1e6
    asymptotics curve --K 2 --eta 0.5 --alpha 1,10,100 --json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from asymptotics.dynamics.flow import integrate_closure, log_grid
from asymptotics.tables import format_table, to_jsonable, write_csv, write_json
from asymptotics.validation import InvalidInputError, check_positive


def parse_alpha_list(text: str) -> list[float]:
    """Parse ``"1,10,1e3"`` into floats, with a clear error.

    >>> parse_alpha_list("1,10,1e3")
    [1.0, 10.0, 1000.0]
    """
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInputError(f"--alpha expects comma-separated numbers, got {text!r}") from None
    if not values:
        raise InvalidInputError("--alpha expects at least one number")
    return values


def add_model_arguments(p) -> None:
    """Arguments shared by the commands that run the softmax teacher-student model (and its start)."""
    p.add_argument("--K", type=int, default=3, help="number of classes (>= 2), default 3")
    p.add_argument("--eta", type=float, default=1.0, help="learning rate eta > 0, default 1")
    p.add_argument("--schedule", default=None,
                   help="learning-rate schedule, e.g. power:beta=0.5 (overrides --eta; see 'exponents')")
    p.add_argument("--D0", type=float, default=0.0, help="initial D (default 0: W(0) = 0)")
    p.add_argument("--Delta0", type=float, default=0.0, help="initial Delta (default 0)")


def add_output_arguments(p, command: str) -> None:
    """``--out`` (default ``output/<command>``), ``--no-plot`` and ``--quiet``, shared by the model commands."""
    p.add_argument("--out", default=f"output/{command}",
                   help=f"folder for CSV, JSON and PNG (default output/{command})")
    p.add_argument("--no-plot", action="store_true", help="do not write the PNG plot")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def learning_rate_from_args(args):
    """The constant eta or the parsed schedule named on the command line."""
    if args.schedule:
        from asymptotics.dynamics.schedules import parse_schedule
        return parse_schedule(args.schedule, eta=check_positive("eta", args.eta))
    return check_positive("eta", args.eta)


def register(subparsers) -> None:
    p = subparsers.add_parser("curve", help="integrate the exact (D, Delta) closure and print the learning curve",
                              description="Integrate the exact centered closure from D = Delta = 0 (or --D0, "
                                          "--Delta0) and report alpha, D, Delta, eps_g, L.")
    add_model_arguments(p)
    p.add_argument("--alpha-max", type=float, default=1e6, help="largest alpha of the grid, default 1e6")
    p.add_argument("--alpha-min", type=float, default=0.1, help="smallest alpha of the grid, default 0.1")
    p.add_argument("--points-per-decade", type=int, default=4, help="grid points per decade, default 4")
    p.add_argument("--alpha", default=None, help="explicit comma-separated alpha values (overrides the grid)")
    p.add_argument("--rtol", type=float, default=1e-10, help="ODE relative tolerance, default 1e-10")
    add_output_arguments(p, "curve")
    p.add_argument("--json", action="store_true",
                   help="print exactly one JSON object (alpha, D, Delta, eps_g, loss) and write no files")
    p.set_defaults(handler=run)


def run(args) -> int:
    eta = learning_rate_from_args(args)
    if args.alpha is not None:
        alphas = parse_alpha_list(args.alpha)
    else:
        check_positive("alpha-max", args.alpha_max)
        check_positive("alpha-min", args.alpha_min)
        alphas = log_grid(min(args.alpha_min, args.alpha_max), args.alpha_max, args.points_per_decade)
    progress = not args.quiet and max(alphas) > 1e3
    curve = integrate_closure(args.K, eta, alphas, D0=args.D0, Delta0=args.Delta0, rtol=args.rtol,
                              progress=progress)
    table = curve.as_dict()
    if args.json:
        json.dump(to_jsonable(table), sys.stdout)
        sys.stdout.write("\n")
        return 0
    print(f"# exact closure, K = {curve.K}, eta = {eta}, D0 = {curve.D0}, Delta0 = {curve.Delta0}, "
          f"rtol = {curve.rtol:g} ({curve.rhs_evaluations} flow evaluations)")
    print(format_table(table))
    out = Path(args.out)
    write_csv(out / "curve.csv", table)
    write_json(out / "curve.json", {"K": curve.K, "eta": str(eta), "D0": curve.D0, "Delta0": curve.Delta0,
                                    "rtol": curve.rtol, **table})
    written = [out / "curve.csv", out / "curve.json"]
    if not args.no_plot:
        from asymptotics.dynamics.curve_plot import plot_learning_curves
        written.append(plot_learning_curves({"exact closure": curve}, out / "curve.png",
                                            title=f"K = {curve.K}, eta = {eta}"))
    print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0
