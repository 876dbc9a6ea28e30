"""``asymptotics expand``: reduced flow and late-time series with numeric coefficients.

Examples::

    asymptotics expand --K 3 --eta 1 --order 3
    asymptotics expand --K 3 --eta 1 --digits 30 --json
    asymptotics expand --K 2 --eta 0.5 --latex late_time.tex

``--eta`` is kept as the decimal typed (``0.1`` means one tenth, not the nearest binary float), so
``--digits N`` gives N correct digits of every constant for that eta.  The computation lives in
:mod:`asymptotics.asymptotic.expansion_report`.
"""

from __future__ import annotations

from asymptotics.cli_support import int_in_range, positive_decimal

__all__ = ["register", "run"]


def register(subparsers) -> None:
    """Add the ``expand`` subcommand."""
    from asymptotics.asymptotic.expansion_domain import (
        DIGITS_MAX,
        K_MAX,
        ORDER_MAX,
        SERIES_ETA_MAX,
        SERIES_ETA_MIN,
    )

    p = subparsers.add_parser(
        "expand",
        help="reduced flow and late-time series with numeric coefficients",
        description="Boundary-layer asymptotics: 1/D expansion, reduced flow, fixed point Delta*(eta), "
        f"late-time series in alpha^(-1/3).  Domain: {SERIES_ETA_MIN:g} <= eta <= {SERIES_ETA_MAX:g} "
        f"(a decimal, kept exact), 2 <= K <= {K_MAX}, digits <= {DIGITS_MAX}.",
    )
    p.add_argument("--K", type=int_in_range(2, K_MAX), default=3, help="number of classes (>= 2), default 3")
    p.add_argument(
        "--eta",
        type=positive_decimal,
        default="1",
        help=f"learning rate eta in [{SERIES_ETA_MIN:g}, {SERIES_ETA_MAX:g}], a decimal kept exact, "
        "default 1",
    )
    p.add_argument(
        "--order",
        type=int_in_range(0, ORDER_MAX),
        default=None,
        help=f"relative order of the corrections, 0..{ORDER_MAX} (default 3)",
    )
    p.add_argument(
        "--digits",
        type=int_in_range(5, DIGITS_MAX),
        default=15,
        help=f"digits of every coefficient, 5..{DIGITS_MAX}, default 15 (float64 corrections)",
    )
    from asymptotics.losses.cli import add_loss_argument

    add_loss_argument(p, "expand")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("--latex", default=None, metavar="FILE", help="write a LaTeX document to FILE")
    p.set_defaults(handler=run)


def run(args) -> int:
    """Handler of ``asymptotics expand``."""
    import sys

    from asymptotics.asymptotic.expansion_report import (
        expansion_report,
        format_expansion_report,
        latex_report,
    )
    from asymptotics.cli_support import OutputFiles, check_output_file, print_json

    latex = check_output_file(args.latex, "--latex") if args.latex else None
    if getattr(args, "loss", None) is not None:
        return _run_loss(args, latex)
    order = 3 if args.order is None else args.order
    report = expansion_report(args.K, args.eta, order, args.digits)
    files = OutputFiles()
    if latex is not None:
        files.add(latex, latex_report(report))
    text = None if args.json else format_expansion_report(report)
    files.commit()
    if latex is not None:
        print(f"wrote {latex}", file=sys.stderr)
    if args.json:
        print_json(report)
    else:
        print(text)
    return 0


def _run_loss(args, latex) -> int:
    """``expand --loss NAME``: the loss's leading constants, first corrections or saturated plateau."""
    import json
    import sys

    from asymptotics.cli_support import OutputFiles, print_json
    from asymptotics.losses.report import format_loss_report, loss_expansion_report

    report = loss_expansion_report(args.loss, args.K, args.eta, args.digits, args.order)
    files = OutputFiles()
    if latex is not None:
        files.add(latex, "% loss report (JSON)\n% " + json.dumps(report).replace("\n", " ") + "\n")
    text = None if args.json else format_loss_report(report)
    files.commit()
    if latex is not None:
        print(f"wrote {latex}", file=sys.stderr)
    if args.json:
        print_json(report)
    else:
        print(text)
    return 0
