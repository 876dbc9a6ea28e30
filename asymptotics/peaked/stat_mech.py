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

Every public function takes an optional ``digits``: ``None`` (default) is the float64 path above;
an integer routes to :func:`asymptotics.peaked.stat_mech_mp.gap_thermodynamics_mp` (python-flint ball
arithmetic with guard digits) and returns mpmath ``mpf`` values correct to ``digits`` significant digits.

>>> import mpmath
>>> mpmath.nstr(log_partition_mean(2, 1, digits=30), 20)
'0.90266190772002692704'

>>> round(log_partition_mean(2, 1.0), 12)
0.90266190772
"""

from __future__ import annotations

from asymptotics.peaked.stat_mech_float import gap_thermodynamics
from asymptotics.validation import (
    check_digits,
    check_num_classes,
    check_positive,
    exact_real,
    fraction_to_mpf,
)

__all__ = [
    "log_partition_mean",
    "purity_mean",
    "internal_energy",
    "free_energy",
    "mean_entropy",
    "peaked_loss",
    "thermodynamics",
]


def _c0(n: int) -> float:
    from asymptotics.asymptotic.gap_density import expected_maximum

    return float(expected_maximum(n))


def thermodynamics(n: int, beta: float, digits: int | None = None) -> dict:
    """All quenched quantities at one beta: ``lnZ``, ``F``, ``U``, ``purity``, ``entropy``,
    ``a`` (= lnZ - beta c0), ``V`` (= U + c0), ``c0``.

    ``digits=None``: floats, ~1e-14 relative.  ``digits=N``: mpmath ``mpf`` values correct to N
    significant digits (see :mod:`asymptotics.peaked.stat_mech_mp`).

    >>> r = thermodynamics(3, 2.0)
    >>> round(r["entropy"], 10), abs(r["U"] + 2.0 * (1 - r["purity"])) < 1e-13  # Stein
    (0.6040276281, True)
    >>> import mpmath
    >>> r = thermodynamics(3, 2, digits=20)
    >>> mpmath.nstr(r["purity"], 20)
    '0.64581917683479254468'
    """
    n = check_num_classes(n)
    if digits is not None:
        return _thermodynamics_mp(n, beta, check_digits(digits))
    beta = float(check_positive("beta", beta))
    g = gap_thermodynamics(n, beta)
    c0 = _c0(n)
    lnz = beta * c0 + g["a"]
    return {
        "lnZ": lnz,
        "F": -lnz / beta,
        "U": g["V"] - c0,
        "purity": g["purity"],
        "entropy": g["entropy"],
        "a": g["a"],
        "V": g["V"],
        "c0": c0,
    }


def _thermodynamics_mp(n: int, beta, digits: int) -> dict:
    import mpmath

    from asymptotics.peaked.stat_mech_mp import gap_thermodynamics_mp

    beta_q = exact_real("beta", beta, positive=True)
    g = gap_thermodynamics_mp(n, beta_q, digits + 5)
    with mpmath.workdps(digits + 5):
        out = {
            "lnZ": g["lnZ"],
            "F": -g["lnZ"] / fraction_to_mpf(beta_q),
            "U": g["U"],
            "purity": g["purity"],
            "entropy": g["entropy"],
            "a": g["a"],
            "V": g["V"],
            "c0": g["c0"],
        }
    with mpmath.workdps(digits):
        return {k: +v for k, v in out.items()}


def log_partition_mean(n: int, beta: float, digits: int | None = None):
    """``<ln Z>`` (relative accuracy ~1e-14; ``digits=N``: mpf to N digits).

    >>> round(log_partition_mean(2, 1e-9), 9)  # ln 2 at infinite temperature
    0.693147181
    """
    return thermodynamics(n, beta, digits)["lnZ"]


def free_energy(n: int, beta: float, digits: int | None = None):
    """``F = -<ln Z>/beta`` (relative accuracy ~1e-14; ``digits=N``: mpf to N digits).

    >>> round(free_energy(2, 1.0), 9)
    -0.902661908
    """
    return thermodynamics(n, beta, digits)["F"]


def internal_energy(n: int, beta: float, digits: int | None = None):
    """``U = -<sum p h>``; tends to ``-E[max h]`` as beta -> infinity.

    Relative accuracy ~1e-14; ``digits=N``: mpf to N digits.

    >>> round(internal_energy(2, 1e6), 6)   # -1/sqrt(pi)
    -0.56419
    """
    return thermodynamics(n, beta, digits)["U"]


def purity_mean(n: int, beta: float, digits: int | None = None):
    """``<sum_i p_i^2>`` (relative accuracy ~1e-14; ``digits=N``: mpf to N digits).

    >>> round(purity_mean(4, 1e-6), 6)
    0.25
    """
    return thermodynamics(n, beta, digits)["purity"]


def mean_entropy(n: int, beta: float, digits: int | None = None):
    """Mean softmax entropy ``<-sum p ln p> = <ln Z> + beta U``.

    Relative accuracy ~1e-14; ``digits=N``: mpf to N digits.

    >>> round(mean_entropy(4, 1e-6), 6)  # ln 4
    1.386294
    """
    return thermodynamics(n, beta, digits)["entropy"]


def peaked_loss(n: int, beta: float, beta_star: float, digits: int | None = None):
    """Mean KL loss of the aligned student, ``L(beta) = a(beta) - a(beta*) + (beta - beta*) V(beta*)``.

    ``digits=None``: relative accuracy ~1e-13 unless beta is within ~1e-3 of beta* (there
    L ~ (beta* - beta)^2 and the absolute accuracy ~1e-16 a(beta) applies).  ``digits=N``: an mpf with
    absolute accuracy ~10^-N max(a(beta), a(beta*)) (the inputs are computed with 10 extra digits).

    >>> peaked_loss(2, 3.0, 3.0)
    0.0
    >>> round(peaked_loss(2, 1.0, 3.0), 10)
    0.1048119573
    >>> import mpmath
    >>> mpmath.nstr(peaked_loss(2, 1, 3, digits=20), 10)
    '0.1048119573'
    """
    check_positive("beta_star", beta_star)
    if digits is not None:
        import mpmath

        from asymptotics.peaked.stat_mech_mp import gap_thermodynamics_mp

        digits = check_digits(digits)
        n = check_num_classes(n)
        check_positive("beta", beta)
        if mpmath.mpf(beta) == mpmath.mpf(beta_star):
            return mpmath.mpf(0)
        g = gap_thermodynamics_mp(n, beta, digits + 10)
        gs = gap_thermodynamics_mp(n, beta_star, digits + 10)
        with mpmath.workdps(digits + 10):
            value = g["a"] - gs["a"] + (mpmath.mpf(beta) - mpmath.mpf(beta_star)) * gs["V"]
        with mpmath.workdps(digits):
            return +value
    if float(beta) == float(beta_star):
        return 0.0
    g = gap_thermodynamics(check_num_classes(n), float(check_positive("beta", beta)))
    gs = gap_thermodynamics(n, float(beta_star))
    return g["a"] - gs["a"] + (float(beta) - float(beta_star)) * gs["V"]
