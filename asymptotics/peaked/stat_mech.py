"""Exact statistical mechanics of n i.i.d. Gaussian logits, to any precision (mpmath).

Logits ``h_i`` i.i.d. N(0, 1), energies ``eps_i = -h_i``, ``Z(beta) = sum_i exp(beta h_i)``.
Quenched averages over the logits (``<.>``):

* ``<ln Z>``                           :func:`log_partition_mean`
* ``F = -<ln Z>/beta``                 :func:`free_energy`
* ``U = d(beta F)/d beta = -<sum p h>`` :func:`internal_energy`
* ``<sum_i p_i^2>``                     :func:`purity_mean`
* ``<-sum_i p_i ln p_i>``               :func:`mean_entropy`
* the teacher-student loss ``L(beta) = U(beta*)(beta - beta*) + beta* F(beta*) - beta F(beta)``
  (:func:`peaked_loss`), the mean KL divergence of ``softmax(beta h)`` from ``softmax(beta* h)``.

Method (one-dimensional integrals nested twice, cost independent of n).  With ``t = exp(-beta s)``
in ``ln Z = int_0^inf (e^{-t} - e^{-tZ}) dt/t`` and the factorisation of ``E e^{-tZ}`` over the
i.i.d. logits,

    <ln Z>   = int du [ exp(-e^{-u}) - G(u/beta)^n ],     G(s) = E_h exp(-e^{beta (h - s)}),
    <sum p^2> = n beta int ds G(s)^{n-1} E_h[ e^{2 beta (h-s)} exp(-e^{beta (h-s)}) ],

and Stein's lemma gives ``<sum p h> = beta (1 - <sum p^2>)``.  Both integrals are evaluated with
mpmath's tanh-sinh rule, split at the scales 1 (Gaussian) and 1/beta (Gumbel kernel), at a working
precision raised by ``2 log10(beta) + 10`` digits to absorb the cancellations of the low-temperature
regime.  Results are accurate to the requested number of significant digits (relative; for
``peaked_loss`` relative to the loss itself when beta is not within ~1e-3 of beta*).

>>> import mpmath
>>> float(log_partition_mean(2, 1.0))  # doctest: +ELLIPSIS
1.1095...
"""

from __future__ import annotations

import math

import mpmath

from asymptotics.validation import (
    InvalidInputError,
    check_digits,
    check_num_classes,
    check_positive,
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


def _check(n, beta, digits):
    n = check_num_classes(n)
    check_positive("beta", beta)
    digits = check_digits(digits)
    return n, digits


def _working_digits(digits: int, beta) -> int:
    return digits + 10 + int(2 * max(0.0, math.log10(float(beta)))) + 2


def _gaussian_cutoff(wp: int, n: int = 1):
    return mpmath.sqrt(2 * (wp * mpmath.log(10) + mpmath.log(n))) + 1


def _inner_points(s, beta, H):
    """Break points for an integral over h of phi(h) times a Gumbel-type kernel centred at s."""
    pts = [-H, s - 40 / beta, s - 4 / beta, s, s + 4 / beta, s + 8 / beta, mpmath.mpf(0)]
    pts = sorted(set(p for p in pts if -H <= p <= H))
    if not pts or pts[0] > -H:
        pts = [-H] + pts
    if pts[-1] < H:
        pts.append(H)
    return pts


def _gumbel_average(kernel, s, beta, H):
    """E_h[kernel(beta (h - s))] for h ~ N(0, 1) (tails beyond |h| = H are below the precision)."""
    pts = _inner_points(s, beta, H)
    f = lambda h: mpmath.npdf(h) * kernel(beta * (h - s))
    return mpmath.quad(f, pts)


def _G(s, beta, H):
    return _gumbel_average(lambda v: mpmath.exp(-mpmath.exp(v)), s, beta, H)


def _outer_points(n, beta, wp):
    H = _gaussian_cutoff(wp, n)
    lnwp = mpmath.log(wp * mpmath.log(10))
    lo = -lnwp - 1 - beta * H
    hi = min(beta ** 2 / 2 + mpmath.log(n) + wp * mpmath.log(10), beta * H + wp * mpmath.log(10))
    centre = mpmath.sqrt(2 * mpmath.log(n)) if n > 2 else mpmath.mpf("0.6")
    pts = [lo, -4, 0, 4]
    for s in (-2, centre - 1.5, centre - 0.5, centre, centre + 0.5, centre + 1.5, H - 1):
        pts.append(beta * s)
    pts.append(hi)
    pts = sorted(set(p for p in pts if lo <= p <= hi))
    return pts, H


def log_partition_mean(n: int, beta, digits: int = 15):
    """Quenched ``<ln Z>`` for n i.i.d. N(0,1) logits at inverse temperature beta (mpf).

    Accurate to ``digits`` significant digits for any n >= 2 and beta > 0.

    >>> mpmath.mp.dps = 15
    >>> round(float(log_partition_mean(3, 2.0)), 10)
    2.9208458233
    """
    n, digits = _check(n, beta, digits)
    wp = _working_digits(digits, beta)
    with mpmath.workdps(wp):
        beta = mpmath.mpf(beta)
        pts, H = _outer_points(n, beta, wp)
        f = lambda u: mpmath.exp(-mpmath.exp(-u)) - _G(u / beta, beta, H) ** n
        val = mpmath.quad(f, pts)
    return +val


def purity_mean(n: int, beta, digits: int = 15):
    """Quenched ``<sum_i p_i^2>`` of ``p = softmax(beta h)``, to ``digits`` significant digits.

    >>> round(float(purity_mean(2, 1e-9)), 6)
    0.5
    """
    n, digits = _check(n, beta, digits)
    wp = _working_digits(digits, beta)
    with mpmath.workdps(wp):
        beta = mpmath.mpf(beta)
        pts, H = _outer_points(n, beta, wp)
        k2 = lambda v: mpmath.exp(2 * v - mpmath.exp(v))

        def f(u):
            s = u / beta
            g = _G(s, beta, H)
            if g == 0:
                return mpmath.mpf(0)
            return g ** (n - 1) * _gumbel_average(k2, s, beta, H)

        val = n * mpmath.quad(f, pts)
    return +val


def internal_energy(n: int, beta, digits: int = 15):
    """``U(beta) = -<sum_i p_i h_i> = -beta (1 - <sum p^2>)`` (Stein), to ``digits`` digits.

    Tends to ``-E[max h]`` as beta -> infinity.

    >>> round(float(internal_energy(2, 50.0)), 6)  # -> -1/sqrt(pi) = -0.564190
    -0.563996
    """
    n, digits = _check(n, beta, digits)
    with mpmath.workdps(digits + 5 + int(max(0.0, math.log10(float(beta))))):
        val = -mpmath.mpf(beta) * (1 - purity_mean(n, beta, digits + 5))
    return +val


def free_energy(n: int, beta, digits: int = 15):
    """``F(beta) = -<ln Z>/beta``, to ``digits`` significant digits.

    >>> round(float(free_energy(2, 1.0)), 6)
    -1.109526
    """
    n, digits = _check(n, beta, digits)
    with mpmath.workdps(digits + 5):
        val = -log_partition_mean(n, beta, digits + 3) / mpmath.mpf(beta)
    return +val


def mean_entropy(n: int, beta, digits: int = 15):
    """Mean softmax entropy ``<-sum p ln p> = <ln Z> + beta U``, to ``digits`` digits (absolute
    accuracy relative to ``ln n``).

    >>> round(float(mean_entropy(4, 1e-6)), 6)  # ln 4 at infinite temperature
    1.386294
    """
    n, digits = _check(n, beta, digits)
    extra = int(2 * max(0.0, math.log10(float(beta))))
    with mpmath.workdps(digits + 5 + extra):
        val = log_partition_mean(n, beta, digits + 3 + extra) \
            + mpmath.mpf(beta) * internal_energy(n, beta, digits + 3 + extra)
    return +val


def thermodynamics(n: int, beta, digits: int = 15) -> dict:
    """All quenched quantities at one beta: keys ``lnZ``, ``F``, ``U``, ``purity``, ``entropy``.

    >>> sorted(thermodynamics(2, 1.0, 10))
    ['F', 'U', 'entropy', 'lnZ', 'purity']
    """
    n, digits = _check(n, beta, digits)
    extra = int(2 * max(0.0, math.log10(float(beta)))) + 3
    with mpmath.workdps(digits + extra + 5):
        b = mpmath.mpf(beta)
        lnz = log_partition_mean(n, beta, digits + extra)
        pur = purity_mean(n, beta, digits + extra)
        U = -b * (1 - pur)
        out = {"lnZ": +lnz, "F": -lnz / b, "U": U, "purity": pur, "entropy": lnz + b * U}
    return {k: +v for k, v in out.items()}


def peaked_loss(n: int, beta, beta_star, digits: int = 15):
    """Mean teacher-student KL loss ``L(beta) = U*(beta - beta*) + beta* F* - beta F``.

    ``beta`` is the student's, ``beta_star`` the teacher's inverse temperature (aligned student).
    Accurate to ``digits`` significant digits of L (the working precision is raised by the number
    of digits that cancel).

    >>> float(peaked_loss(2, 3.0, 3.0)) == 0.0
    True
    >>> round(float(peaked_loss(2, 1.0, 3.0)), 8)
    0.15815924
    """
    n, digits = _check(n, beta, digits)
    check_positive("beta_star", beta_star)
    if float(beta) > 0 and float(beta) == float(beta_star) and beta == beta_star:
        return mpmath.mpf(0)
    b, bs = mpmath.mpf(beta), mpmath.mpf(beta_star)
    rel = abs(b - bs) / bs
    if rel == 0:
        return mpmath.mpf(0)
    cancel = int(max(0.0, math.log10(float(bs)))) + int(max(0.0, -2 * math.log10(float(rel)))) + 3
    d = digits + cancel
    with mpmath.workdps(d + 5):
        lnz = log_partition_mean(n, b, d)
        lnz_s = log_partition_mean(n, bs, d)
        U_s = internal_energy(n, bs, d)
        val = U_s * (b - bs) - lnz_s + lnz
    if val < 0 and abs(val) < mpmath.mpf(10) ** (-digits):
        raise InvalidInputError("loss below the requested precision; raise digits")
    return +val
