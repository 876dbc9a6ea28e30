"""The report behind ``asymptotics expand --loss NAME``: the loss's late-time laws as decimal strings.

Boundary-layer losses: ``rho0``, ``Delta_star``, the layer integrals ``A*``, ``R*``, ``N*`` and the prefactors
``C_D``, ``C_eps``, ``C_L``, ``C_CE`` to ``digits`` digits (:func:`asymptotics.losses.layer.leading_constants`),
the first relative corrections of ``D``, ``eps_g``, ``L`` and the test cross-entropy in powers of
``alpha^(-1/3)`` (float64, :func:`asymptotics.losses.late_time.loss_late_time_series`), the layer integrals
as functions of ``Delta`` (their definitions) and the reduced flow.  Saturated losses (label smoothing):
the zero-noise optimum ``D_0``, the plateau at the given ``eta`` and the schedule laws.

>>> r = loss_expansion_report("focal:gamma=2", 3, "1", 15)
>>> r["regime"], r["C_eps"][:6]
('boundary layer', '0.2513')
"""

from __future__ import annotations

import mpmath

from asymptotics.losses.registry import get_loss
from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = ["loss_expansion_report", "format_loss_report"]


def _s(x, digits):
    return mpmath.nstr(x, digits, strip_zeros=False)


def loss_expansion_report(loss, K: int, eta, digits: int = 15, order: int | None = None) -> dict:
    """Everything ``expand --loss`` prints, as a JSON-ready dict (numbers as decimal strings or floats)."""
    from asymptotics.losses.layer import require_boundary_layer

    loss = get_loss(loss)
    K = check_num_classes(K, maximum=1000)
    loss.require_centred()
    try:
        require_boundary_layer(loss)
        bl = True
    except InvalidInputError:
        bl = False
    if not bl:
        from asymptotics.losses.saturation import plateau, zero_noise_optimum

        if order not in (None, 0):
            raise InvalidInputError(
                f"loss {loss.name!r} saturates: there is no late-time series (use --order 0)"
            )
        o = zero_noise_optimum(loss, K)
        p = plateau(loss, K, float(eta))
        return {
            "loss": loss.name,
            "K": K,
            "eta": str(eta),
            "digits": 15,
            "regime": "saturated",
            "D0": o["D0"],
            "r0": o["r0"],
            "n0": o["n0"],
            "L_min": o["L_min"],
            "CE0": o["CE0"],
            "plateau": {k: p[k] for k in ("D", "Delta", "eps_g", "loss", "cross_entropy")},
            "laws": {
                "fixed_eta": "D -> D*, Delta -> Delta*, eps_g -> plateau (exponentially fast)",
                "power_beta_below_1": "eps_g ~ alpha^(-beta/2), L - L_min ~ alpha^(-beta)",
            },
            "accuracy": "float64 (~1e-10 on the fixed point)" if K <= 3 else "quasi-Monte Carlo (~1e-3)",
        }
    from asymptotics.losses.late_time import loss_late_time_series
    from asymptotics.losses.layer import leading_constants

    lead = leading_constants(loss, K, eta, digits)
    series = loss_late_time_series(loss, K, eta)
    max_order = series["order"]
    if order is not None and order > max_order:
        raise InvalidInputError(
            f"with --loss the late-time series is available to relative order {max_order} for "
            f"K = {K} (first correction; higher junction terms are not implemented), got {order}"
        )
    rel = {
        name: {
            k: v
            for k, v in series["relative_corrections"][name].items()
            if order is None or int(k[1:]) <= order
        }
        for name in ("D", "eps_g", "loss", "cross_entropy", "Delta")
    }
    out = {
        "loss": loss.name,
        "K": K,
        "eta": str(eta),
        "digits": digits,
        "regime": "boundary layer",
        **{k: _s(v, digits) for k, v in lead.items()},
        "relative_corrections": rel,
        "corrections_accuracy": "float64 (junction moments ~1e-12 absolute)",
        "layer_integrals": {
            "A": "int_0^inf du u E g(u + a) = int_0^inf du E lambda(u + a)",
            "R": "int_0^inf du E 2 lambda''(u + a) = 2 E g(a)",
            "N": "int_0^inf du E 2 g(u + a)^2",
            "E": "sqrt(Delta/pi)",
            "lambda": str(loss.local_binary()),
        },
        "reduced_flow": {
            "dD/dalpha": "eta rho A(Delta)/((K-1) D^2)",
            "dDelta/dalpha": "eta rho (eta N(Delta) - 2 Delta R(Delta))/((K-1) D)",
        },
    }
    return out


def format_loss_report(report: dict) -> str:
    """Plain-text rendering of :func:`loss_expansion_report`."""
    lines = [f"# loss {report['loss']}, K = {report['K']}, eta = {report['eta']}: {report['regime']} regime"]
    if report["regime"] == "saturated":
        lines.append(
            f"D0 = {report['D0']:.12g} (argmin L(D, 0)), L_min = {report['L_min']:.12g}, "
            f"r0 = {report['r0']:.12g}, n0 = {report['n0']:.12g}"
        )
        for k, v in report["plateau"].items():
            lines.append(f"plateau {k} = {v:.12g}")
        for k, v in report["laws"].items():
            lines.append(f"{k}: {v}")
        return "\n".join(lines)
    lines.append(f"local loss lambda(s) = {report['layer_integrals']['lambda']}")
    for key in ("rho0", "Delta_star", "A_star", "R_star", "N_star", "C_D", "C_eps", "C_L", "C_CE"):
        lines.append(f"{key:>10} = {report[key]}")
    lines.append("relative corrections (powers of alpha^(-1/3)):")
    for name, corr in report["relative_corrections"].items():
        lines.append(f"  {name}: " + ", ".join(f"{k} = {v:.10g}" for k, v in corr.items()))
    return "\n".join(lines)
