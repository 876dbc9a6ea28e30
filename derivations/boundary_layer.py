"""Boundary-layer derivation, step by step: writes derivations/output/boundary_layer.{tex,json}.

1. teacher top-gap density rho_K(0) and derivatives (closed forms K = 2, 3, 4; quadrature any K);
2. universal layer integrals by swapping integrals + antiderivatives (restoring 1/2, drift = loss
   pi^2/12 + Delta/2, error sqrt(Delta/pi), noise as a 1-D Gaussian integral);
3. structure of the 1/D expansion (binary layers + junctions of 3, 4, ... classes);
4. reduced flow, fixed point Delta*(eta), late-time series with the initial-condition constant C.

Run:  python derivations/boundary_layer.py [--digits 30]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import sympy as sp

from asymptotics.asymptotic.expansion_report import expansion_report, latex_report
from asymptotics.asymptotic.expansion import expansion_sympy
from asymptotics.asymptotic.gap_density import top_gap_density_closed_form
from asymptotics.asymptotic.layer_integrals import derive_closed_forms, polylog_moment_closed_form
from asymptotics.asymptotic.junctions import TERMS, derive_laplace_reduction
from asymptotics.asymptotic.local_binary import junction_error_closed_form_sympy
from asymptotics.asymptotic.reduced_flow import reduced_flow_sympy

OUT = Path(__file__).resolve().parent / "output"


def _esc(text: str) -> str:
    return text.replace("_", r"\_")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=30)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)

    gap = {f"rho_{K}^({n})(0)": top_gap_density_closed_form(K, n) for K in (2, 3, 4) for n in range(3)}
    layer = derive_closed_forms()
    polylog = {f"I_{n}[sigma(-s)]": polylog_moment_closed_form(n) for n in (1, 3)}
    junction = junction_error_closed_form_sympy()
    reduction = {m: derive_laplace_reduction(m) for m in (1, 2, 3)}
    assert all(d == 0 for r in reduction.values() for d in r.values()), reduction
    structure = {f"K={K} {name}": expansion_sympy(K, name, 3 if K == 5 else 2)
                 for K in (2, 3, 5) for name in ("eps_g", "drift")}
    flow = reduced_flow_sympy(3)
    reports = {f"K={K},eta={eta}": expansion_report(K, eta, 3, args.digits) for K in (2, 3) for eta in (0.5, 1.0)}

    tex = [r"\documentclass{article}", r"\usepackage{amsmath}", r"\begin{document}",
           r"\section*{Boundary-layer asymptotics of online softmax teacher--student learning}",
           r"\subsection*{1. Teacher gap density at the boundary}", r"\begin{align*}"]
    rho = "\\rho"
    tex += [k.replace("rho", rho) + " &= " + sp.latex(v) + r"\\" for k, v in gap.items()]
    tex += [r"\end{align*}", r"\subsection*{2. Universal layer integrals}", r"\begin{align*}"]
    tex += [rf"\text{{{_esc(k)}}} &: {sp.latex(v[1])}\\" for k, v in layer.items()]
    tex += [rf"\text{{{_esc(k)}}} &= {sp.latex(v)}\\" for k, v in polylog.items()]
    tex += [rf"J^{{\varepsilon_g}}_{{00}} &= {sp.latex(junction)}", r"\end{align*}",
            r"Junctions of $m+1$ classes: with $x_j=e^{-v_j}$, $E_j=e^{-t x_j}$, the Moebius-connected integrands",
            r"are $t$-integrals of $\prod_j (E_j-1)$ (times at most one special factor); every junction moment",
            r"becomes $\int dc\,K_p(c)\prod_j G_j(c)$ of one-dimensional Gaussian convolutions. Terms",
            r"(coefficient, $t$-power $p$, special factor):",
            r"\begin{itemize}"] + [rf"\item {name}: {_esc(str(terms))}" for name, terms in TERMS.items()] + [
            r"\end{itemize}",
            r"SymPy checks the reduction against the Moebius-inverted softmax for $m = 1, 2, 3$ (differences 0).",
            r"\subsection*{3. Structure of the $1/D$ expansion}", r"\begin{align*}"]
    tex += [rf"\text{{{_esc(k)}}} &: {sp.latex(v)}\\" for k, v in structure.items()]
    tex += [r"\end{align*}", r"\subsection*{4. Reduced flow ($K=3$)}", r"\begin{align*}",
            rf"\dot D &= {sp.latex(flow[0])}\\ \dot\Delta &= {sp.latex(flow[1])}", r"\end{align*}"]
    body = []
    for rep in reports.values():
        doc = latex_report(rep)
        body.append(doc.split(r"\begin{document}")[1].split(r"\end{document}")[0])
    tex += body + [r"\end{document}", ""]
    (OUT / "boundary_layer.tex").write_text("\n".join(tex), encoding="utf-8")
    data = {
        "gap_density_closed_forms": {k: str(v) for k, v in gap.items()},
        "layer_integrals": {k: str(v[1]) for k, v in layer.items()},
        "polylog_moments": {k: str(v) for k, v in polylog.items()},
        "junction_error_integral": str(junction),
        "junction_laplace_reduction_check": {str(m): {k: str(v) for k, v in r.items()} for m, r in reduction.items()},
        "late_time": reports,
    }
    (OUT / "boundary_layer.json").write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(f"wrote {OUT / 'boundary_layer.tex'} and {OUT / 'boundary_layer.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
