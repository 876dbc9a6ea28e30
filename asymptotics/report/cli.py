"""``asymptotics reproduce`` and ``asymptotics latex``.

Examples::

    asymptotics reproduce --quick                 # everything into output/reproduce (~2 min)
    asymptotics reproduce --full --out results/   # long alpha ranges, more seeds, 50 digits
    asymptotics latex closure_D                   # LaTeX of one key equation
    asymptotics latex --list                      # the available equation names
"""

from __future__ import annotations

from asymptotics.cli_support import int_in_range
from asymptotics.validation import InvalidInputError

#: largest explicit K of ``latex`` (the symbolic closure of explicit K grows like K^2 terms)
LATEX_K_MAX = 100

__all__ = ["register", "run_reproduce", "run_latex"]


def register(subparsers) -> None:
    """Add the ``reproduce`` and ``latex`` subcommands to an argparse ``subparsers`` object.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="asymptotics")
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["latex", "fixed_point_Delta"])
    >>> args.handler(args)
    \\Delta^{*} = \\eta B{\\left(\\Delta^{*} \\right)}
    0
    """
    p = subparsers.add_parser(
        "reproduce",
        help="run derivations, integrations, SGD and expansions; write figures, "
        "results.json and the LaTeX report",
        description="Run every derivation, exact integration, SGD simulation and expansion of the toolkit "
        "and write the figures, results.json and a LaTeX report (compiled to PDF when "
        "pdflatex is available) into one folder.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        dest="mode",
        action="store_const",
        const="quick",
        help="short ranges and 20 digits (< 5 minutes on 2 cores)",
    )
    mode.add_argument(
        "--full", dest="mode", action="store_const", const="full", help="alpha to 1e8, more seeds, 50 digits"
    )
    p.add_argument("--out", default="output/reproduce", help="output folder (default output/reproduce)")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print the results summary as one JSON object")
    p.set_defaults(handler=run_reproduce, mode="default")

    q = subparsers.add_parser(
        "latex",
        help="print the LaTeX of one key equation of the theory",
        description="Print the LaTeX of one key equation, derived by the toolkit (see --list for the names).",
    )
    q.add_argument("name", nargs="?", help="equation name (see --list)")
    q.add_argument("--list", action="store_true", help="list the equation names")
    q.add_argument(
        "--K",
        type=int_in_range(2, LATEX_K_MAX),
        default=None,
        help=f"number of classes, 2..{LATEX_K_MAX} (default: general K for the closure, 3 for the "
        "reduced flow)",
    )
    q.set_defaults(handler=run_latex)


def run_reproduce(args) -> int:
    """Handler of ``asymptotics reproduce``: prints where the artefacts are (or one JSON object)."""
    from asymptotics.cli_support import check_output_dir, print_json
    from asymptotics.report.reproduce import reproduce

    check_output_dir(args.out)
    results = reproduce(args.out, mode=args.mode, progress=args.progress and not args.json)
    if args.json:
        print_json(
            {
                "out_dir": results["out_dir"],
                "mode": results["mode"],
                "steps": results["steps"],
                "files": results["files"],
                "pdflatex": results["pdflatex"],
                "timings": results["timings"],
            }
        )
        return 0
    print(f"mode {results['mode']}: wrote {len(results['files'])} files to {results['out_dir']}")
    for name, status in results["steps"].items():
        print(f"  {name:<14} {status}  ({results['timings'][name]:.1f} s)")
    pdf = results["pdflatex"]
    print(f"  report.pdf     {'compiled' if pdf['compiled'] else 'not compiled: ' + pdf['message']}")
    return 0


def run_latex(args) -> int:
    """Handler of ``asymptotics latex``: one equation, or the list of names with ``--list``."""
    from asymptotics.report.equations import EQUATION_DESCRIPTIONS, key_equation_latex

    if args.list:
        for name, text in EQUATION_DESCRIPTIONS.items():
            print(f"{name:<26} {text}")
        return 0
    if not args.name:
        raise InvalidInputError("give an equation name or --list")
    print(key_equation_latex(args.name, args.K))
    return 0
