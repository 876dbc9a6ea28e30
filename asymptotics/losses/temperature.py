r"""Cross-entropy at temperature T is cross-entropy at T = 1 with ``eta/T^2``: the exact map, derived.

With ``l_T(z, c) = l_1(z/T, c)`` the gap form is ``f_T(d) = f_1(d/T)``, hence (chain rule; checked by SymPy on
the integrands of :mod:`asymptotics.losses.integrands` for K = 2, 3)::

    drift_T(d, g) = drift_1(d/T, g)/T,   restoring_T(d) = restoring_1(d/T)/T^2,   noise_T(d) = noise_1(d/T)/T^2,
    loss_T(d) = loss_1(d/T),             eps_g(d) = eps_g(d/T).

In the representation ``d = D g + sqrt(Delta) xi~`` the rescaled gaps are ``d/T = (D/T) g + sqrt(Delta/T^2) xi~``,
so every moment at ``(D, Delta)`` is the T = 1 moment at ``(D/T, Delta/T^2)`` times the factor above.  The flow
``dD/dalpha = eta/(K-1) drift_T``, ``dDelta/dalpha = eta/(K-1) (-2 Delta restoring_T + eta noise_T)`` becomes, for
``D' = D/T``, ``Delta' = Delta/T^2``, ``eta' = eta/T^2``, the T = 1 flow (:func:`derive_temperature_map`)::

    (D_T, Delta_T)(alpha; eta) = (T D_1, T^2 Delta_1)(alpha; eta/T^2),   eps_g and L_T equal eps_g and L_1 there.

The same holds trajectory by trajectory for SGD: ``W <- W + (eta/sqrt N) e_T(z) x`` with ``e_T(z) = e_1(z/T)/T``
gives ``W/T <- W/T + (eta/T^2/sqrt N) e_1(z/T) x``.  (The test cross-entropy is not mapped: it is the T = 1 loss
at ``(D, Delta)`` itself.)

>>> r = derive_temperature_map()
>>> r["eta_map"], r["state_map"]
(eta/T**2, (D/T, Delta/T**2))
>>> all(v == 0 for v in r["integrand_checks"].values())
True
"""

from __future__ import annotations

from functools import cache

import sympy as sp

__all__ = ["derive_temperature_map", "map_to_unit_temperature"]


@cache
def derive_temperature_map(Ks: tuple = (2, 3), T_value=2) -> dict:
    """Derive the map with SymPy; returns the flow in the new variables and the integrand checks.

    ``integrand_checks`` holds the simplified differences of the K = 2, 3 integrands of the registered
    ``cross_entropy:T=T_value`` and the rescaled T = 1 integrands (all 0); ``flow_check`` the differences of
    the mapped flow and the T = 1 flow at ``eta'`` (0, 0).
    """
    from asymptotics.losses.integrands import loss_integrands
    from asymptotics.losses.registry import get_loss
    from asymptotics.symbolic.integrands import gap_symbols

    T = sp.Symbol("T", positive=True)
    checks = {}
    Tv = sp.Integer(T_value)
    ce_T = get_loss(f"cross_entropy:T={T_value}")
    ce_1 = get_loss("cross_entropy")
    factors = {"drift": 1 / Tv, "restoring": 1 / Tv**2, "noise": 1 / Tv**2, "eps_g": 1, "loss": 1}
    for K in Ks:
        d, g = gap_symbols(K)
        iT = loss_integrands(ce_T, K)
        i1 = loss_integrands(ce_1, K)
        for name, fac in factors.items():
            mapped = i1[name].xreplace({dj: dj / Tv for dj in d}) * fac
            if name == "eps_g":  # the indicator of min_j d_j < 0 is the same as of min_j d_j/T < 0
                diff = sp.simplify(sp.piecewise_fold(iT[name] - mapped).rewrite(sp.Heaviside))
            else:
                diff = sp.simplify(sp.expand_log(iT[name] - mapped, force=True))
            checks[f"K{K}_{name}"] = diff
    # the flow
    D, Delta, eta, K = sp.symbols("D Delta eta K", positive=True)
    Dp, Deltap = sp.symbols("D' Delta'", positive=True)
    drift1, rest1, noise1 = (sp.Function(n)(Dp, Deltap) for n in ("drift_1", "restoring_1", "noise_1"))
    dD = eta / (K - 1) * drift1 / T
    dDelta = eta / (K - 1) * (-2 * Delta * rest1 / T**2 + eta * noise1 / T**2)
    dDp = sp.simplify((dD / T).subs(Delta, T**2 * Deltap))
    dDeltap = sp.simplify((dDelta / T**2).subs(Delta, T**2 * Deltap))
    eta_p = eta / T**2
    target_D = eta_p / (K - 1) * drift1
    target_Delta = eta_p / (K - 1) * (-2 * Deltap * rest1 + eta_p * noise1)
    flow_check = (sp.simplify(dDp - target_D), sp.simplify(dDeltap - target_Delta))
    return {
        "eta_map": eta_p,
        "state_map": (D / T, Delta / T**2),
        "integrand_checks": checks,
        "flow": (
            sp.Eq(sp.Derivative(Dp, sp.Symbol("alpha")), dDp),
            sp.Eq(sp.Derivative(Deltap, sp.Symbol("alpha")), dDeltap),
        ),
        "flow_check": flow_check,
    }


def map_to_unit_temperature(T, D, Delta, eta):
    """``(D/T, Delta/T^2, eta/T^2)``: the T = 1 state and learning rate equivalent to temperature ``T``.

    >>> map_to_unit_temperature(2, 4.0, 1.0, 1.0)
    (2.0, 0.25, 0.25)
    """
    return D / T, Delta / T**2, eta / T**2
