"""Derive the centred order-parameter closure of the online softmax model, step by step.

Runs the library derivation (asymptotics.symbolic.closure) for one K (an integer, or ``K`` for a
symbolic class count), prints every step, and writes

* ``OUT/closure.tex``  -- a LaTeX document with all steps (K = 2 also gets the binary reduction);
* ``OUT/closure.json`` -- the final flow and the closure expectations as ``str`` and ``srepr``.

Usage: ``python derivations/closure.py [--K 3] [--out DIR]`` (default K = 3, DIR =
``derivations/output``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import sympy

from asymptotics.symbolic.closure import (
    closure_latex,
    derive_closure,
    flow_factored,
    flow_latex,
    latex,
)
from asymptotics.symbolic.softmax import num_classes_symbol
from asymptotics.validation import InvalidInputError


def parse_K(text: str):
    if text.strip() in ("K", "k", "symbolic"):
        return num_classes_symbol()
    try:
        K = int(text)
    except ValueError:
        raise InvalidInputError(f"--K must be an integer >= 2 or 'K', got {text!r}") from None
    if K < 2:
        raise InvalidInputError(f"--K must be an integer >= 2 or 'K', got {text!r}")
    return K


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--K", default="3", help="number of classes (integer >= 2, or 'K' for symbolic)")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "output"), help="output directory")
    args = ap.parse_args(argv)
    try:
        K = parse_K(args.K)
    except InvalidInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    cl = derive_closure(K, binary=(K == 2))
    elapsed = time.perf_counter() - t0
    for st in cl.steps:
        print("=" * 78)
        print(st.title)
        print(st.text)
        for name, eq in st.equations:
            print(f"  [{name}] {eq}")
    print("=" * 78)
    print("Final flow (LaTeX):")
    print(flow_latex(K))
    print(f"(derivation time {elapsed:.2f} s)")

    tex = closure_latex(K, binary=(K == 2), document=True)
    tex = tex.replace(
        "\\end{document}",
        "\\paragraph{Result}\n\\begin{align*}\n" + flow_latex(K) + "\n\\end{align*}\n\\end{document}",
    )
    (out / "closure.tex").write_text(tex)

    record = {
        "K": str(cl.K),
        "conventions": "spec/boundary_layer.md section 1; <f> = Gaussian expectation over "
        "y, xi ~ N(0, I_K), z = D y + sqrt(Delta) xi, c = argmax y, p = softmax(z)",
        "flow": {n: {"str": str(e), "srepr": sympy.srepr(e), "latex": latex(e)} for n, e in cl.flow.items()},
        "flow_factored": {
            n: {"prefactor": str(pre), "bracket": str(inner)} for n, (pre, inner) in flow_factored(K).items()
        },
        "moments": {
            n: {"integrand": str(E.integrand), "srepr": sympy.srepr(E.integrand), "latex": latex(E.integrand)}
            for n, E in cl.moments().items()
        },
        "checks": {
            "sum_e": str(cl.checks["sum_e"]),
            "shift": str(cl.checks["shift"]),
            "covariance": {k: str(v) for k, v in cl.checks["cov"].items()},
        },
        "derivation_seconds": round(elapsed, 3),
    }
    if isinstance(cl.K, sympy.Integer):
        record["flow_explicit_label_1"] = {n: str(e) for n, e in cl.explicit(label=1).items()}
    if K == 2:
        b = cl.checks["binary"]
        record["binary"] = {
            "k2_integrands_in_s_h": {n: str(f) for n, f in b["k2"].items()},
            "binary_closure_integrands": {n: str(f) for n, f in b["binary"]["integrands"].items()},
            "eps_g_closed_form": str(b["eps_g"]),
        }
    (out / "closure.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))
    print(f"wrote {out / 'closure.tex'} and {out / 'closure.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
