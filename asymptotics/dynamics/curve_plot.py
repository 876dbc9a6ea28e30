"""Log-log learning-curve figure: eps_g and L (left), D and Delta (right) versus alpha."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_learning_curves(curves: dict, path, *, title: str = "", errorbars: dict | None = None) -> Path:
    """Plot ``{label: curve}`` (objects with alpha, D, Delta, eps_g, loss arrays) to ``path`` (PNG or PDF).

    ``errorbars`` optionally maps a label to ``{name: standard_error_array}`` for simulation data, which is
    drawn as points with error bars; other curves are drawn as lines (theory).
    """
    import matplotlib.pyplot as plt

    fig = learning_curve_figure(curves, title=title, errorbars=errorbars)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path


def learning_curve_figure(curves: dict, *, title: str = "", errorbars: dict | None = None):
    """The figure of :func:`plot_learning_curves`, returned instead of saved."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    errorbars = errorbars or {}
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    for label, curve in curves.items():
        alpha = np.asarray(curve.alpha)
        positive = alpha > 0
        se = errorbars.get(label)
        for ax, name, tex in (
            (left, "eps_g", r"$\varepsilon_g$"),
            (left, "loss", r"$L$"),
            (right, "D", r"$D$"),
            (right, "Delta", r"$\Delta$"),
        ):
            y = np.asarray(getattr(curve, name))
            if se is None:
                ax.plot(alpha[positive], y[positive], "-", label=f"{tex} {label}")
            else:
                ax.errorbar(
                    alpha[positive],
                    y[positive],
                    yerr=np.asarray(se[name])[positive],
                    fmt="o",
                    ms=3,
                    capsize=2,
                    label=f"{tex} {label}",
                )
    for ax, ylabel in ((left, r"$\varepsilon_g$, $L$"), (right, r"$D$, $\Delta$")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\alpha$ (examples per input dimension)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.set_dpi(130)
    return fig
