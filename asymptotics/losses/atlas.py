r"""The atlas of late-time laws: losses x K x learning-rate schedules.

For each loss, ``K`` and schedule (``constant`` -- the rate ``eta``, default 1 -- or ``power:beta=b``, i.e.
``eta = (1 + alpha)^(-b)``), :func:`atlas_row` gives the late-time exponents of ``eps_g`` and of the training
loss ``L``, their prefactors, the plateau of ``eps_g`` where it does not vanish, the method and an error
estimate:

* **boundary-layer losses** (error signal exponentially small away from the boundaries:
  :func:`asymptotics.losses.layer.require_boundary_layer`): at fixed ``eta`` ``eps_g, L ~ alpha^(-1/3)`` with
  the loss's own constants (:func:`asymptotics.losses.layer.leading_constants`) and first correction
  (:func:`asymptotics.losses.late_time.loss_late_time_series`); under ``beta < 1`` ``eps_g ~ alpha^(-(2+beta)/6)``,
  ``L ~ alpha^(-(1-beta)/3)`` with prefactors from the layer integrals at ``Delta = 0`` (Delta follows
  ``eta N(0)/(2 R(0))``, ``D^3 ~ 3 rho A(0) int eta/(K-1)``); at ``beta = 1`` adiabaticity is lost and both
  decay more slowly than any power (exponent 0, no prefactor);
* **saturated losses** (label smoothing; :mod:`asymptotics.losses.saturation`): at fixed ``eta`` ``eps_g`` and
  ``L`` plateau (exponents 0, ``plateau_eps_g``); under ``beta < 1`` ``eps_g ~ alpha^(-beta/2)`` and ``L`` tends to
  ``L_min`` (exponent 0; the excess ``L - L_min ~ alpha^(-beta)`` is reported in ``exponent_excess_loss``).

``error``: the estimated error of the reported late-time law over the probed range.  With a check
(``check=True``, K = 2, 3, and K >= 4 for the cross-entropy family) the exact closure is integrated with the
schedule to ``alpha_max`` and the exponents are extrapolated from the local slopes on
``[alpha_max/1e3, alpha_max/1.2]`` (:func:`asymptotics.analysis.extrapolation.extrapolate_exponent`);
``error`` is then the largest deviation of a measured exponent (or of the plateau) from the derived
value, plus the extrapolation's own error estimate.  Without a check ``error`` is the size of the first
neglected correction at ``alpha_ref = 1e8``: ``|a_1| alpha^(-1/3)`` (``|a_2| alpha^(-2/3)`` for K = 2) from the
derived first correction at fixed ``eta``, ``alpha^(-p)`` with the smallest correction power ``p`` under a
schedule (coefficient not derived: order of magnitude).

>>> r = atlas_row("cross_entropy", 2, "constant", check=False)
>>> r["exponent_eps_g"], round(r["prefactor_eps_g"], 6), r["plateau_eps_g"]
(-0.3333333333333333, 0.136693, None)
"""

from __future__ import annotations

import math

import numpy as np

from asymptotics.losses.registry import get_loss
from asymptotics.validation import InvalidInputError, check_num_classes

__all__ = [
    "atlas_row",
    "compute_atlas",
    "atlas_latex_table",
    "atlas_figure",
    "parse_schedules",
    "ROW_KEYS",
    "ALPHA_REF",
]

#: the keys of every atlas row (the command-line contract), in order
ROW_KEYS = (
    "loss",
    "K",
    "schedule",
    "exponent_eps_g",
    "exponent_loss",
    "prefactor_eps_g",
    "prefactor_loss",
    "plateau_eps_g",
    "method",
    "error",
)
#: the alpha at which the size of a neglected correction is quoted when no check is run
ALPHA_REF = 1e8


def parse_schedules(text: str, eta: float = 1.0) -> list:
    """``"constant,power:beta=0.5"`` -> ``[("constant", Constant(eta)), ("power:beta=0.5", PowerLaw(1, 0.5, 1))]``.

    >>> [name for name, _ in parse_schedules("constant,power:beta=0.25,power:beta=1")]
    ['constant', 'power:beta=0.25', 'power:beta=1']
    """
    from asymptotics.dynamics.schedules import Constant, PowerLaw, parse_schedule

    out = []
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    # "power:beta=0.5" contains no comma; parameters of one schedule are joined by ";"
    if not parts:
        raise InvalidInputError(f"--schedules expects a comma-separated list, got {text!r}")
    for part in parts:
        spec = part.replace(";", ",")
        sched = parse_schedule(spec, eta=eta)
        if not isinstance(sched, (Constant, PowerLaw)):
            raise InvalidInputError(f"the atlas takes constant and power schedules, got {part!r}")
        if isinstance(sched, PowerLaw) and not 0 < sched.beta <= 1:
            raise InvalidInputError(f"the atlas takes power schedules with 0 < beta <= 1, got {part!r}")
        out.append((part, sched))
    return out


def _beta(sched) -> float:
    from asymptotics.dynamics.schedules import Constant

    return 0.0 if isinstance(sched, Constant) else float(sched.beta)


def _layer_at_zero(loss):
    """Layer integrals at Delta = 0 (float64)."""
    from asymptotics.losses.layer import layer_moment

    return {
        k: float(layer_moment(loss, n, 0, 0))
        for k, n in (("A0", "drift"), ("R0", "restoring"), ("N0", "noise"), ("L0_CE", "cross_entropy"))
    }


def _boundary_layer_row(loss, K, sched, eta):
    from asymptotics.asymptotic.gap_density import top_gap_density_at_zero
    from asymptotics.losses.late_time import loss_late_time_series
    from asymptotics.losses.layer import leading_constants_float

    beta = _beta(sched)
    row = {"regime": "boundary layer", "limit_loss": 0.0}
    if beta == 0:
        lead = leading_constants_float(loss, K, eta)
        row.update(
            {
                "exponent_eps_g": -1 / 3,
                "exponent_loss": -1 / 3,
                "prefactor_eps_g": float(lead["C_eps"]),
                "prefactor_loss": float(lead["C_L"]),
                "plateau_eps_g": None,
                "Delta_star": float(lead["Delta_star"]),
                "prefactor_D": float(lead["C_D"]),
                "prefactor_cross_entropy": float(lead["C_CE"]),
                "method": "derived: boundary layer, leading order and first correction",
            }
        )
        try:
            series = loss_late_time_series(loss, K, eta)
            order = series["order"]
            rel = series["relative_corrections"]
            coef = {n: rel[n][f"a{order}"] for n in ("eps_g", "loss")}
            row["first_correction"] = {"power": order / 3, **coef}
            row["error"] = max(abs(c) for c in coef.values()) * ALPHA_REF ** (-order / 3)
        except InvalidInputError as exc:  # pragma: no cover - every registered loss has its series
            row["first_correction"] = None
            row["error"] = None
            row["notes"] = str(exc)
        return row
    if beta >= 1:
        row.update(
            {
                "exponent_eps_g": 0.0,
                "exponent_loss": 0.0,
                "prefactor_eps_g": None,
                "prefactor_loss": None,
                "plateau_eps_g": None,
                "error": None,
                "method": "derived: boundary layer, beta = 1 loses adiabaticity; eps_g and L decay more "
                "slowly than any power (local exponents ~ (ln alpha)^(-1/3) -> 0)",
            }
        )
        return row
    rho = float(top_gap_density_at_zero(K, 20))
    c0 = _layer_at_zero(loss)
    if not (c0["R0"] > 0 and c0["N0"] > 0):
        raise InvalidInputError(
            f"loss {loss.name!r}: R(0) or N(0) vanishes; the adiabatic schedule law needs both > 0"
        )
    eta0, alpha0 = sched.eta0, sched.alpha0
    scale = eta0 * alpha0**beta
    c_d = (3 * rho * c0["A0"] * scale / ((K - 1) * (1 - beta))) ** (1 / 3)
    p_corr = min(2 * (1 - beta) / 3, beta, 1 - beta)
    row.update(
        {
            "exponent_eps_g": -(2 + beta) / 6,
            "exponent_loss": -(1 - beta) / 3,
            "prefactor_eps_g": rho * math.sqrt(scale * c0["N0"] / (2 * math.pi * c0["R0"])) / c_d,
            "prefactor_loss": rho * c0["A0"] / c_d,
            "plateau_eps_g": None,
            "prefactor_D": c_d,
            "prefactor_cross_entropy": rho * c0["L0_CE"] / c_d,
            "error": ALPHA_REF ** (-p_corr),
            "method": "derived: boundary layer, adiabatic Delta ~ eta N(0)/(2 R(0)), D^3 ~ 3 rho A(0) int eta/(K-1)",
        }
    )
    return row


def _saturated_row(loss, K, sched, eta):
    from asymptotics.losses.saturation import plateau, saturated_schedule_law, zero_noise_optimum

    beta = _beta(sched)
    row = {"regime": "saturated"}
    if beta == 0:
        p = plateau(loss, K, eta)
        row.update(
            {
                "exponent_eps_g": 0.0,
                "exponent_loss": 0.0,
                "prefactor_eps_g": None,
                "prefactor_loss": None,
                "plateau_eps_g": p["eps_g"],
                "limit_loss": p["loss"],
                "D_star": p["D"],
                "Delta_star": p["Delta"],
                "method": "derived: fixed point of the exact closure (saturated D, plateau at fixed eta)"
                + ("" if K <= 3 else "; quasi-Monte Carlo moments"),
            }
        )
        row["error"] = 1e-10 if K <= 3 else 1e-3
        return row
    law = saturated_schedule_law(loss, K, beta, sched.eta0, sched.alpha0)
    row.update(
        {
            "exponent_eps_g": law["exponent_eps_g"],
            "exponent_loss": 0.0,
            "prefactor_eps_g": law["prefactor_eps_g"],
            "prefactor_loss": None,
            "plateau_eps_g": None,
            "limit_loss": law["L_min"],
            "exponent_excess_loss": law["exponent_excess_loss"],
            "prefactor_excess_loss": law["prefactor_excess_loss"],
            "D_limit": law["D0"],
            "method": f"derived: saturated, {law['regime']}"
            + ("" if K <= 3 else "; quasi-Monte Carlo moments"),
        }
    )
    if beta < 1:
        row["error"] = ALPHA_REF ** (-min(beta, 1 - beta))
    else:
        # D relaxes to D_0 only like alpha^-kappa, kappa = a c/(K-1) (c the curvature of L(D, 0) at D_0, a few
        # 1e-2): the local exponents approach the derived ones that slowly (label smoothing, eps = 0.1, K = 2:
        # eps_g local slope -0.234 at 1e12, -0.203 at 1e30 against -0.197). The law is confirmed on the exact
        # closure continued in (D, ln Delta) to 1e100 (asymptotics.losses.long_time; extrapolated within 3e-7
        # for K = 2, 3, benchmarks/validate_saturated_long_time.py); the error is the relative size of the
        # correction at ALPHA_REF.
        kappa = sched.eta0 * sched.alpha0 * zero_noise_optimum(loss, K)["curvature"] / (K - 1)
        row["error"] = ALPHA_REF ** (-kappa)
        row["method"] += (
            "; corrections ~ alpha^-kappa, kappa = %.3g: the law shows only beyond alpha ~ 1e30 "
            "(long_time_closure)" % kappa
        )
    if K > 3:
        zero_noise_optimum(loss, K)
    return row


def _record_exponent(check: dict, deviations: list, name: str, ex, slopes, target) -> None:
    """Store an extrapolated exponent in ``check`` and its distance from the row's ``target``."""
    check[f"{name}_exponent"] = ex.value
    check[f"{name}_exponent_error"] = ex.error
    check[f"{name}_last_local_slope"] = float(slopes[-1])
    if target is not None:
        deviations.append(abs(ex.value - target) + ex.error)


def _check_long_time_row(row, loss, K, sched):
    """Saturated rows at beta = 1: corrections ~ alpha^-kappa need alpha up to 1e100, reached by the closure
    continued in (D, ln Delta) (:func:`asymptotics.losses.long_time.long_time_closure`)."""
    from asymptotics.analysis.extrapolation import extrapolate_exponent
    from asymptotics.losses.long_time import long_time_closure
    from asymptotics.losses.saturation import zero_noise_optimum

    kappa = sched.eta0 * sched.alpha0 * zero_noise_optimum(loss, K)["curvature"] / (K - 1)
    alpha = 10 ** np.linspace(20, 100, 321)
    c = long_time_closure(loss, K, sched, alpha)
    powers = tuple(n * kappa for n in (1, 2, 3, 4))
    check = {"alpha_max": 1e100, "fit_range": [1e20, 1e100]}
    deviations = []
    for name, values, target in (
        ("eps_g", c.eps_g, row["exponent_eps_g"]),
        ("excess_loss", c.excess_loss, row.get("exponent_excess_loss")),
    ):
        s = np.gradient(np.log(values), np.log(alpha))
        ex = extrapolate_exponent(alpha, s, powers=powers, tol=1e-4)
        _record_exponent(check, deviations, name, ex, s, target)
    row["check"] = check
    row["error"] = max(deviations)
    row["method"] += "; exponents checked on the exact closure continued in (D, ln Delta) to alpha = 1e100"
    return row


def _check_row(row, loss, K, sched, alpha_max):
    """Integrate the exact closure and compare the measured late-time behaviour with the row."""
    from asymptotics.analysis.extrapolation import extrapolate_exponent
    from asymptotics.analysis.slopes import local_slope
    from asymptotics.dynamics.flow import integrate_closure

    beta = _beta(sched)
    if beta == 1 and row["regime"] != "boundary layer" and row.get("plateau_eps_g") is None:
        return _check_long_time_row(row, loss, K, sched)
    grid = np.logspace(math.log10(alpha_max / 1e3), math.log10(alpha_max / 1.2), 13)
    curve = integrate_closure(K, sched, [alpha_max], loss=loss, rtol=1e-10)
    from asymptotics.losses.moments import loss_moments

    cache = {}

    def moments(a):
        if a not in cache:
            D, Delta = curve.state_at(a)
            cache[a] = loss_moments(
                loss, K, max(float(np.ravel(D)[0]), 0.0), max(float(np.ravel(Delta)[0]), 0.0)
            )
        return cache[a]

    check = {"alpha_max": alpha_max, "fit_range": [float(grid[0]), float(grid[-1])]}
    deviations = []
    if row.get("plateau_eps_g") is not None:
        m = moments(alpha_max)
        dev = abs(float(m.eps_g) - row["plateau_eps_g"])
        check.update({"eps_g_at_alpha_max": float(m.eps_g), "plateau_deviation": dev})
        deviations.append(dev)
        row["error"] = max(dev, 1e-16)
        row["check"] = check
        return row
    if row["regime"] == "boundary layer":
        powers = (
            (1 / 3, 2 / 3, 1.0, 4 / 3)
            if beta == 0 and K >= 3
            else (2 / 3, 4 / 3, 2.0)
            if beta == 0
            else tuple(
                sorted(
                    {round(p, 10) for p in ((1 - beta) / 3, 2 * (1 - beta) / 3, beta, 1 - beta) if p > 1e-9}
                )
            )[:4]
        )
        observables = (
            ("eps_g", lambda a: float(moments(a).eps_g)),
            ("loss", lambda a: float(moments(a).loss)),
        )
    else:
        powers = tuple(
            sorted({round(p, 10) for p in (beta, 1 - beta, 2 * beta, 2 * (1 - beta)) if p > 1e-9})
        )[:4]
        lmin = row["limit_loss"]
        observables = (
            ("eps_g", lambda a: float(moments(a).eps_g)),
            ("excess_loss", lambda a: float(moments(a).loss) - lmin),
        )
    for name, f in observables:
        s, e = local_slope(f, grid, alpha_range=(alpha_max / 2e3, alpha_max))
        ex = extrapolate_exponent(grid, s, e, powers=powers, tol=1e-4)
        target = (
            row["exponent_eps_g"]
            if name == "eps_g"
            else (row["exponent_loss"] if name == "loss" else row.get("exponent_excess_loss"))
        )
        _record_exponent(check, deviations, name, ex, s, target)
    row["check"] = check
    if deviations:
        row["error"] = max(deviations)
        row["method"] += "; exponents checked on the exact closure (extrapolated local slopes)"
    return row


def atlas_row(
    loss, K: int, schedule="constant", *, eta: float = 1.0, check: bool = False, alpha_max: float = 1e6
) -> dict:
    """One row of the atlas (keys :data:`ROW_KEYS` plus details; see module docstring).

    ``schedule`` is ``"constant"``, ``"power:beta=b"`` or a ``(name, Schedule)`` pair of :func:`parse_schedules`.
    """
    from asymptotics.losses.layer import require_boundary_layer

    loss = get_loss(loss)
    K = check_num_classes(K, maximum=1000)
    loss.require_centred()
    name, sched = schedule if isinstance(schedule, tuple) else parse_schedules(schedule, eta)[0]
    try:
        require_boundary_layer(loss)
        bl = True
    except InvalidInputError:
        bl = False
    row = _boundary_layer_row(loss, K, sched, eta) if bl else _saturated_row(loss, K, sched, eta)
    if check:
        from asymptotics.losses.moments import is_cross_entropy

        if K <= 3 or loss.family == "cross_entropy" or is_cross_entropy(loss, K):
            if not (bl and _beta(sched) >= 1):
                row = _check_row(row, loss, K, sched, alpha_max)
        else:
            row["notes"] = (
                row.get("notes", "") + " no exact closure for this K (no deterministic route); "
                "error is the derived estimate"
            ).strip()
    out = {"loss": loss.name, "K": K, "schedule": name}
    for key in ROW_KEYS[3:]:
        out[key] = row.get(key)
    for key, value in row.items():
        if key not in out:
            out[key] = value
    return out


def compute_atlas(
    losses, Ks, schedules, *, eta: float = 1.0, check: bool = False, alpha_max: float = 1e6, progress=None
) -> dict:
    """All rows of the atlas for the given losses (names), K values and schedules (text or parsed)."""
    scheds = parse_schedules(schedules, eta) if isinstance(schedules, str) else list(schedules)
    loss_objs = [get_loss(name) for name in losses]
    for L in loss_objs:
        L.require_centred()
    rows = []
    for L in loss_objs:
        for K in Ks:
            for sched in scheds:
                rows.append(atlas_row(L, K, sched, eta=eta, check=check, alpha_max=alpha_max))
                if progress is not None:
                    progress(rows[-1])
    return {
        "rows": rows,
        "eta": eta,
        "alpha_ref": ALPHA_REF,
        "check": check,
        "alpha_max": alpha_max if check else None,
    }


def atlas_latex_table(atlas: dict) -> str:
    """A booktabs LaTeX table of the rows (mathematics in math mode)."""

    def num(x, fmt="{:.4g}"):
        if x is None:
            return "--"
        return (
            "$"
            + fmt.format(x).replace("e-0", r"\times 10^{-").replace("e+0", r"\times 10^{")
            + ("}" if "e" in fmt.format(x) else "")
            + "$"
        )

    def sched(name):
        if name == "constant":
            return r"$\eta = \mathrm{const}$"
        return r"$\beta = " + name.split("=")[-1] + "$"

    def loss_name(name):
        return r"\texttt{" + name.replace("_", r"\_") + "}"

    lines = [
        r"\begin{tabular}{llllllll}",
        r"\toprule",
        r"loss & $K$ & schedule & $\varepsilon_g$ exp. & $L$ exp. & $\varepsilon_g$ pref. & $L$ pref. & "
        r"plateau $\varepsilon_g$ \\",
        r"\midrule",
    ]
    for r in atlas["rows"]:
        lines.append(
            " & ".join(
                [
                    loss_name(r["loss"]),
                    f"${r['K']}$",
                    sched(r["schedule"]),
                    num(r["exponent_eps_g"]),
                    num(r["exponent_loss"]),
                    num(r["prefactor_eps_g"]),
                    num(r["prefactor_loss"]),
                    num(r["plateau_eps_g"]),
                ]
            )
            + r" \\"
        )
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines)


def atlas_figure(atlas: dict):
    """Exponents of eps_g and L against beta (0: constant eta), one line per loss and K; a Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), constrained_layout=True)
    groups = {}
    for r in atlas["rows"]:
        beta = 0.0 if r["schedule"] == "constant" else float(r["schedule"].split("=")[-1])
        groups.setdefault((r["loss"], r["K"]), []).append((beta, r["exponent_eps_g"], r["exponent_loss"]))
    for (name, K), pts in groups.items():
        pts.sort()
        b = [p[0] for p in pts]
        axes[0].plot(b, [p[1] for p in pts], marker="o", label=f"{name}, K = {K}")
        axes[1].plot(b, [p[2] for p in pts], marker="o", label=f"{name}, K = {K}")
    bb = np.linspace(0, 0.999, 50)
    axes[0].plot(bb, -(2 + bb) / 6, "k:", lw=1, label="-(2+beta)/6")
    axes[1].plot(bb, -(1 - bb) / 3, "k:", lw=1, label="-(1-beta)/3")
    for ax, title in zip(axes, ("exponent of eps_g", "exponent of the training loss")):
        ax.set_xlabel("beta (eta ~ alpha^-beta; 0: constant)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="lower left")
    return fig
