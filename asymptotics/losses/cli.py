"""``asymptotics atlas``: late-time laws of surrogate losses (and the ``--loss`` option of the model commands).

Examples::

    asymptotics atlas --losses cross_entropy,focal:gamma=2,label_smoothing:eps=0.1 --K 2,3 \\
        --schedules constant,power:beta=0.5 --json
    asymptotics atlas --check --alpha-max 1e6 --out output/atlas          # JSON, LaTeX table and figure

``--json`` prints one JSON object with a list ``rows``; each row has ``loss``, ``K``, ``schedule``,
``exponent_eps_g``, ``exponent_loss``, ``prefactor_eps_g``, ``prefactor_loss`` (null where no power law holds),
``plateau_eps_g`` (null where eps_g -> 0), ``method`` and ``error`` (see :mod:`asymptotics.losses.atlas`), and
further details (limits, the excess-loss law of saturated losses, the closure check).  Loss names use
``;`` between several parameters of one loss inside the comma-separated list.  With ``--json`` nothing is
written unless ``--out`` is given.
"""

from __future__ import annotations

import argparse

from asymptotics.cli_support import float_in_range

__all__ = ["register", "run", "loss_name", "add_loss_argument", "DEFAULT_LOSSES", "DEFAULT_SCHEDULES"]

DEFAULT_LOSSES = "cross_entropy,cross_entropy:T=2,label_smoothing:eps=0.1,focal:gamma=2,brier,margin:m=1"
DEFAULT_SCHEDULES = "constant,power:beta=0.25,power:beta=0.5,power:beta=0.75,power:beta=1"


def loss_name(text: str) -> str:
    """argparse type: a loss name understood by :func:`asymptotics.losses.get_loss` (checked), kept as typed."""
    from asymptotics.losses.registry import get_loss
    from asymptotics.validation import InvalidInputError

    try:
        return get_loss(text).name
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_loss_argument(p, command: str) -> None:
    """``--loss NAME`` (default: cross-entropy through the original path, output unchanged)."""
    p.add_argument(
        "--loss",
        type=loss_name,
        default=None,
        help="training loss, e.g. focal:gamma=2, label_smoothing:eps=0.1, brier, margin:m=1, "
        "cross_entropy:T=2 (default cross_entropy); with --loss the output also has the test "
        "cross_entropy and 'loss' is the training loss",
    )


def _int_list(text: str) -> list:
    from asymptotics.validation import InvalidInputError

    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InvalidInputError(f"--K expects comma-separated integers, got {text!r}") from None
    if not values or any(not 2 <= v <= 1000 for v in values):
        raise InvalidInputError(f"--K values must be integers in [2, 1000], got {text!r}")
    return values


def register(subparsers) -> None:
    """Add the ``atlas`` subcommand."""
    p = subparsers.add_parser(
        "atlas",
        help="late-time laws (exponents, prefactors, plateaus) of surrogate losses",
        description="For each loss, K and learning-rate schedule: the late-time exponents of eps_g and of the "
        "training loss, their prefactors, the plateau of eps_g, the method and an error estimate "
        "(derived from the boundary layers or the saturated fixed point; --check integrates the exact "
        "closure and extrapolates its local slopes).",
    )
    p.add_argument(
        "--losses",
        default=DEFAULT_LOSSES,
        help=f"comma-separated losses (default {DEFAULT_LOSSES}); ';' separates parameters of one loss",
    )
    p.add_argument("--K", default="2,3,5", help="comma-separated numbers of classes, default 2,3,5")
    p.add_argument(
        "--schedules",
        default=DEFAULT_SCHEDULES,
        help=f"comma-separated schedules: constant (rate --eta) or power:beta=b (eta = (1+alpha)^-b, "
        f"0 < b <= 1); default {DEFAULT_SCHEDULES}",
    )
    p.add_argument(
        "--eta",
        type=float_in_range(1e-3, 10.0),
        default=1.0,
        help="the constant learning rate, in [1e-3, 10], default 1",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="integrate the exact closure to --alpha-max and compare the extrapolated exponents "
        "(K = 2, 3 and the cross-entropy family; slow: ~10 s per row for K = 3)",
    )
    p.add_argument(
        "--alpha-max",
        type=float_in_range(1e4, 1e9),
        default=1e6,
        help="end of the closure check, in [1e4, 1e9], default 1e6",
    )
    p.add_argument(
        "--out",
        default=None,
        help="folder for atlas.json, atlas.tex and atlas.png (default output/atlas; with --json no "
        "files unless --out is given)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.set_defaults(handler=run)


def _split_losses(text: str) -> list:
    from asymptotics.losses.registry import get_loss
    from asymptotics.validation import InvalidInputError

    names = [t.strip().replace(";", ",") for t in text.split(",") if t.strip()]
    if not names:
        raise InvalidInputError(f"--losses expects a comma-separated list, got {text!r}")
    return [get_loss(n).name for n in names]


def run(args) -> int:
    import json
    import sys

    from asymptotics.cli_support import OutputFiles, check_output_dir, figure_png, print_json, strict_jsonable
    from asymptotics.losses.atlas import (
        ROW_KEYS,
        atlas_figure,
        atlas_latex_table,
        compute_atlas,
        parse_schedules,
    )

    out = None if (args.out is None and args.json) else check_output_dir(args.out or "output/atlas")
    losses = _split_losses(args.losses)
    Ks = _int_list(args.K)
    scheds = parse_schedules(args.schedules, args.eta)

    def progress(row):
        if not args.quiet and not args.json:
            print(f"# {row['loss']}, K = {row['K']}, {row['schedule']}: done", file=sys.stderr)

    atlas = compute_atlas(
        losses, Ks, scheds, eta=args.eta, check=args.check, alpha_max=args.alpha_max, progress=progress
    )
    atlas = strict_jsonable(atlas)
    files = OutputFiles()
    if out is not None:
        files.add(out / "atlas.json", json.dumps(atlas, indent=2, allow_nan=False) + "\n")
        files.add(out / "atlas.tex", atlas_latex_table(atlas) + "\n")
        files.add(out / "atlas.png", figure_png(atlas_figure(atlas)))
    written = files.commit()
    if args.json:
        print_json(atlas)
    else:
        print(format_rows(atlas["rows"], [k for k in ROW_KEYS if k != "method"]))
    if written:
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0


def format_rows(rows: list, keys: list) -> str:
    """Aligned text table of atlas rows (numbers with 6 significant digits, ``-`` for null).

    >>> print(format_rows([{"loss": "brier", "K": 2, "x": None, "y": 0.5}], ["loss", "K", "x", "y"]))
    loss   K  x    y
    brier  2  -  0.5
    """

    def cell(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.6g}"
        return str(v)

    table = [[cell(r[k]) for k in keys] for r in rows]
    widths = [max(len(k), *(len(row[i]) for row in table)) for i, k in enumerate(keys)]
    lines = [
        "  ".join(k.ljust(w) if i == 0 else k.rjust(w) for i, (k, w) in enumerate(zip(keys, widths))).rstrip()
    ]
    for row in table:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
            ).rstrip()
        )
    return "\n".join(lines)
