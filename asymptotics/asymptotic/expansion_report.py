"""The boundary-layer report behind ``asymptotics expand``: reduced flow and late-time series.

Every number carries the requested ``--digits``: the leading constants (rho0, Delta*, A*, C_D, C_eps,
C_L) and the correction coefficients (1/D expansion at Delta*, slaving, late-time corrections), for every K
(junction integrals of all sizes are computed at that precision, in ball arithmetic); the JSON says
so in ``corrections_accuracy``.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from asymptotics.asymptotic.expansion import LEADING_POWER, expansion_coefficients
from asymptotics.asymptotic.expansion_domain import K_MAX, check_eta, check_expansion_digits, exact_key
from asymptotics.asymptotic.late_time import MAX_SERIES_ORDER, late_time_series
from asymptotics.asymptotic.reduced_flow import leading_prefactors, reduced_flow_sympy
from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = ["expansion_report", "latex_report", "format_expansion_report"]


def _s(x, digits):
    return mpmath.nstr(x, digits, strip_zeros=False)


def _correction_json(c, digits):
    if isinstance(c, tuple):
        return {
            "value": _s(c[0], digits),
            "log_alpha_coefficient": _s(c[1], digits),
            "C_coefficient": _s(c[2], digits),
        }
    return _s(c, digits)


def expansion_report(K: int, eta, order: int = 3, digits: int = 15) -> dict:
    """Everything ``expand`` prints, as a JSON-ready dict of decimal strings.

    >>> r = expansion_report(2, 1.0, order=0)
    >>> r["C_D"][:8], r["Delta_star"][:8]
    ('1.171097', '0.252918')
    """
    K = check_num_classes(K, maximum=K_MAX)
    eta_q = check_eta(eta, series=True)
    digits = check_expansion_digits(digits)
    if isinstance(order, bool) or not isinstance(order, int) or order < 0:
        raise InvalidInputError(f"order must be an integer >= 0, got {order!r}")
    if order > MAX_SERIES_ORDER:
        raise InvalidInputError(f"order must be <= {MAX_SERIES_ORDER} for the late-time series, got {order}")
    lead = leading_prefactors(K, eta, digits)
    lt = late_time_series(K, eta, order, digits)
    cdig = digits
    coeffs = expansion_coefficients(K, lead["Delta_star"], order, digits)
    return {
        "K": K,
        "eta": float(eta_q),
        "eta_exact": exact_key(eta_q),
        "order": order,
        "digits": digits,
        "rho0": _s(lead["rho0"], digits),
        "Delta_star": _s(lead["Delta_star"], digits),
        "A_star": _s(lead["A_star"], digits),
        "C_D": _s(lead["C_D"], digits),
        "C_eps": _s(lead["C_eps"], digits),
        "C_L": _s(lead["C_L"], digits),
        "corrections_accuracy": f"{digits} digits",
        "expansion_at_Delta_star": {name: [_s(c, cdig) for c in coeffs[name]] for name in coeffs},
        "expansion_leading_power": dict(LEADING_POWER),
        "slaving": [_s(x, cdig) for x in lt.slaving],
        "quadrature_e": [_s(x, cdig) for x in lt.e],
        "kappa_g0": _s(lt.kappa_g0, cdig),
        "corrections": {
            name: [_correction_json(c, cdig) for c in lt.coefficients[name][1:]]
            for name in ("D", "eps_g", "loss")
        },
    }


def _series_text(label, prefactor, corrections, power):
    parts = ["1"]
    for i, c in enumerate(corrections, start=1):
        if isinstance(c, dict):
            parts.append(
                f"({c['value']} + {c['log_alpha_coefficient']} ln(alpha) + {c['C_coefficient']} C)"
                f" alpha^(-{i}/3)"
            )
        else:
            parts.append(f"{c} alpha^(-{i}/3)")
    return f"  {label} = {prefactor} alpha^({power}) [ " + " + ".join(parts) + " + ... ]"


def latex_report(report: dict) -> str:
    """A standalone LaTeX document with the reduced flow and the late-time series."""
    K = report["K"]
    dD, dDelta = reduced_flow_sympy(K)
    lines = [
        r"\documentclass{article}",
        r"\usepackage{amsmath}",
        r"\begin{document}",
        rf"\section*{{Boundary-layer asymptotics, $K={K}$, $\eta={report['eta']}$}}",
        r"Reduced flow (leading order):",
        r"\begin{align*}",
        rf"\frac{{dD}}{{d\alpha}} &= {sp.latex(dD)}\\",
        rf"\frac{{d\Delta}}{{d\alpha}} &= {sp.latex(dDelta)}",
        r"\end{align*}",
        rf"$\rho_K(0) = {report['rho0']}$, $\Delta^* = {report['Delta_star']}$, "
        rf"$A^* = {report['A_star']}$.",
        "",
        r"Late-time series ($C$: initial-condition constant):",
        r"\begin{align*}",
    ]
    for name, key, power in (
        ("D", "C_D", r"\alpha^{1/3}"),
        (r"\varepsilon_g", "C_eps", r"\alpha^{-1/3}"),
        ("L", "C_L", r"\alpha^{-1/3}"),
    ):
        src = {"D": "D", r"\varepsilon_g": "eps_g", "L": "loss"}[name]
        terms = ["1"]
        for i, c in enumerate(report["corrections"][src], start=1):
            if isinstance(c, dict):
                terms.append(
                    rf"\left({c['value']} {'+' if not c['log_alpha_coefficient'].startswith('-') else ''}"
                    rf"{c['log_alpha_coefficient']}\ln\alpha "
                    rf"{'+' if not c['C_coefficient'].startswith('-') else ''}{c['C_coefficient']}\,C\right)"
                    rf"\alpha^{{-{i}/3}}"
                )
            else:
                terms.append(rf"({c})\,\alpha^{{-{i}/3}}")
        lines.append(rf"{name} &= {report[key]}\,{power}\Big[" + " + ".join(terms) + r" + \dots\Big]\\")
    lines += [r"\end{align*}", r"\end{document}", ""]
    return "\n".join(lines)


def format_expansion_report(report: dict) -> str:
    """The report as the text printed by ``asymptotics expand``."""
    dD, dDelta = reduced_flow_sympy(report["K"])
    out = [
        f"Boundary-layer asymptotics: K = {report['K']}, eta = {report['eta']}, order = {report['order']}",
        "Reduced flow (leading order):",
        f"  dD/dalpha     = {dD}",
        f"  dDelta/dalpha = {dDelta}",
        f"  rho_K(0) = {report['rho0']}",
        f"  Delta*   = {report['Delta_star']}   (root of Delta = eta B(Delta))",
        f"  A*       = {report['A_star']}",
        f"1/D expansion at Delta* (coefficients of D^-(j+p); accuracy {report['corrections_accuracy']}):",
    ]
    for name, cs in report["expansion_at_Delta_star"].items():
        out.append(f"  {name:9s} p={LEADING_POWER[name]}: " + ", ".join(cs))
    out.append("Slaving Delta = Delta* + sum s_i/D^i: s = " + ", ".join(report["slaving"]))
    out.append("Late-time series (C = initial-condition constant, the only free parameter):")
    out.append(_series_text("D    ", report["C_D"], report["corrections"]["D"], "1/3"))
    out.append(_series_text("eps_g", report["C_eps"], report["corrections"]["eps_g"], "-1/3"))
    out.append(_series_text("L    ", report["C_L"], report["corrections"]["loss"], "-1/3"))
    return "\n".join(out)
