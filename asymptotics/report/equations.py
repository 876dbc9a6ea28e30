r"""Key equations of the theory as LaTeX strings, built from the symbolic objects of the library.

Nothing here is typed in: every string is printed from the SymPy expression that the deriving module
returns (closure flow, boundary-layer closed forms, reduced flow, late-time quadrature, schedule
exponents, peaked-distribution expansion).  A change in a derivation therefore changes these strings,
and the tests that assert them exactly turn it into a reviewed diff.

``K`` (number of classes): ``None`` means the general symbolic K where the deriving module supports it
(the centered closure); the reduced flow, whose SymPy form is built for an integer K, uses K = 3 unless
another K is given.

>>> key_equation_latex("reduced_flow_D")
'\\frac{dD}{d\\alpha} = \\frac{\\eta \\rho_K(0) \\left(6 \\Delta + \\pi^{2}\\right)}{24 D^{2}}'
>>> "layer_A" in key_equation_names()
True
"""

from __future__ import annotations

import sympy as sp

from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = ["key_equation", "key_equation_latex", "key_equation_names", "EQUATION_DESCRIPTIONS"]

#: name -> one-line description (the order is the order of ``asymptotics latex --list``)
EQUATION_DESCRIPTIONS = {
    "closure_D": "exact centered closure: flow of the alignment D",
    "closure_Delta": "exact centered closure: flow of the residual variance Delta",
    "binary_eps_g": "K = 2: generalisation error from the bivariate orthant probability",
    "gap_density_K3": "top-gap density of the teacher at zero, K = 3 (closed form)",
    "layer_J": "restoring boundary-layer integral J",
    "layer_A": "drift (= loss) boundary-layer integral A(Delta)",
    "layer_B": "noise boundary-layer integral B(Delta)",
    "layer_error": "error boundary-layer integral",
    "reduced_flow_D": "reduced flow at leading order in 1/D: dD/dalpha",
    "reduced_flow_Delta": "reduced flow at leading order in 1/D: dDelta/dalpha",
    "fixed_point_Delta": "fixed point Delta* of the reduced flow",
    "late_time_alpha": "late-time quadrature alpha(D) with the free constant C",
    "late_time_D": "inverted late-time series D/x in t = 1/x, x = (3 kappa g_0 alpha)^(1/3)",
    "late_time_eps_g": "leading late-time generalisation error",
    "late_time_loss": "leading late-time test loss",
    "schedule_eps_g_exponent": "exponent of eps_g under eta ~ alpha^(-beta)",
    "schedule_loss_exponent": "exponent of L under eta ~ alpha^(-beta)",
    "peaked_loss": "peaked distributions: low-temperature loss L(beta)",
    "peaked_loss_intermediate": "peaked distributions: L(tau) in the intermediate regime",
}


def key_equation_names() -> list[str]:
    """Names accepted by :func:`key_equation_latex`.

    >>> key_equation_names()[:2]
    ['closure_D', 'closure_Delta']
    """
    return list(EQUATION_DESCRIPTIONS)


def _closure(name: str, K):
    from asymptotics.symbolic.closure import closure_symbols, flow_factored, num_classes_symbol

    Kx = num_classes_symbol() if K is None else check_num_classes(K)
    s = closure_symbols(Kx)
    pre, inner = flow_factored(Kx)[name.split("_", 1)[1]]
    sym = s.D if name == "closure_D" else s.Delta
    return sym, s.alpha, pre, inner


def _closure_latex(name: str, K) -> str:
    from asymptotics.symbolic.closure import latex

    sym, alpha, pre, inner = _closure(name, K)
    body = latex(inner)
    if isinstance(inner, sp.Add):
        body = r"\left\{" + body + r"\right\}"
    return f"{latex(sp.Derivative(sym, alpha))} = {latex(pre)} {body}"


def _D_Delta():
    return sp.symbols("D Delta", positive=True)


def key_equation(name: str, K: int | None = None) -> sp.Eq:
    """The SymPy equation behind ``name`` (closure equations are returned through their LaTeX only).

    >>> key_equation("fixed_point_Delta")
    Eq(Delta^*, eta*B(Delta^*))
    """
    if name not in EQUATION_DESCRIPTIONS:
        raise InvalidInputError(
            f"unknown equation {name!r}; expected one of {', '.join(EQUATION_DESCRIPTIONS)}"
        )
    D, Delta = _D_Delta()
    alpha, eta, beta = sp.symbols("alpha eta beta", positive=True)
    rho0 = sp.Symbol("rho_K(0)", positive=True)
    if name.startswith("closure_"):
        sym, al, pre, inner = _closure(name, K)
        return sp.Eq(sp.Derivative(sym, al), pre * inner, evaluate=False)
    if name == "binary_eps_g":
        from asymptotics.symbolic.closure import orthant_error_k2

        return sp.Eq(sp.Symbol("varepsilon_g"), orthant_error_k2())
    if name == "gap_density_K3":
        from asymptotics.asymptotic.gap_density import top_gap_density_closed_form

        return sp.Eq(sp.Symbol("rho_3(0)"), top_gap_density_closed_form(3))
    if name.startswith("layer_"):
        from asymptotics.asymptotic.layer_integrals import derive_closed_forms

        forms = derive_closed_forms()
        key = {"layer_J": "restoring", "layer_A": "drift", "layer_B": "noise", "layer_error": "eps_g"}[name]
        lhs = {
            "layer_J": sp.Symbol("J"),
            "layer_A": sp.Function("A")(Delta),
            "layer_B": sp.Function("B")(Delta),
            "layer_error": sp.Symbol("I_err"),
        }[name]
        return sp.Eq(lhs, forms[key][1])
    if name.startswith("reduced_flow_"):
        from asymptotics.asymptotic.reduced_flow import reduced_flow_sympy

        dD, dDelta = reduced_flow_sympy(3 if K is None else check_num_classes(K))
        if name == "reduced_flow_D":
            return sp.Eq(sp.Symbol("dD/dalpha"), dD)
        return sp.Eq(sp.Symbol("dDelta/dalpha"), dDelta)
    if name == "fixed_point_Delta":
        return sp.Eq(sp.Symbol("Delta^*"), eta * sp.Function("B")(sp.Symbol("Delta^*")))
    if name.startswith("late_time_"):
        from asymptotics.asymptotic.late_time import derive_late_time_series
        from asymptotics.asymptotic.layer_integrals import derive_closed_forms

        if name in ("late_time_alpha", "late_time_D"):
            res = derive_late_time_series(3)
            if name == "late_time_alpha":
                return sp.Eq(sp.Symbol("alpha"), res["alpha"])
            x = sp.Symbol("x")
            return sp.Eq(res["symbols"]["D"] / x, res["D"])
        forms = derive_closed_forms()
        star = {Delta: sp.Symbol("Delta^*", positive=True)}
        if name == "late_time_eps_g":
            return sp.Eq(sp.Symbol("varepsilon_g"), rho0 * forms["eps_g"][1].subs(star) / D)
        return sp.Eq(sp.Symbol("L"), rho0 * forms["loss"][1].subs(star) / D)
    if name.startswith("schedule_"):
        from asymptotics.asymptotic.schedule_exponents import derive_schedule_exponents

        r = derive_schedule_exponents()
        key = "eps_g" if name == "schedule_eps_g_exponent" else "loss"
        lhs = sp.Symbol("p_eps" if key == "eps_g" else "p_L")
        return sp.Eq(lhs, r[key])
    from asymptotics.peaked.expansion import expansion_sympy

    e = expansion_sympy()
    if name == "peaked_loss":
        return sp.Eq(sp.Symbol("L"), e["L"])
    return sp.Eq(sp.Symbol("L"), e["L_intermediate"])


def key_equation_latex(name: str, K: int | None = None) -> str:
    r"""LaTeX of one key equation (``lhs = rhs``, no environment), see :data:`EQUATION_DESCRIPTIONS`.

    Exact: printed from the SymPy result of the deriving module (no numbers involved).

    >>> key_equation_latex("fixed_point_Delta")
    '\\Delta^{*} = \\eta B{\\left(\\Delta^{*} \\right)}'
    """
    if name not in EQUATION_DESCRIPTIONS:
        raise InvalidInputError(
            f"unknown equation {name!r}; expected one of {', '.join(EQUATION_DESCRIPTIONS)}"
        )
    if name.startswith("closure_"):
        return _closure_latex(name, K)
    eq = key_equation(name, K)
    return f"{_latex(eq.lhs)} = {_latex(eq.rhs)}"


#: LaTeX of the symbols whose SymPy names are not valid LaTeX
_SYMBOL_LATEX = {
    "rho_K(0)": r"\rho_K(0)",
    "rho_3(0)": r"\rho_3(0)",
    "Delta^*": r"\Delta^{*}",
    "kappa_g0": r"\kappa g_{0}",
    "Lx": r"\left(\ln x\right)",
    "beta_star": r"\beta^{*}",
    "varepsilon_g": r"\varepsilon_g",
    "p_eps": r"\frac{d\ln \varepsilon_g}{d\ln\alpha}",
    "p_L": r"\frac{d\ln L}{d\ln\alpha}",
    "I_err": r"\int_0^\infty du\, P(s < 0)",
    "dD/dalpha": r"\frac{dD}{d\alpha}",
    "dDelta/dalpha": r"\frac{d\Delta}{d\alpha}",
    "E[log(1+exp(sqrt(2*Delta)*zeta))]": r"\left\langle \log\left(1 + e^{\sqrt{2 \Delta} \zeta}\right) \right\rangle",
}


def _latex(expr) -> str:
    names = {
        s: _SYMBOL_LATEX[s.name]
        for s in expr.free_symbols
        if isinstance(s, sp.Symbol) and s.name in _SYMBOL_LATEX
    }
    return sp.latex(expr, symbol_names=names)
