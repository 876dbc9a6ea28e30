"""``asymptotics sparse instability``: probability that fixed-step gradient descent diverges on the
sparse-feature learner (a stand-in model reproducing the abstract's claims of arXiv 2605.23591).

    asymptotics sparse instability --s 2 --N 100 --D 1000 --eta 0.5 [--draws 2000] [--seed 0] [--json]

GD on ``(1/2D)|Phi theta - y|^2`` diverges iff ``eta lambda_max(Phi^T Phi/D) > 2``.  ``--json`` prints
one JSON object with ``probability_theory`` (the asymptotic law of
:class:`asymptotics.sparse.instability.InstabilityLaw`), ``probability_simulated`` and
``probability_simulated_se`` (Monte Carlo over ``--draws`` exact draws of data and features,
``sqrt(p(1-p)/draws)``), ``lambda_max_mean`` (simulated); also ``model``, ``lambda_max_se``,
``lambda_max_mean_theory``, ``probability_lower_bound`` (an exact lower bound), ``threshold`` (2/eta)
and, where ``2/eta > 1``, the tail exponent ``tail_rate`` (``-ln P ~ tail_rate``).

>>> import argparse
>>> sub = argparse.ArgumentParser().add_subparsers()
>>> p = register(sub)
>>> p.prog.endswith('instability')
True
"""

from __future__ import annotations

import math

from asymptotics.cli_support import finite_float
from asymptotics.validation import InvalidInputError

__all__ = ["register", "run"]

MODEL_NAME = "a stand-in model reproducing the abstract's claims of arXiv 2605.23591"


def register(subparsers):
    p = subparsers.add_parser(
        "instability",
        help="probability that fixed-step GD is unstable, P[eta lambda_max > 2]",
        description="Instability of full-batch gradient descent with step eta on the sparse-feature learner ("
        + MODEL_NAME
        + "): the derived law for P[lambda_max(Phi^T Phi/D) > 2/eta] against "
        "Monte Carlo.  Validated for 1.2 <= s <= 10, N >= 20, D >= 50.",
    )
    p.add_argument("--s", type=finite_float, required=True, help="sparsity exponent, 1.2 <= s <= 10")
    p.add_argument("--N", type=finite_float, required=True, help="number of features (integer, 20 ... 1e5)")
    p.add_argument("--D", type=finite_float, required=True, help="number of samples (integer, 50 ... 1e6)")
    p.add_argument("--eta", type=finite_float, required=True, help="step size eta > 0")
    p.add_argument(
        "--draws", type=finite_float, default=2000, help="Monte-Carlo draws (2 ... 1e6; default 2000)"
    )
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    p.set_defaults(handler=run)
    return p


def _int(name, v, lo, hi):
    if not float(v).is_integer():
        raise InvalidInputError(f"--{name} must be an integer, got {v}")
    v = int(v)
    if not lo <= v <= hi:
        raise InvalidInputError(f"--{name} must lie in [{lo:g}, {hi:g}], got {v}")
    return v


def run(args) -> int:
    if not 1.2 <= args.s <= 10:
        raise InvalidInputError(f"--s must lie in [1.2, 10] for the instability law, got {args.s}")
    N = _int("N", args.N, 20, 100_000)
    D = _int("D", args.D, 50, 1_000_000)
    if not args.eta > 0:
        raise InvalidInputError(f"--eta must be > 0, got {args.eta}")
    draws = _int("draws", args.draws, 2, 1_000_000)
    if args.seed < 0:
        raise InvalidInputError(f"--seed must be >= 0, got {args.seed}")
    from asymptotics.cli_support import print_json
    from asymptotics.sparse.instability import (
        InstabilityLaw,
        instability_lower_bound,
        sample_lambda_max,
        tail_rate,
    )

    law = InstabilityLaw(args.s, N, D)
    p_th = law.probability(args.eta)
    smp = sample_lambda_max(args.s, N, D, draws, seed=args.seed)
    p_sim, se = smp.probability(args.eta)
    t = 2.0 / args.eta
    lam = smp.lam
    out = {
        "model": MODEL_NAME,
        "s": args.s,
        "N": N,
        "D": D,
        "eta": args.eta,
        "draws": draws,
        "seed": args.seed,
        "threshold": t,
        "probability_theory": p_th,
        "probability_simulated": p_sim,
        "probability_simulated_se": se,
        "lambda_max_mean": float(lam.mean()),
        "lambda_max_se": float(lam.std(ddof=1) / math.sqrt(lam.size)),
        "lambda_max_mean_theory": law.mean(),
        "probability_lower_bound": instability_lower_bound(args.s, N, D, args.eta)["bound"],
        "law": "asymptotic: lambda_max = (chi^2_D/D)(chi^2_N/N) + second-order shift from the sparse design",
        "lower_bound": "exact (Schur complement of the always-active coordinate)",
        "method": f"power iteration on G^T K G/D ({smp.iterations} iterations at most)",
    }
    if t > 1.0 + 1e-9:
        out["tail_rate"] = tail_rate(t, N, D)
    if args.json:
        print_json(out)
        return 0
    print(f"GD instability, s = {args.s}, N = {N}, D = {D}, eta = {args.eta} ({MODEL_NAME})")
    print(
        f"  P[eta lambda_max > 2]: law {p_th:.6g}, simulated {p_sim:.6g} +- {se:.2g} ({draws} draws), "
        f"exact lower bound {out['probability_lower_bound']:.6g}"
    )
    print(
        f"  lambda_max: simulated mean {out['lambda_max_mean']:.6g} +- {out['lambda_max_se']:.2g}, "
        f"law {out['lambda_max_mean_theory']:.6g}"
    )
    if "tail_rate" in out:
        print(f"  tail exponent -ln P ~ {out['tail_rate']:.6g}")
    return 0
