"""Figures of the sparse-feature mechanism for ``asymptotics reproduce`` (a stand-in model reproducing
the abstract's claims of arXiv 2605.23591).  Each function takes the plain data collected by the
reproduce step ``sparse`` and returns a matplotlib Figure; lines are theory, markers simulation.

>>> import numpy as np
>>> fig = fig_sparse_frontier({"C": [1e4, 1e6], "N": [94.0, 442.0], "D": [106.0, 2263.0],
...                            "loss": [0.66, 0.30], "exponents": [1 / 3, 2 / 3, -1 / 6]})
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

import numpy as np

__all__ = ["fig_sparse_exponents", "fig_sparse_frontier", "fig_sparse_instability", "fig_sparse_peak"]


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    try:
        from asymptotics.analysis.plots import apply_style

        apply_style()
    except ImportError:  # pragma: no cover
        pass
    return plt


def fig_sparse_peak(curves: dict):
    """Loss vs N at several D: theory median (lines), simulated median (markers), threshold (dotted)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for D, c in curves.items():
        (line,) = ax.loglog(c["N"], c["median"], label=f"$D = {D}$: median (theory)")
        if c.get("sim_N"):
            ax.plot(
                c["sim_N"], c["sim_median"], "o", ms=4, color=line.get_color(), label=f"$D = {D}$: simulation"
            )
        ax.axvline(c["threshold"], color=line.get_color(), ls=":", lw=0.8)
    ax.set_xlabel("$N$ (features)")
    ax.set_ylabel("population loss")
    ax.legend(fontsize=7)
    return fig


def fig_sparse_exponents(data: dict):
    """Under-parameterised fit vs N (D = infinity) and the missing-signal floor vs D, with power laws."""
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8.0, 3.8))
    a1.loglog(data["N"], data["fit"], label="seen fit, $D = \\infty$ (theory)")
    a1.loglog(
        data["N"],
        data["fit"][-1] * (np.asarray(data["N"]) / data["N"][-1]) ** data["exponent_under"],
        ":",
        label=f"$N^{{{data['exponent_under']:.3g}}}$",
    )
    a1.set_xlabel("$N$")
    a1.legend(fontsize=7)
    a2.loglog(data["D"], data["floor"], label="missing signal (theory, exact)")
    a2.loglog(
        data["D"],
        data["floor"][-1] * (np.asarray(data["D"]) / data["D"][-1]) ** data["exponent_over"],
        ":",
        label=f"$D^{{{data['exponent_over']:.3g}}}$",
    )
    a2.set_xlabel("$D$")
    a2.legend(fontsize=7)
    return fig


def fig_sparse_frontier(fr: dict):
    """N*, D*, L* against C with the derived power laws."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    C = np.asarray(fr["C"])
    for vals, e, name in (
        (fr["N"], fr["exponents"][0], "N^*"),
        (fr["D"], fr["exponents"][1], "D^*"),
        (fr["loss"], fr["exponents"][2], "L^*"),
    ):
        vals = np.asarray(vals)
        (line,) = ax.loglog(C, vals, "o-", ms=3, label=f"${name}$ (theory optimum)")
        ax.loglog(
            C, vals[-1] * (C / C[-1]) ** e, ":", color=line.get_color(), label=f"$C^{{{e:.3g}}}$ (derived)"
        )
    ax.set_xlabel("compute $C = cND$")
    ax.legend(fontsize=7)
    return fig


def fig_sparse_instability(data: dict):
    """P(unstable) vs eta: the law (line), Monte Carlo with standard errors (markers), the exact bound."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.plot(data["eta_grid"], data["law_grid"], label="law (theory)")
    ax.plot(data["eta_grid"], data["bound_grid"], "--", label="exact lower bound (theory)")
    ax.errorbar(
        data["eta"], data["simulated"], yerr=data["se"], fmt="o", ms=4, label="Monte Carlo (simulation)"
    )
    ax.set_xlabel(r"step $\eta$")
    ax.set_ylabel(r"$P(\eta\lambda_{\max} > 2)$")
    ax.legend(fontsize=7)
    return fig
