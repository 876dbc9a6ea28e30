r"""The LaTeX report of a reproduce run, generated from the symbolic results and the results dict.

Equations come from the deriving modules (:mod:`asymptotics.symbolic.closure` step by step,
:mod:`asymptotics.report.equations` for the boundary layer, reduced flow, late-time series, schedules
and the peaked mechanism); long ones are set in ``dmath`` (breqn), which breaks lines.  Every number
is printed by :func:`format_number` from the same results dict that is written to ``results.json``, so
the report and the results file agree digit for digit.

>>> format_number("0.25291809676031103503")
'0.25291809676031103503'
>>> format_number(1.5e-07)
'1.5\\times 10^{-7}'
>>> format_number(None)
'--'
"""

from __future__ import annotations

import re

from asymptotics.report.latex import LatexDocument, escape_text

__all__ = ["format_number", "build_report", "ascii_text"]

_EXP = re.compile(r"^([-+]?[0-9.]+)[eE]([-+]?)0*([0-9]+)$")


def format_number(value) -> str:
    """The one formatting function for numbers in the report (LaTeX math mode).

    Strings (decimal strings of arbitrary-precision constants) are printed as they are, floats with
    8 significant digits (``results.json`` stores them rounded to 8 digits, so nothing is lost),
    exponents as ``\\times 10^{n}``; ``None`` as ``--``.
    """
    if value is None:
        return "--"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.8g}"
    else:
        text = str(value)
    m = _EXP.match(text)
    if m:
        mant, sign, exp = m.groups()
        sign = "-" if sign == "-" else ""
        return f"{mant}\\times 10^{{{sign}{exp}}}"
    return text


def _num(q) -> str:
    """Math-mode number of a quantity dict or a plain value."""
    if isinstance(q, dict) and "value" in q:
        return f"${format_number(q['value'])}$"
    return f"${format_number(q)}$"


def _err(q) -> str:
    return f"${format_number(q.get('error'))}$" if isinstance(q, dict) else "--"


def ascii_text(text: str) -> str:
    """Plain text safe for pdflatex: non-ASCII characters replaced by ASCII spellings, then escaped.

    >>> ascii_text("a_b ⟨x⟩")
    'a\\\\_b <x>'
    """
    table = {"⟨": "<", "⟩": ">", "→": "->", "≈": "~", "≤": "<=", "≥": ">=", "≠": "!=", "—": "--",
             "–": "-", "’": "'", "α": "alpha", "Δ": "Delta", "η": "eta", "ε": "eps"}
    text = "".join(table.get(ch, ch if ord(ch) < 128 else "?") for ch in str(text))
    return escape_text(text)


def _unavailable(doc: LatexDocument, results: dict, step: str) -> bool:
    status = results.get("steps", {}).get(step, "not run")
    if status != "ok" or results.get(step) is None:
        doc.text(f"This part is unavailable in this run ({step}: {status}).")
        return True
    return False


def _per_K(section: dict) -> list:
    """``(K, entry)`` for K = 2, 3 whose entry ``section["K<K>"]`` is present and non-empty.

    >>> _per_K({"K3": {"x": 1}, "K2": {}})
    [(3, {'x': 1})]
    """
    return [(K, section[f"K{K}"]) for K in (2, 3) if section.get(f"K{K}")]


def _equation_lines(latex_lines):
    """Align-style lines ``lhs &= rhs \\\\`` -> separate ``lhs = rhs`` equations."""
    out = []
    for line in latex_lines:
        line = line.strip()
        if line.endswith("\\\\"):
            line = line[:-2].rstrip()
        line = line.replace("&", "", 1) if line.count("&") == 1 else line.replace("&", "")
        if line:
            out.append(line)
    return out


def _key(doc: LatexDocument, name: str, K=None) -> None:
    from asymptotics.report.equations import key_equation_latex

    if not getattr(doc, "include_equations", True):
        return
    try:
        doc.equation(key_equation_latex(name, K))
    except Exception as exc:  # a deriving module missing: say so instead of failing
        doc.text(f"(equation {name} unavailable: {type(exc).__name__}: {exc})".splitlines()[0])


def _section_model(doc, results):
    doc.section("Model and centered closure")
    doc.text(
        "Online softmax teacher-student classification with K classes: inputs x ~ N(0, I_N), teacher "
        "fields y_k = B_k.x/sqrt(N) with B_k.B_l = N delta_kl, label c = argmax_k y_k, student logits "
        "z_k = W_k.x/sqrt(N), p = softmax(z), loss -log p_c, online SGD with step eta/sqrt(N), "
        "alpha = steps/N. The centered order parameters are the alignment D and the residual variance "
        "Delta, with z_k = D y_k + sqrt(Delta) xi_k in distribution. The derivation below is produced by "
        "asymptotics.symbolic.closure, step by step (general K).")
    if _unavailable(doc, results, "closure"):
        return
    cl = results["closure"]
    for st in cl["steps"] + cl.get("binary_steps", []):
        doc.parts.append(f"\\subsection{{{ascii_text(st['title'])}}}")
        doc.text(ascii_text(st["text"]), raw=True)
        for line in _equation_lines(st["latex"]):
            doc.equation(line)
    doc.subsection("The closure for K = 3")
    for line in _equation_lines(cl["flow_latex"]["3"].splitlines()):
        doc.equation(line)


def _section_layer(doc, results):
    doc.section("Boundary layers")
    doc.text("At late times D >> 1 only examples whose teacher top gap is O(1/D) contribute. The local "
             "binary integrals and the gap density have closed forms (SymPy, asymptotics.asymptotic):")
    for name in ("gap_density_K3", "layer_J", "layer_A", "layer_B", "layer_error"):
        _key(doc, name)
    doc.subsection("Reduced flow (K = 3)")
    for name in ("reduced_flow_D", "reduced_flow_Delta", "fixed_point_Delta"):
        _key(doc, name)
    if _unavailable(doc, results, "constants"):
        return
    c = results["constants"]
    rows = []
    labels = {"rho0": r"$\rho_K(0)$", "Delta_star": r"$\Delta^*$", "A_star": r"$A(\Delta^*)$",
              "C_D": r"$C_D$", "C_eps": r"$C_\varepsilon$", "C_L": r"$C_L$"}
    for K, entry in _per_K(c):
        for name, q in entry.get("leading", {}).items():
            rows.append([str(K), labels.get(name, escape_text(name)), _num(q), _err(q)])
    doc.table(["K", "constant", f"value ({c['digits']} digits)", "error"], rows,
              caption="Leading late-time constants at eta = 1 (D ~ C_D alpha^(1/3), eps_g ~ C_eps "
                      "alpha^(-1/3), L ~ C_L alpha^(-1/3)).")


def _section_late_time(doc, results):
    doc.section("Late-time series")
    doc.text("The reduced flow at higher order in 1/D is solved by slaving Delta to the invariant manifold, "
             "integrating the drift (free constant C) and inverting; with t = 1/x, "
             "x = (3 kappa g_0 alpha)^(1/3):")
    for name in ("late_time_alpha", "late_time_D", "late_time_eps_g", "late_time_loss"):
        _key(doc, name)
    if _unavailable(doc, results, "constants"):
        return
    c = results["constants"]
    for K, entry in _per_K(c):
        rows = [[escape_text(name), _num(q), _err(q)] for name, q in entry["corrections"].items()]
        doc.table(["coefficient", f"value", "error"], rows,
                  caption=f"K = {K}: relative corrections y/y_leading = 1 + a1 alpha^(-1/3) + "
                          f"a2 alpha^(-2/3) + (a3 + a3_log ln alpha + a3_C C) alpha^(-1) "
                          f"(order {entry['series_order']}, {entry['series_digits']} digits); "
                          f"e_i: quadrature coefficients.")


def _section_schedules(doc, results):
    doc.section("Learning-rate schedules")
    doc.text("With eta = (1 + alpha)^(-beta), Delta follows Delta*(eta) adiabatically for beta < 1 and the "
             "derived exponents are:")
    _key(doc, "schedule_eps_g_exponent")
    _key(doc, "schedule_loss_exponent")
    if _unavailable(doc, results, "schedules"):
        return
    s = results["schedules"]
    rows = []
    for b in s["betas"].values():
        rows.append([_num(b["beta"]), _num(b["eps_g_exponent"]), _err(b["eps_g_exponent"]),
                     _num(b["eps_g_predicted"]), _num(b["loss_exponent"]), _err(b["loss_exponent"]),
                     _num(b["loss_predicted"])])
    doc.table([r"$\beta$", r"$\varepsilon_g$ exp.", "error", "derived", "$L$ exp.", "error", "derived"],
              rows, caption=f"Measured (reduced flow, K = {s['K']}, alpha to {s['alpha_max']:.0e}) "
                            "versus derived exponents.")


def _section_validation(doc, results):
    doc.section("Validation")
    doc.subsection("SGD versus closure")
    if not _unavailable(doc, results, "sgd"):
        s = results["sgd"]
        for names, heads in ((("D", "Delta"), ("$D$", r"$\Delta$")),
                             (("eps_g", "loss"), (r"$\varepsilon_g$", "$L$"))):
            rows = []
            for r in s["rows"]:
                row = [_num(r["alpha"])]
                for n in names:
                    row += [f"{_num(r[n]['sgd'])} $\\pm$ {_num(r[n]['se'])}", _num(r[n]["closure"])]
                rows.append(row)
            header = [r"$\alpha$"]
            for h in heads:
                header += [f"{h} SGD", f"{h} closure"]
            doc.table(header, rows,
                      caption=f"K = {s['K']}, N = {s['N']}, {s['seeds']} seeds: SGD mean +- standard error "
                              f"and the exact closure. Largest relative deviation "
                              f"{s['max_relative_deviation']}, largest deviation "
                              f"{s['max_deviation_in_se']} standard errors (all four observables).")
    doc.subsection("Exact integration and the expansion")
    if not _unavailable(doc, results, "integration"):
        rows = [[str(K), _num(e["alpha_max"]), escape_text(n), _num(q), _err(q)]
                for K, e in _per_K(results["integration"]) for n, q in e["final"].items()]
        doc.table(["K", r"$\alpha$", "observable", "exact closure", "error"], rows,
                  caption="Exact closure at the largest alpha (error: change under a 100x looser tolerance).")
    if not _unavailable(doc, results, "check"):
        rows = []
        for K, e in _per_K(results["check"]):
            for n, q in e["prefactor_ratio"].items():
                rows.append([str(K), escape_text(f"{n} ratio to leading"), _num(q)])
            rows.append([str(K), "fitted C", _num(e["C"])])
            for n, v in e["series_relative_error"].items():
                rows.append([str(K), escape_text(n), _num(v)])
        doc.table(["K", "check", "value"], rows,
                  caption="Late-time series versus the exact closure: leading-prefactor ratios at the "
                          "largest alpha and relative errors of the truncated series.")
    doc.subsection("Exponents")
    if not _unavailable(doc, results, "exponents"):
        rows = []
        for K, e in _per_K(results["exponents"]):
            for n in ("eps_g", "loss"):
                q = e[n]["exponent"]
                rows.append([str(K), escape_text(n), _num(q), _err(q), _num(e[n]["last_local_slope"]),
                             f"[{format_number(e['fit_range'][0])}, {format_number(e['fit_range'][1])}]"])
        doc.table(["K", "observable", "extrapolated exponent", "error", "last local slope",
                   r"fit range of $\alpha$"], rows,
                  caption="Local slopes of the exact closure extrapolated with correction powers k/3.")


def _section_references(doc, results):
    doc.section("Bayes-optimal reference (K = 2)")
    if not _unavailable(doc, results, "bayes"):
        b = results["bayes"]
        rows = [[escape_text(k), _num(b[k]), _err(b[k])]
                for k in ("kappa_bayes", "kappa_online", "eps_bayes_at_max", "eps_online_at_max",
                          "eps_closure_at_max")]
        rows.append(["closure / Bayes at the largest alpha", _num(b["ratio_closure_to_bayes_at_max"]), "--"])
        doc.table(["quantity", "value", "error"], rows,
                  caption="Bayes-optimal eps_g ~ kappa_bayes/alpha and optimal online ~ kappa_online/alpha "
                          "versus online SGD (alpha^(-1/3)).")
    doc.section("Peaked distributions")
    _key(doc, "peaked_loss")
    _key(doc, "peaked_loss_intermediate")
    if not _unavailable(doc, results, "peaked"):
        p = results["peaked"]
        rows = [[escape_text(k), _num(p[k]), _err(p[k])] for k in ("c0", "c2", "c3", "prefactor",
                                                                    "plateau_slope")]
        rows.append(["L tau^(1/3) at the plateau", _num(p["L_tau_third_at_plateau"]), "--"])
        doc.table(["quantity", "value", "error"], rows,
                  caption=f"n = {p['n']}, beta* = {p['beta_star']:g}: low-temperature coefficients and the "
                          "plateau of the local slope of L(tau).")


def _section_figures(doc, results):
    from asymptotics.report.figures import FIGURES

    doc.section("Figures")
    status = results.get("figures") or {}
    for name, caption in FIGURES.items():
        if status.get(name) == "ok":
            doc.parts.append("\\begin{figure}[htbp]\\centering\n"
                             f"\\includegraphics[width=0.85\\textwidth]{{{name}.pdf}}\n"
                             f"\\caption{{{caption}}}\n\\end{{figure}}")
        else:
            doc.text(f"Figure {name}: {status.get(name, 'not produced')}.")
    doc.parts.append("\\clearpage")


def _section_run(doc, results):
    doc.section("This run")
    rows = [[escape_text(name), escape_text(status), _num(results["timings"].get(name))]
            for name, status in results.get("steps", {}).items()]
    doc.table(["step", "status", "seconds"], rows, caption=f"Mode {results['mode']}.")


def build_report(results: dict, *, equations: bool = True) -> LatexDocument:
    """The report as a :class:`~asymptotics.report.latex.LatexDocument` built from a results dict.

    Steps missing from ``results`` are reported as unavailable; the key equations come from
    :mod:`asymptotics.report.equations` (``equations=False`` leaves them out).

    >>> doc = build_report({"mode": "demo", "steps": {"closure": "unavailable: no sympy"}, "timings": {}},
    ...                    equations=False)
    >>> "unavailable in this run (closure: unavailable: no sympy)" in doc.source()
    True
    """
    doc = LatexDocument("Learning-curve asymptotics of online softmax classification: reproduced results")
    doc.include_equations = equations
    doc.text(f"Generated by asymptotics reproduce (mode {results.get('mode', '?')}); every number below is "
             "the value written to results.json.")
    _section_model(doc, results)
    _section_layer(doc, results)
    _section_late_time(doc, results)
    _section_schedules(doc, results)
    _section_validation(doc, results)
    _section_references(doc, results)
    _section_figures(doc, results)
    _section_run(doc, results)
    return doc
