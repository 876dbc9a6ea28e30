r"""The LaTeX report of a reproduce run, typeset like a paper, from the symbolic results and the results dict.

The report has an abstract, one numbered section per mechanism (boundary layers, peaked
distributions), booktabs tables, figures whose captions say what is theory and what is simulation,
and a bibliography of the papers it reproduces.  All mathematics in the prose is in math mode; names
of results (``eps_g``, ``C_D``, ``eps_g_a3_log``, ...) are typeset by :func:`math_name`.  Equations
come from the deriving modules (:mod:`asymptotics.symbolic.closure` step by step,
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

__all__ = ["format_number", "build_report", "ascii_text", "math_name", "BIBLIOGRAPHY"]

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
    table = {
        "⟨": "<",
        "⟩": ">",
        "→": "->",
        "≈": "~",
        "≤": "<=",
        "≥": ">=",
        "≠": "!=",
        "—": "--",
        "–": "-",
        "’": "'",
        "α": "alpha",
        "Δ": "Delta",
        "η": "eta",
        "ε": "eps",
    }
    text = "".join(table.get(ch, ch if ord(ch) < 128 else "?") for ch in str(text))
    return escape_text(text)


def _tt(text) -> str:
    """Code-like text (step names, status messages) in typewriter type."""
    return r"\texttt{" + escape_text(text) + "}"


#: LaTeX of the observables and constants named in results.json
_OBSERVABLES = {"D": "D", "Delta": r"\Delta", "eps_g": r"\varepsilon_g", "loss": "L"}
_NAMES = {
    "rho0": r"\rho_K(0)",
    "Delta_star": r"\Delta^*",
    "A_star": r"A(\Delta^*)",
    "C_D": "C_D",
    "C_eps": r"C_\varepsilon",
    "C_L": "C_L",
    "c0": "c_0",
    "c2": "c_2",
    "c3": "c_3",
    "prefactor": r"c_2^{2/3}\bigl((n-1)/3\bigr)^{1/3}",
    "plateau_slope": r"\text{plateau of } d\ln L/d\ln\tau",
    "exponent_N": r"N^*",
    "exponent_D": r"D^*",
    "exponent_loss": r"L^*",
    "ridge_exponent_N": r"N^*\ (\text{optimal ridge})",
    "ridge_exponent_loss": r"L^*\ (\text{optimal ridge})",
    "kappa_bayes": r"\kappa_{\mathrm{Bayes}}",
    "kappa_online": r"\kappa_{\mathrm{online}}",
    "eps_bayes_at_max": r"\varepsilon_g^{\mathrm{Bayes}}(\alpha_{\max})",
    "eps_online_at_max": r"\varepsilon_g^{\mathrm{online}}(\alpha_{\max})",
    "eps_closure_at_max": r"\varepsilon_g^{\mathrm{SGD}}(\alpha_{\max})",
    **_OBSERVABLES,
}
_CORRECTION = re.compile(r"^(D|Delta|eps_g|loss)_a(\d+)(_log|_C)?$")
_TRUNCATED = re.compile(r"^(eps_g|loss)_terms(\d+)_alpha(.+)$")


def math_name(name: str) -> str:
    """A result name of ``results.json`` as inline LaTeX math (``$...$``).

    >>> math_name("C_eps")
    '$C_\\\\varepsilon$'
    >>> math_name("eps_g_a3_log")
    '$a_{3}^{\\\\ln}[\\\\varepsilon_g]$'
    >>> math_name("loss_terms2_alpha1e+05")
    '$L$, $2$ terms, $\\\\alpha = 1\\\\times 10^{5}$'
    >>> math_name("e4")
    '$e_{4}$'
    """
    if name in _NAMES:
        return f"${_NAMES[name]}$"
    m = _CORRECTION.match(name)
    if m:
        obs, i, kind = m.groups()
        sup = {"_log": r"^{\ln}", "_C": "^{C}"}.get(kind, "")
        return f"$a_{{{i}}}{sup}[{_OBSERVABLES[obs]}]$"
    m = _TRUNCATED.match(name)
    if m:
        obs, terms, alpha = m.groups()
        return f"${_OBSERVABLES[obs]}$, ${terms}$ terms, $\\alpha = {format_number(alpha)}$"
    m = re.match(r"^e(\d+)$", name)
    if m:
        return f"$e_{{{m.group(1)}}}$"
    return _tt(name)


def _unavailable(doc: LatexDocument, results: dict, step: str) -> bool:
    status = results.get("steps", {}).get(step, "not run")
    if status != "ok" or results.get(step) is None:
        doc.text(f"This part is unavailable in this run ({_tt(step)}: {_tt(status)}).", raw=True)
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
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        doc.text(f"(Equation {_tt(name)} unavailable: {_tt(message)}.)", raw=True)


def _figure(doc: LatexDocument, results: dict, name: str) -> None:
    from asymptotics.report.figures import FIGURES

    status = (results.get("figures") or {}).get(name, "not produced")
    if status == "ok":
        doc.figure(f"{name}.pdf", FIGURES[name], width="0.85\\textwidth", raw_caption=True)
    else:
        doc.text(f"Figure {_tt(name)}: {_tt(status)}.", raw=True)


#: figures placed in each section (every figure of ``FIGURES`` appears once)
SECTION_FIGURES = {
    "late_time": ("learning_curves", "order_parameters", "k_dependence"),
    "schedules": ("schedules",),
    "validation": ("sgd_vs_closure", "exponent_table"),
    "bayes": ("bayes",),
    "peaked": ("peaked",),
    "sparse": ("sparse_peak", "sparse_exponents", "sparse_frontier", "sparse_instability"),
    "losses": ("loss_atlas",),
}

#: prose of the derivation steps of :func:`asymptotics.symbolic.closure.derive_closure`, by step number
STEP_PROSE = {
    1: (
        "Order-parameter flow of online SGD",
        r"With the error signal $e_k = -\partial(-\log p_c)/\partial z_k = \delta_{kc} - p_k$, one step is "
        r"$W_k \leftarrow W_k + (\eta/\sqrt N)\, e_k x$ and advances the time by $d\alpha = 1/N$. The "
        r"overlaps $R_{kl} = W_k\cdot B_l/N$ and $Q_{kl} = W_k\cdot W_l/N$ move by a drift proportional "
        r"to $\eta$ and by a noise term proportional to $\eta^2$, which comes from $|x|^2/N \to 1$.",
    ),
    2: (
        "Mean-logit invariance and centred variables",
        r"Since $\sum_k e_k = 1 - \sum_k p_k = 0$, the mean student vector never moves and $p$ depends "
        r"only on the centred logits. With the projector $P = I - \mathbf{1}\mathbf{1}^{\mathsf T}/K$ "
        r"($P^2 = P$, $Pe = e$) the centred order parameters $\check R = PR$ and $\check Q = PQP$ obey "
        r"the flows below.",
    ),
    3: (
        "Symmetric sector",
        r"In the sector $\check R = DP$, $\check Q = (D^2 + \Delta)P$ the logits "
        r"$z = D y + \sqrt{\Delta}\,\xi$ have, in distribution, the centred covariances, with "
        r"$D = \operatorname{tr}\check R/(K-1)$ and $\Delta = \operatorname{tr}\check Q/(K-1) - D^2$. "
        r"Further $\sum_k e_k y_k = \sum_k e_k (y_k - y_c)$, and Stein's lemma in $\xi$ through the "
        r"softmax gives $\langle p_k \xi_k\rangle = \sqrt{\Delta}\,\langle p_k(1 - p_k)\rangle$.",
    ),
    4: (
        "Observables",
        r"$\varepsilon_g = P[\arg\max_k z_k \ne c] = 1 - \langle \prod_k \theta(z_c - z_k)\rangle$ "
        r"(with $\theta(0) = 1$) and $L = \langle -\log p_c\rangle$, with $z = D y + \sqrt{\Delta}\,\xi$.",
    ),
    5: (
        "Two classes: binary logistic regression",
        r"For $K = 2$, with $h = (y_1 - y_2)/\sqrt2$ and $\zeta = (\xi_1 - \xi_2)/\sqrt2$, the margin is "
        r"$s = z_1 - z_2 = \sqrt2\, D h + \sqrt{2\Delta}\,\zeta$ and $p_1 = \sigma(s)$; conditioned on "
        r"$c = 1$ ($h > 0$) the error is the probability of the wedge $\{h > 0,\ s < 0\}$.",
    ),
}


def _step_heading(number: int, title: str) -> tuple[str, str]:
    """LaTeX title and prose of derivation step ``number`` (equations only if the step is unknown)."""
    if number in STEP_PROSE and str(title).startswith(f"Step {number}:"):
        return STEP_PROSE[number]
    return f"Step {number}", ""


#: the papers the report reproduces and the classical results it compares with
BIBLIOGRAPHY = {
    "kuhn2026": r"K\"uhn, Thelge and Rosenow. A boundary-layer mechanism for one-third scaling in online "
    r"softmax classification. arXiv:2605.22341, 2026.",
    "liu2026": "Y. Liu, Z. Liu, C. Pehlevan and J. Gore. Universal one-third time scaling in learning peaked "
    "distributions. arXiv:2602.03685, 2026.",
    "opper1991": "M. Opper and D. Haussler. Calculation of the learning curve of Bayes optimal "
    "classification algorithm for learning a perceptron with noise. Physical Review Letters "
    "66(20):2677, 1991.",
    "sous2026": "F. Sous and M. Winer. Asymmetric scaling laws from sparse features. arXiv:2605.23591, 2026.",
    "biehl1994": "M. Biehl and P. Riegler. On-line learning with a student-teacher scenario. Europhysics "
    "Letters 28(7):525, 1994.",
    "saad1995": "D. Saad and S. A. Solla. Exact solution for on-line learning in multilayer neural networks. "
    "Physical Review Letters 74(21):4337, 1995.",
}

ABSTRACT = (
    r"Softmax cross-entropy training on hard or peaked targets produces learning curves that decay as "
    r"a power of time with exponent $1/3$. We reproduce two mechanisms for this law with a "
    r"symbolic-numeric toolkit: the boundary-layer mechanism of online softmax teacher--student "
    r"classification~\cite{kuhn2026}, in which at late times only examples within $O(1/D)$ of a teacher "
    r"decision boundary still contribute, so that $\varepsilon_g, L \propto \alpha^{-1/3}$; and the "
    r"near-tie mechanism of a softmax head learning a peaked distribution~\cite{liu2026}, "
    r"$L \propto \tau^{-1/3}$. Every equation is printed from the symbolic derivation, and every number "
    r"is computed by the toolkit and stated with its error, as recorded in \texttt{results.json}."
)


def _section_introduction(doc, results):
    doc.section("Introduction")
    doc.text(
        r"This report is generated by \texttt{asymptotics reproduce} (mode "
        + _tt(results.get("mode", "?"))
        + r"). Section~\ref{sec:boundary} derives the exact centered "
        r"closure of online softmax classification, its boundary-layer reduction, the late-time series "
        r"with its corrections and the exponents under learning-rate schedules, and validates them "
        r"against integration and simulation; Section~\ref{sec:peaked} treats the peaked-distribution "
        r"mechanism, Section~\ref{sec:sparse} sparse features and Section~\ref{sec:losses} other surrogate "
        r"losses. Tables report theory and simulation with their errors; in the figures, lines are "
        r"theory and markers with error bars are simulation.",
        raw=True,
    )


def _section_model(doc, results):
    doc.section("The boundary-layer mechanism", label="sec:boundary")
    doc.subsection("Model")
    doc.text(
        r"Online softmax teacher--student classification with $K$ classes: inputs "
        r"$x \sim \mathcal{N}(0, I_N)$, teacher fields $y_k = B_k\cdot x/\sqrt{N}$ with "
        r"$B_k\cdot B_l = N\delta_{kl}$, label $c = \arg\max_k y_k$, student logits "
        r"$z_k = W_k\cdot x/\sqrt{N}$, $p = \operatorname{softmax}(z)$, loss $-\log p_c$, online SGD with "
        r"step $\eta/\sqrt{N}$ and time $\alpha = (\text{steps})/N$~\cite{kuhn2026}. As in the classical "
        r"analyses of online learning~\cite{biehl1994,saad1995}, the dynamics close in order parameters: "
        r"here the centered alignment $D$ and the residual variance $\Delta$, with "
        r"$z_k = D y_k + \sqrt{\Delta}\,\xi_k$ in distribution. The derivation below is carried out by "
        r"\texttt{asymptotics.symbolic.closure}, step by step, for a general $K$.",
        raw=True,
    )
    if _unavailable(doc, results, "closure"):
        return
    cl = results["closure"]
    for number, st in enumerate(cl["steps"] + cl.get("binary_steps", []), start=1):
        title, prose = _step_heading(number, st["title"])
        doc.subsection(title, raw=True)
        if prose:
            doc.text(prose, raw=True)
        for line in _equation_lines(st["latex"]):
            doc.equation(line)
    doc.subsection(r"The closure for \texorpdfstring{$K = 3$}{K = 3}", raw=True)
    for line in _equation_lines(cl["flow_latex"]["3"].splitlines()):
        doc.equation(line)


def _section_layer(doc, results):
    doc.subsection("Boundary layers")
    doc.text(
        r"At late times $D \gg 1$ and only examples whose teacher top gap $g = y_{(1)} - y_{(2)}$ is "
        r"$O(1/D)$ contribute. In this layer the two leading classes have the local margin "
        r"$s = u + \sqrt{2\Delta}\,\zeta$ with $u = Dg$, and a layer average is "
        r"$\langle f\rangle \simeq (\rho_K(0)/D)\int_0^\infty du\; \mathbb{E}_\zeta f(u)$. The gap density "
        r"at zero and the layer integrals have closed forms, derived by SymPy "
        r"(\texttt{asymptotics.asymptotic}):",
        raw=True,
    )
    for name in ("gap_density_K3", "layer_J", "layer_A", "layer_B", "layer_error"):
        _key(doc, name)
    doc.text(
        r"Inserted into the closure they give the reduced flow ($K = 3$) and its fixed point "
        r"$\Delta^*$:",
        raw=True,
    )
    for name in ("reduced_flow_D", "reduced_flow_Delta", "fixed_point_Delta"):
        _key(doc, name)
    if _unavailable(doc, results, "constants"):
        return
    c = results["constants"]
    rows = []
    for K, entry in _per_K(c):
        for name, q in entry.get("leading", {}).items():
            rows.append([f"${K}$", math_name(name), _num(q), _err(q)])
    doc.table(
        ["$K$", "constant", f"value (${c['digits']}$ digits)", "error"],
        rows,
        caption=r"Leading late-time constants (theory) at $\eta = 1$: $D \simeq C_D\,\alpha^{1/3}$, "
        r"$\varepsilon_g \simeq C_\varepsilon\,\alpha^{-1/3}$, $L \simeq C_L\,\alpha^{-1/3}$.",
        raw_caption=True,
    )


def _section_late_time(doc, results):
    doc.subsection("Late-time series")
    doc.text(
        r"The reduced flow at higher order in $1/D$ is solved by slaving $\Delta$ to its invariant "
        r"manifold, integrating the drift (with the free constant $C$) and inverting; with "
        r"$\kappa = \eta/(K-1)$, $x = (3\kappa g_0\alpha)^{1/3}$ and $t = 1/x$:",
        raw=True,
    )
    for name in ("late_time_alpha", "late_time_D", "late_time_eps_g", "late_time_loss"):
        _key(doc, name)
    if not _unavailable(doc, results, "constants"):
        c = results["constants"]
        for K, entry in _per_K(c):
            rows = [[math_name(name), _num(q), _err(q)] for name, q in entry["corrections"].items()]
            doc.table(
                ["coefficient", "value", "error"],
                rows,
                caption=f"$K = {K}$ (theory): relative corrections $y/y_{{\\mathrm{{lead}}}} = 1 + "
                r"a_1\alpha^{-1/3} + a_2\alpha^{-2/3} + (a_3 + a_3^{\ln}\ln\alpha + a_3^{C} C)"
                r"\,\alpha^{-1} + \dots$ of $y = D, \Delta, \varepsilon_g, L$ "
                f"(order ${entry['series_order']}$, ${entry['series_digits']}$ digits); "
                r"$e_i$: coefficients of the quadrature $\alpha(D)$.",
                raw_caption=True,
            )
    for name in SECTION_FIGURES["late_time"]:
        _figure(doc, results, name)


def _section_schedules(doc, results):
    doc.subsection("Learning-rate schedules")
    doc.text(
        r"With $\eta = (1 + \alpha)^{-\beta}$, $\Delta$ follows $\Delta^*(\eta)$ adiabatically for "
        r"$\beta < 1$, and the derived exponents are:",
        raw=True,
    )
    _key(doc, "schedule_eps_g_exponent")
    _key(doc, "schedule_loss_exponent")
    if not _unavailable(doc, results, "schedules"):
        s = results["schedules"]
        rows = []
        for b in s["betas"].values():
            rows.append(
                [
                    _num(b["beta"]),
                    _num(b["eps_g_exponent"]),
                    _err(b["eps_g_exponent"]),
                    _num(b["eps_g_predicted"]),
                    _num(b["loss_exponent"]),
                    _err(b["loss_exponent"]),
                    _num(b["loss_predicted"]),
                ]
            )
        doc.table(
            [r"$\beta$", r"$\varepsilon_g$ exponent", "error", "derived", "$L$ exponent", "error", "derived"],
            rows,
            caption=f"Exponents measured on the reduced flow (theory; $K = {s['K']}$, $\\alpha$ up to "
            f"${format_number(s['alpha_max'])}$) versus the derived "
            r"$-(2+\beta)/6$ and $-(1-\beta)/3$.",
            raw_caption=True,
        )
    for name in SECTION_FIGURES["schedules"]:
        _figure(doc, results, name)


def _section_validation(doc, results):
    doc.subsection("Validation")
    doc.subsubsection("SGD versus the closure")
    if not _unavailable(doc, results, "sgd"):
        s = results["sgd"]
        for names in (("D", "Delta"), ("eps_g", "loss")):
            rows = []
            for r in s["rows"]:
                row = [_num(r["alpha"])]
                for n in names:
                    row += [f"{_num(r[n]['sgd'])} $\\pm$ {_num(r[n]['se'])}", _num(r[n]["closure"])]
                rows.append(row)
            header = [r"$\alpha$"]
            for n in names:
                header += [f"{math_name(n)} SGD", f"{math_name(n)} closure"]
            doc.table(
                header,
                rows,
                caption=f"$K = {s['K']}$, $N = {s['N']}$, ${s['seeds']}$ seeds: online SGD "
                r"(simulation, mean $\pm$ standard error) and the exact closure (theory). "
                f"Largest relative deviation ${format_number(s['max_relative_deviation'])}$, "
                f"largest deviation ${format_number(s['max_deviation_in_se'])}$ standard "
                "errors (all four observables).",
                raw_caption=True,
            )
    doc.subsubsection("Exact integration and the expansion")
    if not _unavailable(doc, results, "integration"):
        rows = [
            [f"${K}$", _num(e["alpha_max"]), math_name(n), _num(q), _err(q)]
            for K, e in _per_K(results["integration"])
            for n, q in e["final"].items()
        ]
        doc.table(
            ["$K$", r"$\alpha$", "observable", "exact closure", "error"],
            rows,
            caption=r"Exact closure (theory) at the largest $\alpha$; error: the change under a "
            r"$100\times$ looser tolerance.",
            raw_caption=True,
        )
    if not _unavailable(doc, results, "check"):
        rows = []
        for K, e in _per_K(results["check"]):
            for n, q in e["prefactor_ratio"].items():
                rows.append([f"${K}$", f"{math_name(n)}: ratio to the leading law", _num(q)])
            rows.append([f"${K}$", "fitted constant $C$", _num(e["C"])])
            for n, v in e["series_relative_error"].items():
                rows.append([f"${K}$", math_name(n), _num(v)])
        doc.table(
            ["$K$", "check", "value"],
            rows,
            caption=r"Late-time series (theory) versus the exact closure (theory, integrated): "
            r"ratios to the leading laws at the largest $\alpha$ and relative errors of the "
            r"series truncated after the given number of terms, with $C$ fitted on $D$ at the "
            r"largest $\alpha$.",
            raw_caption=True,
        )
    doc.subsubsection("Exponents")
    if not _unavailable(doc, results, "exponents"):
        rows = []
        for K, e in _per_K(results["exponents"]):
            for n in ("eps_g", "loss"):
                q = e[n]["exponent"]
                lo, hi = (format_number(x) for x in e["fit_range"])
                rows.append(
                    [
                        f"${K}$",
                        math_name(n),
                        _num(q),
                        _err(q),
                        _num(e[n]["last_local_slope"]),
                        f"$[{lo}, {hi}]$",
                    ]
                )
        doc.table(
            [
                "$K$",
                "observable",
                "extrapolated exponent",
                "error",
                "last local slope",
                r"fit range of $\alpha$",
            ],
            rows,
            caption=r"Local slopes $d\ln y/d\ln\alpha$ of the exact closure (theory) extrapolated "
            r"with the correction powers $k/3$.",
            raw_caption=True,
        )
    for name in SECTION_FIGURES["validation"]:
        _figure(doc, results, name)


def _section_finite_size(doc, results):
    doc.subsubsection("Finite-size corrections")
    doc.text(
        r"At finite $N$ the order parameters of one run of online SGD scatter around the closure by "
        r"$O(N^{-1/2})$ and their mean is shifted by $O(1/N)$. For $K = 2$ the shift is derived: from "
        r"$W(0) = 0$ the student stays centred, $W = (w, -w)$, and a run is exactly described by "
        r"$s = (r_u, r_v, q)$ with $D = \sqrt2\, r_u$ and $\Delta = 2q - 2r_u^2$. The expected increment of "
        r"$s$ per step is $F(s) + G(s)/N$ exactly ($G$ comes from the fluctuation of $|x|^2/N$), the closure "
        r"is $ds/d\alpha = F(s)$, and the linear-noise expansion of the chain with step $1/N$ gives "
        r"$\mathbb{E}\, s = x + m_1/N$ and $\mathrm{Cov}\, s = \Sigma/N$ with",
        raw=True,
    )
    doc.equation(
        r"\Sigma' = J\Sigma + \Sigma J^{\top} + S,\qquad "
        r"m_1' = J m_1 + G + \tfrac12 H{:}\Sigma - \tfrac12 J F,"
    )
    doc.text(
        r"where $J$ and $H$ are the first and second derivatives of $F$ and $S$ is $N$ times the covariance "
        r"of one step's increment; an observable $f$ has $\mathbb{E} f = f(x) + (\nabla f\cdot m_1 + "
        r"\tfrac12 H_f{:}\Sigma)/N$ and variance $\nabla f^{\top}\Sigma\nabla f/N$. For $K = 3$ no such "
        r"reduction is derived and the deviations are measured only (simulation).",
        raw=True,
    )
    if _unavailable(doc, results, "finite_size"):
        return
    fs = results["finite_size"]
    rows = []
    for r in fs["headline"]:
        derived = _num(r["theory_coefficient"]) if "theory_coefficient" in r else "--"
        rows.append(
            [
                f"${r['K']}$",
                _num(r["eta"]),
                math_name(r["observable"]),
                _num(r["z_at_N_max"]),
                rf"{_num(r['exponent'])} $\pm$ {_num(r['exponent_err'])}",
                rf"{_num(r['coefficient'])} $\pm$ {_num(r['coefficient_err'])}",
                derived,
                rf"{_num(r['spread_exponent'])} $\pm$ {_num(r['spread_exponent_err'])}",
            ]
        )
    seeds = ", ".join(f"${n}$: ${s}$" for n, s in zip(fs["N"], fs["seeds"]))
    doc.table(
        [
            "$K$",
            r"$\eta$",
            "observable",
            r"$z$ at $N_{\max}$",
            r"exponent in $1/N$",
            r"$N\times$ deviation",
            "derived",
            "spread exponent",
        ],
        rows,
        caption=r"Mean deviation of online SGD from the closure (simulation minus theory) at "
        rf"$\alpha = 2$ for $N = {fs['N'][0]}\ldots{fs['N'][-1]}$ "
        f"(seeds per $N$: {seeds}): $z$-score at the largest $N$, exponent of the deviation "
        r"in $1/N$ (weighted fit over $N$), coefficient $N\times$deviation and, for $K = 2$, "
        r"the derived coefficient (theory); last column: exponent of the seed-to-seed spread "
        r"(expected $-1/2$). Source: \texttt{benchmarks/validate\_finite\_size.py}.",
        raw_caption=True,
    )
    doc.figure(
        fs["figure"],
        r"Finite-size study: $|\mathbb{E}\,X_N - X_\infty|$ versus $N$ at "
        r"$\alpha = 2$ (simulation; dashed: $1/N$), the coefficient "
        r"$N\times$deviation versus $\alpha$ (points: simulation; lines: derived "
        r"theory, $K = 2$) and $\sqrt{N}\times$spread versus $N$ (dashed: theory, "
        r"$K = 2$).",
        width=r"0.95\textwidth",
        raw_caption=True,
    )


def _section_bayes(doc, results):
    doc.subsection(r"Bayes-optimal reference (\texorpdfstring{$K = 2$}{K = 2})", raw=True)
    doc.text(
        r"For two classes the model is the teacher--student perceptron, whose Bayes-optimal "
        r"error~\cite{opper1991} and optimal online error both decay as $\alpha^{-1}$, faster than "
        r"online SGD on the softmax.",
        raw=True,
    )
    if not _unavailable(doc, results, "bayes"):
        b = results["bayes"]
        rows = [
            [math_name(k), _num(b[k]), _err(b[k])]
            for k in (
                "kappa_bayes",
                "kappa_online",
                "eps_bayes_at_max",
                "eps_online_at_max",
                "eps_closure_at_max",
            )
        ]
        rows.append(
            [
                r"$\varepsilon_g^{\mathrm{SGD}}/\varepsilon_g^{\mathrm{Bayes}}$ at $\alpha_{\max}$",
                _num(b["ratio_closure_to_bayes_at_max"]),
                "--",
            ]
        )
        doc.table(
            ["quantity", "value", "error"],
            rows,
            caption=r"Bayes-optimal $\varepsilon_g \simeq \kappa_{\mathrm{Bayes}}/\alpha$ and optimal "
            r"online $\varepsilon_g \simeq \kappa_{\mathrm{online}}/\alpha$ (theory) versus "
            r"online SGD at $\eta = 1$ (exact closure, theory, $\alpha^{-1/3}$).",
            raw_caption=True,
        )
    for name in SECTION_FIGURES["bayes"]:
        _figure(doc, results, name)


def _section_peaked(doc, results):
    doc.section("Peaked distributions", label="sec:peaked")
    doc.text(
        r"A softmax head with vocabulary $n$ learns the peaked target $\operatorname{softmax}(\beta^* h)$, "
        r"$h = \hat W x/\sqrt{m}$, by gradient flow in the dynamic time $\tau$~\cite{liu2026}. The student "
        r"stays aligned, $W(\tau) = \beta(\tau)\,P\hat W/\sqrt{m}$, with "
        r"$d\beta/d\tau = -(n-1)^{-1}\,dL/d\beta$, and the problem becomes the statistical mechanics of "
        r"$n$ Gaussian logits at inverse temperature $\beta$: "
        r"$L(\beta) = U(\beta^*)(\beta - \beta^*) + \beta^* F(\beta^*) - \beta F(\beta)$. Near-ties of the "
        r"two largest logits give $c_2 = (\pi^2/12)\,\rho_n(0)$, the low-temperature loss and, in the "
        r"intermediate regime $c_0 \lesssim \beta \ll \beta^*$, the one-third law:",
        raw=True,
    )
    _key(doc, "peaked_loss")
    _key(doc, "peaked_loss_intermediate")
    if not _unavailable(doc, results, "peaked"):
        p = results["peaked"]
        rows = [
            [math_name(k), _num(p[k]), _err(p[k])] for k in ("c0", "c2", "c3", "prefactor", "plateau_slope")
        ]
        rows.append([r"$L\,\tau^{1/3}$ at the plateau", _num(p["L_tau_third_at_plateau"]), "--"])
        doc.table(
            ["quantity", "value", "error"],
            rows,
            caption=f"$n = {p['n']}$, $\\beta^* = {format_number(p['beta_star'])}$: low-temperature "
            r"coefficients (theory) and the plateau of the local slope of $L(\tau)$ along "
            r"the aligned gradient flow (theory).",
            raw_caption=True,
        )
    for name in SECTION_FIGURES["peaked"]:
        _figure(doc, results, name)


def _section_sparse(doc, results):
    doc.section("Sparse features", label="sec:sparse")
    doc.text(
        r"A stand-in model reproducing the claims of the abstract of~\cite{sous2026} (the paper's body is "
        r"not available; every formula here is derived by the toolkit): inputs $x_i = b_i g_i$ with "
        r"$b_i \sim \mathrm{Bernoulli}(p_i)$, $p_i = \min(1, i^{-s})$, target $y = w\cdot x$ with "
        r"$p_i w_i^2 = i^{-(1+a)}$, $N$ random features $\phi = Fx$ fitted on $D$ samples, here $s = 2$, "
        r"$a = 1/2$. Coordinates never seen in training (outside $S$) give the exact decomposition "
        r"$L = \sum_{i\in S} p_i(\hat\beta_i - w_i)^2 + \sum_{i\notin S} p_i w_i^2 "
        r"+ (\|\theta\|^2/N)\sum_{i\notin S} p_i$. $D$ samples reveal $\mathbb{E}|S| \simeq "
        r"\Gamma(1 - 1/s) D^{1/s}$ directions, so the double-descent peak sits there, the loss falls as "
        r"$N^{-a}$ below it and tends to a floor $\propto D^{-a/s}$ above it.",
        raw=True,
    )
    if _unavailable(doc, results, "sparse"):
        return
    r = results["sparse"]
    rows = [
        [_num(p["D"]), _num(p["seen_expected"]), _num(p["threshold"]), _num(p["peak_N"]), _num(p["ratio"])]
        for p in r["peaks"]
    ]
    doc.table(
        [
            "$D$",
            r"$\mathbb{E}|S|$",
            r"$\mathbb{E}\,\mathrm{rank}$",
            "peak of the median",
            r"peak$/\mathbb{E}|S|$",
        ],
        rows,
        caption=r"The peak of the median loss (theory) at the seen count, not at $N = D$.",
        raw_caption=True,
    )
    f = r["frontier"]
    doc.text(
        r"At compute $C = cND$ the stationarity of the Lagrangian $L + \mu(cND - C)$ gives "
        r"$N^* \propto C^{1/(1+s)}$, $D^* \propto C^{s/(1+s)}$, $L^* \propto C^{-a/(1+s)}$: the data exponent "
        r"exceeds the parameter exponent by $(s-1)/(s+1)$. On the full surface, which has the peak, the "
        r"scaling form $L = D^{-a/s} f(ND^{-1/s})$ gives the same exponents with prefactors from "
        r"$x^* = \arg\min x^{a/(s+1)} f(x) = $ "
        + _num(f["x_star"])
        + r", i.e. $N^* \simeq$ "
        + _num(f["prefactor_N"])
        + r" $C^{1/3}$ and $L^* \simeq$ "
        + _num(f["prefactor_loss"])
        + r" $C^{-1/6}$; the ridgeless optimum lies on the over-parameterised side of the peak.",
        raw=True,
    )
    rows = [
        [_num(c), _num(n), _num(d), _num(l)]
        for c, n, d, l in zip(f["C"], f["N_opt"], f["D_opt"], f["loss_opt"])
    ]
    doc.table(
        ["$C$", "$N^*$", "$D^*$", "$L^*$"],
        rows,
        caption=r"Compute-optimal frontier of the ridgeless expected loss (theory).",
        raw_caption=True,
    )
    rows = [
        [math_name(k), _num(f[k]), _err(f[k])]
        for k in ("exponent_N", "exponent_D", "exponent_loss", "ridge_exponent_N", "ridge_exponent_loss")
    ]
    doc.table(
        ["exponent", "measured", "distance to the derived value"],
        rows,
        caption=r"Measured frontier exponents (theory surface; ridgeless and optimal ridge) against "
        r"$1/(1+s)$, $s/(1+s)$, $-a/(1+s)$.",
        raw_caption=True,
    )
    ins = r["instability"]
    doc.text(
        r"Gradient descent with step $\eta$ diverges iff $\eta\lambda_{\max}(\Phi^{\mathsf T}\Phi/D) > 2$. "
        r"The top eigenvalue sits on the always-active coordinate, "
        r"$\lambda_{\max} \approx (\chi^2_D/D)(\chi^2_N/N) + \Delta$ with a shift "
        r"$\mathbb{E}\Delta \approx (1/N + 1/D)\sum_{k\ge1}(\zeta(ks) - 1)$ from the sparse design; in the tail "
        r"$P \simeq e^{-NJ(\varepsilon)}/(\varepsilon\sqrt{\pi N})$ with $J(e) = (e - \ln(1+e))/2$. "
        r"Largest deviation of the law from "
        + _num(ins["draws"])
        + r" Monte-Carlo draws: "
        + _num(ins["max_deviation_in_se"])
        + r" standard errors.",
        raw=True,
    )
    rows = [
        [
            _num(x["eta"]),
            _num(x["theory"]),
            f"{_num(x['simulated'])} $\\pm$ {_num(x['se'])}",
            _num(x["bound"]),
        ]
        for x in ins["rows"]
    ]
    doc.table(
        [r"$\eta$", "law", "Monte Carlo", "exact lower bound"],
        rows,
        caption=f"$P(\\eta\\lambda_{{\\max}} > 2)$, $N = {ins['N']}$, $D = {ins['D']}$: the law (theory), "
        r"Monte Carlo (simulation) and the exact Schur-complement bound (theory).",
        raw_caption=True,
    )
    rl = r["relu"]
    doc.text(
        r"ReLU features $\phi = \mathrm{ReLU}(Fx + b)$: the infinite-width floor (simulation) falls with "
        r"slope " + _num(rl["floor_slope"]) + r" against $D$ ($-a/s = -0.25$); the Gaussian-equivalence "
        r"argument turns the nonlinear part into an implicit ridge, which removes the peak at the seen count.",
        raw=True,
    )
    for name in SECTION_FIGURES["sparse"]:
        _figure(doc, results, name)


def _exponent(x) -> str:
    """An exponent of the atlas as LaTeX: a fraction with denominator <= 24 when the float is one to its
    10 stored digits (``-1/3``), else the number.

    >>> _exponent(-1 / 3), _exponent(-0.4166666667), _exponent(-0.25), _exponent(0.123456789)
    ('-1/3', '-5/12', '-1/4', '0.12345679')
    """
    from fractions import Fraction

    q = Fraction(x).limit_denominator(24)
    if abs(float(q) - x) < 1e-9 * max(1.0, abs(x)):
        return str(q)
    return format_number(float(x))


def _power_law(prefactor, exponent) -> str:
    if prefactor is None:
        return "--"
    return f"${format_number(prefactor)}\\,\\alpha^{{{_exponent(exponent)}}}$"


def _atlas_cells(r: dict) -> list[str]:
    """Loss, K, schedule, eps_g law, L law, Delta*, error of one atlas row (LaTeX cells)."""
    sched = r"$\eta = 1$" if r["schedule"] == "constant" else f"$\\beta = {r['schedule'].split('=')[-1]}$"
    if r["plateau_eps_g"] is not None:
        eps = f"plateau ${format_number(r['plateau_eps_g'])}$"
    elif r["prefactor_eps_g"] is None and r["exponent_eps_g"] == 0:
        eps = "slower than any power"
    else:
        eps = _power_law(r["prefactor_eps_g"], r["exponent_eps_g"])
    if r["prefactor_loss"] is not None:
        loss = _power_law(r["prefactor_loss"], r["exponent_loss"])
    elif r.get("limit_loss"):
        loss = f"$\\to {format_number(r['limit_loss'])}$"
    else:
        loss = "slower than any power"
    return [_tt(r["loss"]), f"${r['K']}$", sched, eps, loss, _num(r.get("Delta_star")), _num(r["error"])]


def _section_losses(doc, results):
    doc.section("Losses as data", label="sec:losses")
    doc.text(
        r"The boundary-layer mechanism was derived for cross-entropy; nothing in the derivation needs "
        r"that loss. For a surrogate loss $\ell(z, c)$ given as a SymPy expression the error signal is "
        r"$e_k = -\partial\ell/\partial z_k$. If $\sum_k e_k = 0$ identically (shift invariance, decided "
        r"symbolically; a loss that moves the mean logit is refused) the centred closure keeps its "
        r"form, $dD/d\alpha = \eta\,\langle\sum_k e_k y_k\rangle/(K-1)$ and "
        r"$d\Delta/d\alpha = \eta\,\{-2\Delta\,\langle\sum_k \partial^2\ell/\partial z_k^2\rangle "
        r"+ \eta\,\langle\sum_k e_k^2\rangle\}/(K-1)$: Stein's lemma in the student noise brings in the "
        r"Hessian of the loss. The derivation is carried out by \texttt{asymptotics.losses.derivation}; "
        r"for the focal loss $-(1 - p_c)^2\log p_c$ and for label smoothing with $\epsilon = 1/10$ it "
        r"gives, for a general $K$:",
        raw=True,
    )
    if _unavailable(doc, results, "losses"):
        return
    r = results["losses"]
    for name in ("focal:gamma=2", "label_smoothing:eps=0.1"):
        doc.text(f"Loss {_tt(name)}:", raw=True)
        for line in _equation_lines(r["flow_latex"][name]):
            doc.equation(line)
    doc.text(
        r"Two late-time regimes follow. Where the two-class loss $\lambda(s)$ decays exponentially at "
        r"large margins and the $K$-class loss reduces to it when the other classes are far below, "
        r"only a boundary layer of width $O(1/D)$ contributes: with $g = -\lambda'$ and "
        r"$a = \sqrt{2\Delta}\,\zeta$ the loss's layer integrals "
        r"$A(\Delta) = \int_0^\infty du\,\mathbb{E}\,\lambda(u + a)$, "
        r"$R(\Delta) = 2\,\mathbb{E}\,g(a)$ and $N(\Delta) = \int_0^\infty du\,\mathbb{E}\,2g(u + a)^2$ "
        r"fix $\Delta^*$ by $2\Delta^* R(\Delta^*) = \eta N(\Delta^*)$, and at fixed $\eta$ "
        r"$\varepsilon_g \simeq \rho_K(0)\sqrt{\Delta^*/\pi}/C_D\;\alpha^{-1/3}$ and "
        r"$L \simeq \rho_K(0) A^*/C_D\;\alpha^{-1/3}$ with $C_D^3 = 3\eta\rho_K(0)A^*/(K-1)$; under "
        r"$\eta = (1+\alpha)^{-\beta}$, $\beta < 1$, the exponents are $-(2+\beta)/6$ and "
        r"$-(1-\beta)/3$ (\texttt{asymptotics.losses.layer}). Label smoothing has a target that is not "
        r"one-hot: $L(D, 0)$ has a minimum at a finite $D_0$, $D$ saturates, and at fixed $\eta$ the "
        r"closure relaxes to its fixed point, $\mathrm{drift} = 0$ and "
        r"$2\Delta\,\mathrm{restoring} = \eta\,\mathrm{noise}$, where $\varepsilon_g$ has a plateau; "
        r"under a schedule with $\beta < 1$, $\varepsilon_g \propto \alpha^{-\beta/2}$ and $L$ tends to "
        r"$L(D_0, 0) > 0$ (\texttt{asymptotics.losses.saturation}).",
        raw=True,
    )
    rows = [_atlas_cells(row) for row in r["rows"]]
    check = (
        "the deviation of the exponents measured on the exact closure"
        if r["check"]
        else f"the size of the first neglected correction at $\\alpha = {format_number(r['alpha_ref'])}$"
    )
    doc.table(
        ["loss", "$K$", "schedule", r"$\varepsilon_g$", "$L$ (training loss)", r"$\Delta^*$", "error"],
        rows,
        caption=r"Atlas of late-time laws (theory: derived by \texttt{asymptotics.losses.atlas}; "
        r"schedule $\eta = (1+\alpha)^{-\beta}$ or constant $\eta = 1$). $\Delta^*$ is the "
        r"fixed point of the residual variance at constant $\eta$ (boundary layer or "
        f"saturated fixed point); error: {check}.",
        raw_caption=True,
    )
    rows = []
    for c in r["plateau"]:
        rows.append(
            [
                _tt(c["loss"]),
                f"${c['K']}$",
                _num(c["eta"]),
                _num(c["D_star"]),
                _num(c["Delta_star"]),
                _num(c["eps_g_fixed_point"]),
                _num(c["eps_g_closure"]),
                _num(c["max_abs_difference"]),
            ]
        )
    alpha = format_number(r["plateau"][0]["alpha"]) if r["plateau"] else "--"
    doc.table(
        [
            "loss",
            "$K$",
            r"$\eta$",
            "$D^*$",
            r"$\Delta^*$",
            r"$\varepsilon_g$ fixed point",
            r"$\varepsilon_g$ closure",
            "largest difference",
        ],
        rows,
        caption=r"The plateau of label smoothing: the fixed point of the closure (theory, a root "
        r"solve on the exact moments) against the exact closure integrated at constant "
        f"$\\eta$ (theory, to $\\alpha = {alpha}$); largest difference of $D$, $\\Delta$ and "
        r"$\varepsilon_g$.",
        raw_caption=True,
    )
    for name in SECTION_FIGURES["losses"]:
        _figure(doc, results, name)


def _remaining_figures(doc, results):
    from asymptotics.report.figures import FIGURES

    placed = {name for names in SECTION_FIGURES.values() for name in names}
    rest = [name for name in FIGURES if name not in placed]
    if rest:
        doc.section("Further figures")
        for name in rest:
            _figure(doc, results, name)


def _section_run(doc, results):
    doc.parts.append("\\clearpage\n\\appendix")
    doc.section("This run")
    rows = [
        [_tt(name), _tt(status), _num(results["timings"].get(name))]
        for name, status in results.get("steps", {}).items()
    ]
    doc.table(
        ["step", "status", "seconds"],
        rows,
        caption=f"Steps of this run (mode {_tt(results.get('mode', '?'))}) and their wall-clock times.",
        raw_caption=True,
    )


def build_report(results: dict, *, equations: bool = True) -> LatexDocument:
    """The report as a :class:`~asymptotics.report.latex.LatexDocument` built from a results dict.

    Steps missing from ``results`` are reported as unavailable; the key equations come from
    :mod:`asymptotics.report.equations` (``equations=False`` leaves them out).

    >>> doc = build_report({"mode": "demo", "steps": {"closure": "unavailable: no sympy"}, "timings": {}},
    ...                    equations=False)
    >>> r"unavailable in this run (\\texttt{closure}: \\texttt{unavailable: no sympy})" in doc.source()
    True
    """
    doc = LatexDocument(
        "One-third scaling laws of softmax learning: boundary layers and peaked distributions, reproduced"
    )
    doc.include_equations = equations
    doc.abstract = ABSTRACT
    _section_introduction(doc, results)
    _section_model(doc, results)
    _section_layer(doc, results)
    _section_late_time(doc, results)
    _section_schedules(doc, results)
    _section_validation(doc, results)
    _section_finite_size(doc, results)
    _section_bayes(doc, results)
    _section_peaked(doc, results)
    _section_sparse(doc, results)
    _section_losses(doc, results)
    _remaining_figures(doc, results)
    doc.bibliography(BIBLIOGRAPHY)
    _section_run(doc, results)
    return doc
