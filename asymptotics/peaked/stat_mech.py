"""Quenched statistical mechanics of n i.i.d. Gaussian logits: <ln Z>, F, U, purity, entropy, L.

Logits ``h_i`` i.i.d. N(0, 1), energies ``eps_i = -h_i``, ``Z(beta) = sum_i exp(beta h_i)``; ``<.>`` is
the average over the logits.  Conventions (spec peaked.md section 2)::

    <ln Z> = -beta F,    U = d(beta F)/d beta = -<sum_i p_i h_i>,
    L(beta) = U(beta*)(beta - beta*) + beta* F(beta*) - beta F(beta)   (aligned student, KL loss).

All values come from :func:`asymptotics.peaked.stat_mech_float.gap_thermodynamics` (gap-variable
integrals with positive integrands) plus ``c0 = E[max h]`` from
:mod:`asymptotics.asymptotic.gap_density`; relative accuracy ~1e-14 for n up to 10^5 and beta
from 1e-3 to 1e6 (float64).  The loss is computed as ``a(beta) - a(beta*) + (beta - beta*) V(beta*)``
with ``a = <ln Z> - beta c0`` and ``V = U + c0``, which removes the O(beta* c0) cancellation.

>>> round(log_partition_mean(2, 1.0), 12)
0.90266190772
"""

from __future__ import annotations

from asymptotics.peaked.stat_mech_float import gap_thermodynamics
from asymptotics.validation import check_num_classes, check_positive

__all__ = ["log_partition_mean", "purity_mean", "internal_energy", "free_energy", "mean_entropy",
           "peaked_loss", "thermodynamics"]


def _c0(n: int) -> float:
    from asymptotics.asymptotic.gap_density import expected_maximum
    return float(expected_maximum(n))


def thermodynamics(n: int, beta: float) -> dict:
    """All quenched quantities at one beta (floats, ~1e-14 relative): ``lnZ``, ``F``, ``U``,
    ``purity``, ``entropy``, ``a`` (= lnZ - beta c0), ``V`` (= U + c0), ``c0``.

    >>> r = thermodynamics(3, 2.0)
    >>> round(r["entropy"], 10), abs(r["U"] + 2.0 * (1 - r["purity"])) < 1e-13  # Stein
    (0.6040276281, True)
    """
    n = check_num_classes(n)
    beta = float(check_positive("beta", beta))
    g = gap_thermodynamics(n, beta)
    c0 = _c0(n)
    lnz = beta * c0 + g["a"]
    return {"lnZ": lnz, "F": -lnz / beta, "U": g["V"] - c0, "purity": g["purity"],
            "entropy": g["entropy"], "a": g["a"], "V": g["V"], "c0": c0}


def log_partition_mean(n: int, beta: float) -> float:
    """``<ln Z>`` (relative accuracy ~1e-14).

    >>> round(log_partition_mean(2, 1e-9), 9)  # ln 2 at infinite temperature
    0.693147181
    """
    return thermodynamics(n, beta)["lnZ"]


def free_energy(n: int, beta: float) -> float:
    """``F = -<ln Z>/beta`` (relative accuracy ~1e-14).

    >>> round(free_energy(2, 1.0), 9)
    -0.902661908
    """
    return thermodynamics(n, beta)["F"]


def internal_energy(n: int, beta: float) -> float:
    """``U = -<sum p h>``; tends to ``-E[max h]`` as beta -> infinity (relative accuracy ~1e-14).

    >>> round(internal_energy(2, 1e6), 6)   # -1/sqrt(pi)
    -0.56419
    """
    return thermodynamics(n, beta)["U"]


def purity_mean(n: int, beta: float) -> float:
    """``<sum_i p_i^2>`` (relative accuracy ~1e-14).

    >>> round(purity_mean(4, 1e-6), 6)
    0.25
    """
    return thermodynamics(n, beta)["purity"]


def mean_entropy(n: int, beta: float) -> float:
    """Mean softmax entropy ``<-sum p ln p> = <ln Z> + beta U`` (relative accuracy ~1e-14).

    >>> round(mean_entropy(4, 1e-6), 6)  # ln 4
    1.386294
    """
    return thermodynamics(n, beta)["entropy"]


def peaked_loss(n: int, beta: float, beta_star: float) -> float:
    """Mean KL loss of the aligned student, ``L(beta) = a(beta) - a(beta*) + (beta - beta*) V(beta*)``.

    Relative accuracy ~1e-13 unless beta is within ~1e-3 of beta* (there L ~ (beta* - beta)^2 and the
    absolute accuracy ~1e-16 a(beta) applies).

    >>> peaked_loss(2, 3.0, 3.0)
    0.0
    >>> round(peaked_loss(2, 1.0, 3.0), 10)
    0.1048119573
    """
    check_positive("beta_star", beta_star)
    if float(beta) == float(beta_star):
        return 0.0
    g = gap_thermodynamics(check_num_classes(n), float(check_positive("beta", beta)))
    gs = gap_thermodynamics(n, float(beta_star))
    return g["a"] - gs["a"] + (float(beta) - float(beta_star)) * gs["V"]
