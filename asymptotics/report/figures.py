r"""Figures of the reproduce run, in one style (:func:`asymptotics.analysis.plots.apply_style`).

Every figure is saved as PNG and PDF.  Lines are theory (exact closure, reduced flow, asymptotes),
markers with error bars are simulation; the legends say which.  Each ``fig_<name>(data) -> Figure``
takes plain arrays, :func:`make_all` collects the data of a reproduce run and writes the files.

>>> import numpy as np
>>> a = np.logspace(0, 3, 20)
>>> row = {"alpha_lo": 1, "alpha_hi": 10, "secant_exponent": -0.4, "local_slope": -0.39}
>>> ex = {"value": -0.3333, "error": 1e-4}
>>> fig = fig_exponent_table({"K3": {"eps_g": {"table": [row], "exponent": ex},
...                                  "loss": {"table": [row], "exponent": ex}}})
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = [
    "FIGURES",
    "save",
    "make_all",
    "fig_learning_curves",
    "fig_order_parameters",
    "fig_sgd_vs_closure",
    "fig_k_dependence",
    "fig_schedules",
    "fig_exponent_table",
    "fig_peaked",
    "fig_bayes",
]

#: figure name -> caption (the order of the report)
FIGURES = {
    "learning_curves": r"Exact closure (theory, lines): $\varepsilon_g$ and $L$ versus $\alpha$ for "
    r"$K = 2, 3$, $\eta = 1$, with the leading asymptotes $C\alpha^{-1/3}$ (dashed). "
    r"Inset: local slope $d\ln y/d\ln\alpha$, tending to $-1/3$.",
    "order_parameters": r"Order parameters of the exact closure (theory): alignment $D$ and residual "
    r"variance $\Delta$, which relaxes to the fixed point $\Delta^*$ (dotted).",
    "sgd_vs_closure": r"Online SGD (simulation, markers: mean $\pm$ standard error over seeds) versus "
    r"the exact closure (theory, lines), $K = 3$, $\eta = 1$, $W(0) = 0$.",
    "k_dependence": r"Leading prefactors (theory) of $D \sim C_D\alpha^{1/3}$, "
    r"$\varepsilon_g \sim C_\varepsilon\alpha^{-1/3}$, $L \sim C_L\alpha^{-1/3}$ versus $K$; "
    r"dashed: the scaling $[\rho_K(0)^2 (K-1)]^{1/3}$ normalised at $K = 2$.",
    "schedules": r"Reduced flow (theory) under $\eta = (1+\alpha)^{-\beta}$, $K = 3$: $\varepsilon_g$ "
    r"and $L$ with their measured exponents (legend) and the derived "
    r"$-(2+\beta)/6$, $-(1-\beta)/3$.",
    "exponent_table": r"Effective exponents of the exact closure (theory) per decade of $\alpha$: "
    r"secant exponents and local slopes at the window centres.",
    "peaked": r"Peaked distributions, $n = 128$: loss $L(\tau)$ of the aligned gradient flow (theory) "
    r"with the intermediate regime (shaded) and the asymptote $c\,\tau^{-1/3}$; "
    r"inset: local slope.",
    "bayes": r"$K = 2$: online SGD closure $\varepsilon_g$ (theory, $\alpha^{-1/3}$) versus the "
    r"Bayes-optimal and optimal-online references ($\alpha^{-1}$).",
    "sparse_peak": r"Sparse features ($s = 2$, $a = 1/2$, stand-in model): median loss versus $N$ (theory, "
    r"lines; simulation, markers) with the peak at the expected rank of the seen design (dotted).",
    "sparse_exponents": r"The two exponents (theory): seen fit $\propto N^{-a}$ at $D = \infty$ and the "
    r"missing-signal floor $\propto D^{-a/s}$.",
    "sparse_frontier": r"Compute-optimal frontier of the ridgeless expected loss (theory): $N^*$, $D^*$, $L^*$ "
    r"with the derived $C^{1/(1+s)}$, $C^{s/(1+s)}$, $C^{-a/(1+s)}$.",
    "sparse_instability": r"Probability that gradient descent is unstable versus the step (theory: law and "
    r"exact lower bound; simulation: Monte Carlo with standard errors), $N = 100$, "
    r"$D = 1000$.",
    "loss_atlas": r"Atlas of late-time exponents (theory: the derived laws of each loss) of "
    r"$\varepsilon_g$ (left) and of the training loss $L$ (right) against $\beta$ of the "
    r"schedule $\eta = (1+\alpha)^{-\beta}$ ($\beta = 0$: constant $\eta = 1$), one line per "
    r"loss and $K$; dotted: the boundary-layer laws $-(2+\beta)/6$ and $-(1-\beta)/3$. Label "
    r"smoothing departs from them (plateau at constant $\eta$, $\alpha^{-\beta/2}$ under the "
    r"schedule).",
}


def _style():
    try:
        from asymptotics.analysis.plots import apply_style

        apply_style()
    except ImportError:  # keep matplotlib's defaults
        pass


def save(fig, out_dir, name: str) -> list[str]:
    """Save ``fig`` as ``name.png`` and ``name.pdf`` in ``out_dir``; returns the file names.

    >>> import tempfile
    >>> save(plt.figure(), tempfile.mkdtemp(), "empty")
    ['empty.png', 'empty.pdf']
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for ext in ("png", "pdf"):
        fig.savefig(out_dir / f"{name}.{ext}", dpi=150 if ext == "png" else None)
        files.append(f"{name}.{ext}")
    plt.close(fig)
    return files


def fig_learning_curves(curves: dict, prefactors: dict, slopes: dict):
    """Learning curves with their asymptotes and local slopes.

    ``curves[K] = {alpha, eps_g, loss}``, ``prefactors[K] = (C_eps, C_L)``,
    ``slopes[K] = (alpha, {eps_g, loss})``.

    >>> a = np.logspace(-1, 3, 9)
    >>> c = {3: {"alpha": a, "eps_g": 0.2 * (1 + a) ** (-1 / 3), "loss": 0.7 * (1 + a) ** (-1 / 3)}}
    >>> slope = -a / (3 + 3 * a)
    >>> fig = fig_learning_curves(c, {3: (0.2, 0.7)}, {3: (a, {"eps_g": slope, "loss": slope})})
    >>> len(fig.axes[0].lines) > 4
    True
    """
    _style()
    fig, ax = plt.subplots(figsize=(7.0, 5.0))
    for K, c in curves.items():
        a = np.asarray(c["alpha"])
        sel = a >= 0.1
        ax.loglog(a[sel], c["eps_g"][sel], label=rf"$\varepsilon_g$, $K={K}$ (closure)")
        ax.loglog(a[sel], c["loss"][sel], label=rf"$L$, $K={K}$ (closure)")
        if K in prefactors:
            ce, cl = prefactors[K]
            tail = a >= 10
            ax.loglog(a[tail], ce * a[tail] ** (-1 / 3), "--", lw=1, color="0.4")
            ax.loglog(a[tail], cl * a[tail] ** (-1 / 3), "--", lw=1, color="0.4")
    ax.plot([], [], "--", lw=1, color="0.4", label=r"asymptote $C\,\alpha^{-1/3}$ (theory)")
    ax.set_xlabel(r"$\alpha$ (examples per input dimension)")
    ax.set_ylabel(r"$\varepsilon_g$, $L$")
    ax.legend(loc="lower left", fontsize=7)
    ins = ax.inset_axes([0.6, 0.6, 0.37, 0.36])
    for K, (sa, s) in slopes.items():
        ins.semilogx(sa, s["eps_g"], lw=1.1, label=rf"$\varepsilon_g$, $K={K}$")
        ins.semilogx(sa, s["loss"], lw=1.1, ls="--", label=rf"$L$, $K={K}$")
    ins.axhline(-1 / 3, color="k", lw=0.8, ls=":")
    ins.set_ylim(-1.0, 0.0)
    ins.set_xlabel(r"$\alpha$", fontsize=7)
    ins.set_ylabel("local slope", fontsize=7)
    ins.tick_params(labelsize=6)
    ins.legend(fontsize=5, loc="lower right")
    return fig


def fig_order_parameters(curves: dict, delta_star: float, c_d: dict | None = None):
    """``curves[K] = {alpha, D, Delta}``; ``delta_star`` the fixed point at eta = 1; ``c_d[K]`` = C_D.

    >>> a = np.logspace(-1, 3, 5)
    >>> fig = fig_order_parameters({2: {"alpha": a, "D": a ** (1 / 3), "Delta": 0.25 + 0 * a}}, 0.2529)
    >>> len(fig.axes)
    2
    """
    _style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8))
    for K, c in curves.items():
        a = np.asarray(c["alpha"])
        left.loglog(a, c["D"], label=rf"$D$, $K={K}$ (closure)")
        right.semilogx(a, c["Delta"], label=rf"$\Delta$, $K={K}$ (closure)")
        if c_d and K in c_d:
            tail = a >= 10
            left.loglog(a[tail], c_d[K] * a[tail] ** (1 / 3), "--", lw=1, color="0.4")
    if c_d:
        left.plot([], [], "--", lw=1, color="0.4", label=r"$C_D\,\alpha^{1/3}$ (theory)")
    right.axhline(delta_star, color="k", ls=":", lw=1, label=rf"$\Delta^* = {delta_star:.6f}$ (theory)")
    for ax, lab in ((left, r"$D$ (centered alignment)"), (right, r"$\Delta$ (residual variance)")):
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel(lab)
        ax.legend(fontsize=7)
    return fig


def fig_sgd_vs_closure(sim: dict, theory: dict, label: str):
    """``sim`` = {alpha, mean{name}, se{name}}, ``theory`` = {alpha, name arrays} (4 panels).

    >>> a = np.array([1.0, 2.0])
    >>> d = {n: a for n in ("D", "Delta", "eps_g", "loss")}
    >>> len(fig_sgd_vs_closure({"alpha": a, "mean": d, "se": d}, {"alpha": a, **d}, "N = 10").axes)
    4
    """
    _style()
    fig, axes = plt.subplots(2, 2, figsize=(8.5, 6.0))
    names = (("D", r"$D$"), ("Delta", r"$\Delta$"), ("eps_g", r"$\varepsilon_g$"), ("loss", r"$L$"))
    for ax, (name, tex) in zip(axes.ravel(), names):
        ax.plot(theory["alpha"], theory[name], "-", label="closure (theory)")
        ax.errorbar(
            sim["alpha"],
            sim["mean"][name],
            yerr=sim["se"][name],
            fmt="o",
            ms=3.5,
            capsize=2,
            label=f"SGD (simulation, {label})",
        )
        ax.set_xscale("log")
        ax.set_xlabel(r"$\alpha$")
        ax.set_ylabel(tex)
        ax.legend(fontsize=7)
    return fig


def fig_k_dependence(rows: list[dict]):
    """Rows of the ``k_dependence`` step (K, rho0, C_D, C_eps, C_L).

    >>> rows = [{"K": K, "rho0": 0.5 + 0.1 * K, "C_D": 1.0, "C_eps": 0.2, "C_L": 0.7} for K in (2, 3)]
    >>> type(fig_k_dependence(rows)).__name__
    'Figure'
    """
    _style()
    K = np.array([r["K"] for r in rows], float)
    fig, (ax, rat) = plt.subplots(1, 2, figsize=(9.5, 4.0))
    scale = (np.array([r["rho0"] for r in rows]) ** 2 * (K - 1)) ** (1 / 3)
    for key, tex in (("C_D", r"$C_D$"), ("C_eps", r"$C_\varepsilon$"), ("C_L", r"$C_L$")):
        y = np.array([r[key] for r in rows])
        (line,) = ax.plot(K, y, "o-", label=f"{tex} (theory)")
        if key != "C_D":
            rat.plot(K, y / scale, "o-", color=line.get_color(), label=rf"{tex}$/[\rho_K(0)^2(K-1)]^{{1/3}}$")
    ax.set_xlabel("number of classes $K$")
    ax.set_ylabel(r"prefactor ($\eta = 1$)")
    ax.legend(fontsize=8)
    rat.set_xlabel("number of classes $K$")
    rat.set_ylabel("prefactor / predicted $K$-scaling")
    rat.legend(fontsize=8)
    return fig


def fig_schedules(flows: dict, exponents: dict):
    """``flows[beta]`` = objects with alpha, eps_g, loss; ``exponents[beta] = (eps_exp, loss_exp)``.

    >>> from types import SimpleNamespace
    >>> a = np.logspace(0, 4, 5)
    >>> f = SimpleNamespace(alpha=a, eps_g=a ** -0.375, loss=a ** -0.25)
    >>> len(fig_schedules({0.25: f}, {0.25: (-0.375, -0.25)}).axes)
    2
    """
    _style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 4.0))
    for beta, f in flows.items():
        e_eps, e_loss = exponents.get(beta, (np.nan, np.nan))
        left.loglog(
            f.alpha,
            f.eps_g,
            label=rf"$\beta={beta}$: slope ${e_eps:.4f}$ "
            rf"(pred. ${-(2 + beta) / 6:.4f}$)",
        )
        right.loglog(
            f.alpha,
            f.loss,
            label=rf"$\beta={beta}$: slope ${e_loss:.4f}$ "
            rf"(pred. ${-(1 - beta) / 3:.4f}$)",
        )
    left.set_ylabel(r"$\varepsilon_g$ (reduced flow, theory)")
    right.set_ylabel(r"$L$ (reduced flow, theory)")
    for ax in (left, right):
        ax.set_xlabel(r"$\alpha$")
        ax.legend(fontsize=7, loc="lower left")
    return fig


def fig_exponent_table(exponents: dict):
    """The ``exponents`` step's tables drawn as a figure (one row per decade window)."""
    _style()
    header = [
        "K",
        r"$\alpha$ window",
        r"$\varepsilon_g$ secant",
        r"$\varepsilon_g$ local",
        r"$L$ secant",
        r"$L$ local",
    ]
    cells = []
    for key, entry in exponents.items():
        for re, rl in zip(entry["eps_g"]["table"], entry["loss"]["table"]):
            cells.append(
                [
                    key.lstrip("K"),
                    f"[{re['alpha_lo']:.0e}, {re['alpha_hi']:.0e}]",
                    f"{re['secant_exponent']:+.5f}",
                    f"{re['local_slope']:+.5f}",
                    f"{rl['secant_exponent']:+.5f}",
                    f"{rl['local_slope']:+.5f}",
                ]
            )
        ex = {n: entry[n].get("exponent") for n in ("eps_g", "loss")}
        if all(ex.values()):
            cells.append(
                [
                    key.lstrip("K"),
                    r"$\alpha\to\infty$ (extrap.)",
                    f"{ex['eps_g']['value']:+.6f}",
                    f"$\\pm${ex['eps_g']['error']:.1e}",
                    f"{ex['loss']['value']:+.6f}",
                    f"$\\pm${ex['loss']['error']:.1e}",
                ]
            )
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(cells) + 1.0))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=header, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1, 1.2)
    ax.set_title("effective exponents of the exact closure (theory), $\\eta = 1$", fontsize=9)
    return fig


def fig_peaked(curve, regimes: dict, prefactor: float, plateau: tuple):
    """Aligned-flow loss curve with the regimes shaded and the tau^(-1/3) asymptote.

    >>> from types import SimpleNamespace
    >>> t = np.logspace(0, 6, 13)
    >>> c = SimpleNamespace(n=8, beta_star=1e3, tau=t, loss=t ** (-1 / 3), beta=t ** (1 / 3),
    ...                     slope=-1 / 3 + 0 * t)
    >>> regimes = {"intermediate": (5.0, 50.0), "c0": 1.4, "saturation": 333.0}
    >>> type(fig_peaked(c, regimes, 1.0, (-0.33, 1e3))).__name__
    'Figure'
    """
    _style()
    fig, ax = plt.subplots(figsize=(7.0, 4.8))
    tau, loss, beta = np.asarray(curve.tau), np.asarray(curve.loss), np.asarray(curve.beta)
    ok = loss > 0
    ax.loglog(
        tau[ok],
        loss[ok],
        label=rf"$L(\tau)$, aligned flow (theory), $n={curve.n}$, "
        rf"$\beta^*={curve.beta_star:g}$",
    )
    lo, hi = regimes["intermediate"]
    c0 = regimes.get("c0", lo)
    shades = (
        (beta < c0, "0.92", rf"early, $\beta < c_0 = {c0:.3g}$"),
        ((beta >= lo) & (beta <= hi), "0.8", r"intermediate ($|$slope$+1/3| <$ tol)"),
        (beta >= regimes.get("saturation", np.inf), "#f5d5d0", r"saturation, $\beta > \beta^*/3$"),
    )
    for mask, color, text in shades:
        if mask.any():
            ax.axvspan(tau[mask][0], tau[mask][-1], color=color, alpha=0.7, lw=0, label=text)
    mid = (tau > tau[0] * 10) & ok & (beta < regimes.get("saturation", np.inf))
    ax.loglog(
        tau[mid],
        prefactor * tau[mid] ** (-1 / 3),
        "--",
        lw=1,
        label=rf"$c\,\tau^{{-1/3}}$, $c = {prefactor:.4f}$ (theory)",
    )
    sat = beta >= regimes.get("saturation", np.inf)
    if sat.any():
        ax.set_ylim(bottom=max(loss[ok].min(), loss[sat][0] * 1e-3))
    ax.set_xlabel(r"$\tau = \int \eta\, dt$")
    ax.set_ylabel(r"$L$ (KL to the teacher)")
    ax.legend(fontsize=7, loc="lower left")
    ins = ax.inset_axes([0.62, 0.6, 0.35, 0.35])
    fin = np.isfinite(curve.slope)
    ins.semilogx(tau[fin], curve.slope[fin], lw=1.1)
    ins.axhline(-1 / 3, color="k", lw=0.8, ls=":")
    ins.plot([plateau[1]], [plateau[0]], "o", ms=3)
    ins.set_ylim(-1.5, 0.1)
    ins.set_ylabel("local slope", fontsize=7)
    ins.tick_params(labelsize=6)
    return fig


def fig_bayes(alpha, closure, bayes, online):
    """K = 2: closure eps_g against the Bayes-optimal and optimal-online curves.

    >>> a = np.logspace(0, 3, 7)
    >>> len(fig_bayes(a, 0.3 * a ** (-1 / 3), 0.44 / (1 + a), 0.88 / (1 + a)).axes[0].lines)
    5
    """
    _style()
    alpha = np.asarray(alpha)
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    ax.loglog(alpha, closure, label=r"online SGD closure, $\eta = 1$ (theory)")
    ax.loglog(alpha, bayes, label="Bayes-optimal, batch (theory)")
    ax.loglog(alpha, online, label="optimal online (theory)")
    tail = alpha >= 10
    ax.loglog(
        alpha[tail],
        closure[-1] * (alpha[tail] / alpha[-1]) ** (-1 / 3),
        ":",
        color="0.3",
        label=r"$\propto\alpha^{-1/3}$",
    )
    ax.loglog(
        alpha[tail],
        bayes[-1] * (alpha[tail] / alpha[-1]) ** (-1.0),
        "-.",
        color="0.3",
        label=r"$\propto\alpha^{-1}$",
    )
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel(r"$\varepsilon_g$ ($K = 2$)")
    ax.legend(fontsize=7, loc="lower left")
    return fig


def _builders(ctx) -> dict:
    res = ctx["results"]
    out = {}

    def closure_curves():
        return {K: c["arrays"] for K, c in ctx["closure"].items()}

    def learning():
        pre = {}
        for K in ctx["closure"]:
            lead = (res.get("constants") or {}).get(f"K{K}", {}).get("leading")
            if lead:
                pre[K] = (float(lead["C_eps"]["value"]), float(lead["C_L"]["value"]))
        slopes = {K: (c["slope_alpha"], c["slopes"]) for K, c in ctx["closure"].items() if "slopes" in c}
        return fig_learning_curves(closure_curves(), pre, slopes)

    def order():
        const = res["constants"]
        c_d = {K: float(const[f"K{K}"]["leading"]["C_D"]["value"]) for K in ctx["closure"]}
        delta_star = float(const["K3"]["leading"]["Delta_star"]["value"])
        return fig_order_parameters(closure_curves(), delta_star, c_d)

    def sgd():
        run = ctx["sgd"]["run"]
        amax = float(run.alpha[-1])
        th = {k: v for k, v in ctx["closure"][3]["arrays"].items()}
        sel = (th["alpha"] <= amax * 1.05) & (th["alpha"] >= 0.1)
        th = {k: v[sel] for k, v in th.items()}
        return fig_sgd_vs_closure(
            {"alpha": run.alpha, "mean": run.mean, "se": run.se}, th, f"N = {run.N}, {run.seeds} seeds"
        )

    def schedules():
        ex = {
            float(v["beta"]): (float(v["eps_g_exponent"]["value"]), float(v["loss_exponent"]["value"]))
            for v in res["schedules"]["betas"].values()
        }
        return fig_schedules(ctx["schedule_flows"], ex)

    def peaked():
        p = ctx["peaked"]
        return fig_peaked(p["curve"], p["regimes"], p["prefactor"], p["plateau"])

    def bayes():
        b = ctx["bayes"]
        return fig_bayes(b["alpha"], b["closure"], b["bayes"], b["online"])

    out["learning_curves"] = learning
    out["order_parameters"] = order
    out["sgd_vs_closure"] = sgd
    out["k_dependence"] = lambda: fig_k_dependence(res["k_dependence"]["rows"])
    out["schedules"] = schedules
    out["exponent_table"] = lambda: fig_exponent_table(res["exponents"])
    out["peaked"] = peaked
    out["bayes"] = bayes

    def sparse(name):
        def build():
            from asymptotics.sparse import report_figures as rf

            d = ctx["sparse"]
            return {
                "sparse_peak": lambda: rf.fig_sparse_peak(d["curves"]),
                "sparse_exponents": lambda: rf.fig_sparse_exponents(d["exponents_curves"]),
                "sparse_frontier": lambda: rf.fig_sparse_frontier(d["frontier_curves"]),
                "sparse_instability": lambda: rf.fig_sparse_instability(d["instability_curves"]),
            }[name]()

        return build

    for name in ("sparse_peak", "sparse_exponents", "sparse_frontier", "sparse_instability"):
        out[name] = sparse(name)

    def loss_atlas():
        from asymptotics.losses.atlas import atlas_figure

        return atlas_figure(ctx["losses"]["atlas"])

    out["loss_atlas"] = loss_atlas
    return out


def make_all(ctx, out_dir) -> dict:
    """Draw every figure of :data:`FIGURES` from a reproduce context; ``{name: "ok" | "unavailable: ..."}``.

    A figure whose data is missing (its step failed) is reported, not raised:

    >>> import tempfile
    >>> status = make_all({"results": {}}, tempfile.mkdtemp())
    >>> sorted(set(v.split(":")[0] for v in status.values()))
    ['unavailable']
    """
    status = {}
    builders = _builders(ctx)
    for name in FIGURES:
        try:
            save(builders[name](), out_dir, name)
            status[name] = "ok"
        except Exception as exc:  # missing upstream data: record and continue
            plt.close("all")
            text = f"{type(exc).__name__}: {exc}".splitlines()[0]
            status[name] = f"unavailable: {text}"
    return status
