"""Log-log learning-curve plots with a local-slope inset (matplotlib, Agg backend).

:func:`apply_style` sets one consistent look (fonts, grid, line widths, colour cycle) that other
modules reuse; :func:`loglog_with_slope_inset` draws curves on log-log axes and their local slopes
``d ln y/d ln alpha`` in an inset, with optional reference power laws.

>>> import numpy as np, tempfile, os
>>> a = np.logspace(0, 4, 30)
>>> fig = loglog_with_slope_inset({"eps_g": (a, a ** -0.5)}, slopes={"eps_g": (a, -0.5 + 0 * a)})
>>> path = os.path.join(tempfile.mkdtemp(), "p.png"); fig.savefig(path); os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["apply_style", "loglog_with_slope_inset", "STYLE"]

STYLE = {
    "figure.figsize": (6.4, 4.6),
    "figure.dpi": 110,
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linestyle": ":",
    "lines.linewidth": 1.6,
    "axes.prop_cycle": matplotlib.cycler(
        color=["#1f4e79", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#5d6d7e"]
    ),
    "legend.frameon": False,
    "savefig.bbox": "tight",
}


def apply_style() -> dict:
    """Apply the toolkit's matplotlib style (returns the rc dict applied).

    >>> apply_style()["axes.grid"]
    True
    """
    matplotlib.rcParams.update(STYLE)
    return STYLE


def loglog_with_slope_inset(
    curves: dict,
    *,
    slopes: dict | None = None,
    references: dict | None = None,
    title: str = "",
    xlabel: str = r"$\alpha$",
    ylabel: str = "",
    inset_ylim: tuple | None = None,
    inset_range: tuple | None = None,
):
    """Figure with ``curves = {label: (alpha, y)}`` on log-log axes and an inset of local slopes.

    ``slopes = {label: (alpha, slope)}`` (or ``(alpha, slope, error)``) are drawn in the inset;
    ``references = {label: (alpha, y)}`` are drawn dashed (e.g. power laws, the Bayes-optimal curve)
    and ``inset_range = (lo, hi)`` restricts the inset's alpha axis.  Returns the figure.
    """
    apply_style()
    fig, ax = plt.subplots()
    for label, (a, y) in curves.items():
        ax.loglog(a, y, label=label)
    for label, (a, y) in (references or {}).items():
        ax.loglog(a, y, "--", lw=1.1, label=label)
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    if slopes:
        ins = ax.inset_axes([0.58, 0.58, 0.38, 0.36])
        for label, data in slopes.items():
            a, s = np.asarray(data[0]), np.asarray(data[1])
            ins.semilogx(a, s, lw=1.2, label=label)
            if len(data) > 2:
                e = np.asarray(data[2])
                ins.fill_between(a, s - e, s + e, alpha=0.3)
        ins.set_title(r"local slope $d\ln y/d\ln\alpha$", fontsize=7)
        ins.tick_params(labelsize=7)
        if inset_ylim:
            ins.set_ylim(*inset_ylim)
        if inset_range:
            ins.set_xlim(*inset_range)
    return fig
