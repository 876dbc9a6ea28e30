"""Bridge between the peaked-distribution mechanism and the boundary-layer mechanism.

Shared: both losses are carried by near-ties of the teacher's top two logits, weighted by the same
top-gap density at zero rho(0), and both integrate the same kernel exactly (no linearisation):

* peaked (soft target, deterministic gradient flow):  ``L = rho(0) int_0^inf ln(1+e^-beta g) dg
  = rho(0) (pi^2/12)/beta``, ``dbeta/dtau = c2/((n-1) beta^2)``;
* boundary layer (hard labels, online SGD):  ``L = rho(0) A(Delta*)/D`` with
  ``A(Delta) = int_0^inf du E ln(1+e^-s) = pi^2/12 + Delta/2``, ``dD/dalpha = eta rho(0) A/((K-1) D^2)``.

So at ``Delta = 0`` the constants coincide, ``c2 = rho(0) A(0) = rho(0) pi^2/12``.  They differ by the
SGD noise (Delta* = eta B(Delta*) > 0 adds Delta*/2 to A and makes the prefactors depend on eta) and
by the target: the soft target saturates at beta* (exponential approach), hard labels never do.
Both give ``L ~ time^(-1/3)`` with prefactors ``[ (rho(0) A)^2 (K-1)/3 ]^(1/3)`` (eta = 1).

>>> s = bridge_summary(3)
>>> round(float(s["shared_constant"]), 10) == round(float(s["peaked_c2"]), 10)
True
"""

from __future__ import annotations

from asymptotics.asymptotic.layer_integrals import drift_integral
from asymptotics.asymptotic.reduced_flow import leading_prefactors
from asymptotics.peaked.expansion import coefficients
from asymptotics.validation import check_num_classes, check_positive

__all__ = ["bridge_summary", "plot_bridge"]


def bridge_summary(n: int, eta: float = 1.0, digits: int = 15) -> dict:
    """Constants of both mechanisms for n = K classes (mpf, ``digits`` digits).

    Keys: ``rho0``, ``shared_constant`` (rho0 * A(0)), ``A0`` (= pi^2/12, from the layer integral),
    ``peaked_c2``, ``peaked_prefactor`` (L tau^(1/3)), ``layer_A_star``, ``layer_Delta_star``,
    ``layer_prefactor`` (L alpha^(1/3) at this eta), ``ratio_prefactors``.

    >>> round(float(bridge_summary(2)["A0"]), 12)
    0.822467033424
    """
    n = check_num_classes(n)
    check_positive("eta", eta)
    co = coefficients(n, digits)
    A0 = drift_integral(0, digits)
    lp = leading_prefactors(n, eta, digits)
    out = {
        "rho0": co["rho0"],
        "A0": A0,
        "shared_constant": co["rho0"] * A0,
        "peaked_c2": co["c2"],
        "peaked_prefactor": co["prefactor"],
        "layer_A_star": lp["A_star"],
        "layer_Delta_star": lp["Delta_star"],
        "layer_prefactor": lp["C_L"],
    }
    out["ratio_prefactors"] = out["layer_prefactor"] / out["peaked_prefactor"]
    return out


def plot_bridge(
    n: int = 3,
    beta_star: float = 1e4,
    eta: float = 1.0,
    time_max: float = 1e9,
    ax=None,
    table_points_per_decade: int = 10,
):
    """Both loss curves on one log-log plot: the exact aligned flow L(tau) of the peaked mechanism
    with its asymptote, and the boundary-layer asymptote ``C_L alpha^(-1/3)``; returns the axes.

    Notebook-ready (pass ``ax`` to draw into an existing figure).

    >>> import matplotlib; matplotlib.use("Agg")
    >>> ax = plot_bridge(2, beta_star=10.0, time_max=100.0, table_points_per_decade=3)
    >>> len(ax.get_lines())
    3
    """
    import matplotlib.pyplot as plt

    from asymptotics.peaked.dynamics import integrate_aligned_flow

    s = bridge_summary(n, eta)
    curve = integrate_aligned_flow(
        n, beta_star, time_max, points_per_decade=8, table_points_per_decade=table_points_per_decade
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    t = curve.tau
    ax.loglog(t, curve.loss, label=f"peaked: exact aligned flow, n={n}, beta*={beta_star:g}")
    ax.loglog(
        t,
        float(s["peaked_prefactor"]) * t ** (-1 / 3),
        "--",
        label=r"peaked asymptote $c_2^{2/3}((n-1)/3)^{1/3}\tau^{-1/3}$",
    )
    ax.loglog(
        t,
        float(s["layer_prefactor"]) * t ** (-1 / 3),
        ":",
        label=rf"boundary layer $C_L\alpha^{{-1/3}}$, $\eta$={eta:g}",
    )
    ax.set_xlabel(r"time ($\tau$ = sum of learning rates, or $\alpha$)")
    ax.set_ylabel("loss")
    ax.set_title(rf"shared constant $\rho(0)\pi^2/12$ = {float(s['shared_constant']):.6g}")
    ax.legend(fontsize=7)
    return ax
