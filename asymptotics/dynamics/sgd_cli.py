"""``asymptotics simulate``: finite-N online SGD learning curves, overlaid on the exact closure.

Examples::

    asymptotics simulate --K 3 --eta 1 --N 1000 --seeds 8 --alpha-max 20
    asymptotics simulate --K 2 --eta 0.5 --N 500 --seeds 4 --alpha-max 10 --json --no-closure

Prints a table of the means over seeds with standard errors (and the closure values), writes
``simulate.csv``, ``simulate.json`` and ``simulate.png`` to ``--out``; with ``--json`` stdout holds
exactly one JSON object with the lists ``alpha, D, Delta, eps_g, loss, D_se, Delta_se, eps_g_se,
loss_se`` (plus the parameters and, unless ``--no-closure``, a ``closure`` object) and no file is
written unless ``--out`` is given.  Limits checked before the run: ``alpha_max * N <= 1e11`` steps,
``seeds <= 100000`` and the memory estimate against the machine's available memory.
"""

from __future__ import annotations

from asymptotics.cli_support import float_in_range, int_in_range, positive_float

__all__ = ["register", "run", "closure_for"]


def register(subparsers) -> None:
    """Add the ``simulate`` subcommand to an argparse ``subparsers`` object."""
    from asymptotics.dynamics.curve_cli import add_model_arguments, add_output_arguments

    p = subparsers.add_parser(
        "simulate",
        help="finite-N online SGD of the softmax teacher-student model (batched seeds)",
        description="Simulate online SGD at finite N over several seeds, record D, Delta, eps_g, L at "
        "log-spaced alpha, and compare with the exact closure.  Checked before the run: "
        "alpha-max * N <= 1e11 steps, seeds <= 100000, memory.",
    )
    add_model_arguments(p, k_max=1000)
    p.add_argument("--N", type=int_in_range(2, 10**9), default=1000, help="input dimension, default 1000")
    p.add_argument(
        "--seeds",
        type=int_in_range(2, 100_000),
        default=8,
        help="independent replicates (>= 2, for standard errors), default 8",
    )
    p.add_argument(
        "--seed",
        type=int_in_range(0, 2**63 - 1),
        default=0,
        help="integer seed of the whole batch, default 0",
    )
    p.add_argument(
        "--alpha-max", type=float_in_range(1e-9, 1e9), default=20.0, help="last recorded alpha, default 20"
    )
    p.add_argument(
        "--alpha-min", type=positive_float, default=None, help="first recorded alpha, default max(0.1, 1/N)"
    )
    p.add_argument(
        "--points-per-decade",
        type=int_in_range(1, 1000),
        default=8,
        help="recorded alphas per decade, default 8",
    )
    p.add_argument(
        "--n-test",
        type=int_in_range(1, 10**7),
        default=4000,
        help="test inputs per seed and alpha, default 4000",
    )
    add_output_arguments(p, "simulate")
    from asymptotics.losses.cli import add_loss_argument

    add_loss_argument(p, "simulate")
    p.add_argument(
        "--json", action="store_true", help="print exactly one JSON object on stdout; no files unless --out"
    )
    p.add_argument("--no-closure", action="store_true", help="do not integrate and overlay the exact closure")
    p.set_defaults(handler=run)


def closure_for(result, *, progress: bool = False):
    """The exact closure at the simulation's recorded alphas, or ``None`` without a result.

    >>> closure_for(None) is None
    True
    """
    if result is None:
        return None
    from asymptotics.dynamics.curve_cli import CLOSURE_K_MAX

    if result.K > CLOSURE_K_MAX:
        import sys

        print(
            f"note: the exact closure is available for K <= {CLOSURE_K_MAX}; showing the simulation only",
            file=sys.stderr,
        )
        return None
    from asymptotics.dynamics.flow import integrate_closure

    loss = getattr(result, "loss_name", None)
    if loss is not None:
        from asymptotics.losses.registry import get_loss

        if not get_loss(loss).is_shift_invariant:
            import sys

            print(
                f"note: loss {loss} is not shift invariant: no centred closure to compare with; showing the "
                "simulation only",
                file=sys.stderr,
            )
            return None
        if result.K > 3 and get_loss(loss).family != "cross_entropy":
            import sys

            print(
                f"note: loss {loss} has no deterministic closure for K = {result.K}; showing the simulation only",
                file=sys.stderr,
            )
            return None
    return integrate_closure(
        result.K,
        result.eta,
        result.alpha,
        D0=result.D0,
        Delta0=result.Delta0,
        progress=progress,
        **({} if loss is None else {"loss": loss}),
    )


def run(args) -> int:
    """Run the simulation described by parsed ``args``; print the table (or JSON) and write files."""
    import sys

    from asymptotics.cli_support import OutputFiles, figure_png, print_json, strict_jsonable
    from asymptotics.dynamics.curve_cli import learning_rate_from_args, output_folder
    from asymptotics.dynamics.sgd import OBSERVABLES, simulate_sgd
    from asymptotics.tables import csv_text, format_table

    out = output_folder(args, "simulate")
    eta = learning_rate_from_args(args)
    show = not args.quiet and not args.json
    loss = getattr(args, "loss", None)
    result = simulate_sgd(
        args.K,
        eta,
        N=args.N,
        seeds=args.seeds,
        seed=args.seed,
        alpha_max=args.alpha_max,
        alpha_min=args.alpha_min,
        points_per_decade=args.points_per_decade,
        n_test=args.n_test,
        D0=args.D0,
        Delta0=args.Delta0,
        progress=show,
        **({} if loss is None else {"loss": loss}),
    )
    closure = None if args.no_closure else closure_for(result, progress=show)

    table = {"alpha": result.alpha}
    for name in OBSERVABLES + (("cross_entropy",) if loss is not None else ()):
        table[name] = result.mean[name]
        table[f"{name}_se"] = result.se[name]
    summary = result.as_dict()
    summary["closure"] = closure.as_dict() if closure is not None else None
    summary = strict_jsonable(summary)  # refuse a non-finite number before writing anything

    files = OutputFiles()
    if out is not None:
        import json

        files.add(out / "simulate.csv", csv_text(table))
        files.add(out / "simulate.json", json.dumps(summary, indent=2, allow_nan=False) + "\n")
        if not args.no_plot:
            from asymptotics.dynamics.curve_plot import learning_curve_figure

            label = f"SGD N = {result.N}, {result.seeds} seeds"
            curves = {label: result} if closure is None else {label: result, "exact closure": closure}
            files.add(
                out / "simulate.png",
                figure_png(
                    learning_curve_figure(
                        curves, errorbars={label: result.se}, title=f"K = {result.K}, eta = {eta}"
                    )
                ),
            )
    written = files.commit()

    if args.json:
        print_json(summary)
    else:
        print(
            f"# online SGD, K = {result.K}, eta = {eta}, N = {result.N}, {result.seeds} seeds "
            f"(seed {result.seed}), n_test = {result.n_test}; means and standard errors over seeds"
        )
        print(format_table(table))
        if closure is not None:
            print("# exact closure at the same alpha")
            print(format_table({"alpha": closure.alpha, **{n: getattr(closure, n) for n in OBSERVABLES}}))
    if written:
        print("wrote " + ", ".join(str(w) for w in written), file=sys.stderr)
    return 0
