r"""Boundary layers of any loss: the loss's own layer integrals, ``Delta*`` and the leading late-time laws.

Where the error signal vanishes exponentially away from the teacher's decision boundaries (the local
two-class loss ``lambda(s)`` decays like ``e^{-r s}`` and the K-class loss tends to ``lambda`` when the other
rivals are far below, :meth:`~asymptotics.losses.model.Loss.bulk_decay`,
:meth:`~asymptotics.losses.model.Loss.reduces_to_binary`), only examples whose teacher top gap is
``O(1/D)`` contribute at large ``D``.  In the layer the margin is ``s = u + a``, ``u = D g >= 0``,
``a = sqrt(2 Delta) zeta``, and the five closure integrands reduce to functions of ``s`` (``g = -lambda'``,
the K = 2 integrands of :mod:`asymptotics.losses.integrands` with the teacher gap ``g_1 -> u``)::

    drift      u g(s)          restoring  2 lambda''(s)       noise  2 g(s)^2
    eps_g      1[s < 0]        loss       lambda(s)           cross_entropy  log(1 + e^{-s})

Layer moments ``I_n[Q](Delta) = int_0^inf du u^(n+e) E Q(u + a) = int Q(v) W_(n+e)(v) dv`` (``e = 1`` for
the drift, ``W_n(v) = E[(v - a)_+^n]`` the Gaussian partial moment; :func:`layer_moment`, any precision,
Delta-derivatives exactly through the heat equation).  The leading constants::

    A(Delta) = I_0[drift] = I_0[loss]          (integration by parts: lambda(inf) = 0)
    R(Delta) = I_0[restoring] = 2 E g(a)       N(Delta) = I_0[noise]        E(Delta) = sqrt(Delta/pi)

give the reduced flow ``dD/dalpha = eta rho A/((K-1) D^2)``, ``dDelta/dalpha = eta rho (eta N - 2 Delta R)/((K-1) D)``
(``rho = rho_K(0)``), the fixed point ``2 Delta* R(Delta*) = eta N(Delta*)`` (:func:`fixed_point`) and at
fixed ``eta`` (:func:`leading_constants`) ::

    D ~ C_D alpha^(1/3),  C_D^3 = 3 eta rho A*/(K-1);   eps_g ~ rho sqrt(Delta*/pi)/D;   L ~ rho A*/D.

For cross-entropy ``R = 1``, ``N = 2 B`` and ``A = pi^2/12 + Delta/2``: the constants of
:mod:`asymptotics.asymptotic.reduced_flow` (tested).

>>> from asymptotics.losses import get_loss
>>> c = leading_constants(get_loss("cross_entropy"), 3, 1)
>>> [mpmath.nstr(c[k], 6) for k in ("C_D", "C_eps", "C_L")]
['1.06401', '0.225676', '0.754748']
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import mpmath
import numpy as np

from asymptotics.losses.registry import get_loss
from asymptotics.validation import (
    InvalidInputError,
    check_digits,
    check_num_classes,
    exact_real,
    fraction_to_mpf,
)

__all__ = [
    "LAYER_QUANTITIES",
    "require_boundary_layer",
    "layer_moment",
    "layer_constants",
    "fixed_point",
    "fixed_point_float",
    "leading_constants",
    "leading_constants_float",
    "DELTA_RANGE",
    "ETA_RANGE",
]

#: local layer functions, and the extra power of u of each (the drift carries u = D g)
LAYER_QUANTITIES = {"drift": 1, "restoring": 0, "noise": 0, "eps_g": 0, "loss": 0, "cross_entropy": 0}
_INDEX = {"drift": None, "restoring": 1, "noise": 2, "eps_g": 3, "loss": 4, "cross_entropy": 5}

#: validated range of Delta > 0 for the layer moments (Delta = 0 is allowed too)
DELTA_RANGE = ("1e-8", "100")
#: validated range of eta for Delta* and the leading constants
ETA_RANGE = ("1e-4", "100")


def require_boundary_layer(loss) -> None:
    """Raise :class:`InvalidInputError` unless the boundary-layer reduction applies to ``loss``."""
    loss = get_loss(loss)
    loss.require_centred()
    if loss.bulk_decay() is None:
        raise InvalidInputError(
            f"loss {loss.name!r}: the local loss does not vanish at large margins (its error signal is not "
            "exponentially small away from the decision boundaries), so the boundary-layer reduction does not "
            "apply; see asymptotics.losses.saturation for the saturated regime"
        )
    if not loss.reduces_to_binary(3):
        raise InvalidInputError(
            f"loss {loss.name!r}: the K-class loss does not reduce to the two-class loss when "
            "the other classes are far below; the boundary-layer reduction does not apply"
        )


_LOCAL_CACHE: dict = {}


def _local_mp(loss):
    """The six local functions at ``v`` (mpmath), memoised per ``(loss, v, precision)``: the quadratures of the
    different quantities share their nodes."""
    from asymptotics.losses.integrands import compiled_loss_split

    split = compiled_loss_split(loss, 2, "mpmath")

    def values(v):
        key = (loss.name, v, mpmath.mp.prec)
        out = _LOCAL_CACHE.get(key)
        if out is None:
            if len(_LOCAL_CACHE) > 400_000:
                _LOCAL_CACHE.clear()
            bases, coeffs = split(v)
            out = _LOCAL_CACHE[key] = (coeffs[0],) + tuple(
                bases[1:]
            )  # g(s), restoring, noise, eps_g, loss, ce
        return out

    return values


def _local_np(loss):
    from asymptotics.losses.integrands import compiled_loss_split

    split = compiled_loss_split(loss, 2, "numpy")

    def values(v):
        bases, coeffs = split(v)
        return (coeffs[0],) + tuple(bases[1:])

    return values


def _check_name(name):
    if name not in LAYER_QUANTITIES:
        raise InvalidInputError(
            f"unknown layer quantity {name!r}; expected one of {', '.join(LAYER_QUANTITIES)}"
        )


def _check_delta(Delta):
    q = exact_real("Delta", Delta, nonnegative=True)
    if q != 0 and not Fraction(DELTA_RANGE[0]) <= q <= Fraction(DELTA_RANGE[1]):
        raise InvalidInputError(
            f"Delta must be 0 or lie in [{DELTA_RANGE[0]}, {DELTA_RANGE[1]}] for the layer "
            f"moments, got {Delta!r}"
        )
    return q


@functools.lru_cache(maxsize=4096)
def _moment_mp(loss, name: str, n: int, k: int, Delta_key: str, digits: int):
    from asymptotics.asymptotic.layer_integrals import _partial_moment_vderiv
    from asymptotics.losses.domain import tail_scale

    power = n + LAYER_QUANTITIES[name]
    idx = _INDEX[name]
    local = _local_mp(loss)
    decay = tail_scale(loss, 2)
    with mpmath.workdps(digits + 15):
        Delta = mpmath.mpf(Delta_key)
        var = 2 * Delta
        sd = mpmath.sqrt(var)
        scale = max(sd, mpmath.mpf("0.05")) if k == 0 else sd
        lo = -(12 + mpmath.sqrt(2 * (digits + 15) * mpmath.log(10))) * scale
        hi = decay * (60 + (digits + 15) * mpmath.log(10)) + 4 * power + 10
        middle = (0,) if k == 0 else (-sd, 0, sd)
        points = sorted({lo, lo / 2, lo / 4, *middle, 1, 4, 10, 25, hi / 4, hi / 2, hi})
        if name == "eps_g":
            points = [p for p in points if p <= 0]

        def f(v):
            q = local(v)[0 if idx is None else idx]
            return q * _partial_moment_vderiv(power, 2 * k, v, var)

        return mpmath.quad(f, points)


@functools.lru_cache(maxsize=4096)
def _moment_float(loss, name: str, n: int, k: int, Delta: float) -> float:
    from asymptotics.asymptotic.layer_integrals import _np_vderiv
    from asymptotics.losses.domain import tail_scale

    power = n + LAYER_QUANTITIES[name]
    idx = _INDEX[name]
    local = _local_np(loss)
    decay = tail_scale(loss, 2)
    top = decay * (60.0 + 4 * power)
    xg, wg = np.polynomial.legendre.leggauss(40)
    if Delta == 0.0:  # W_n(v) = v^n 1[v > 0]: the integral of f(v) v^n over the positive half-line
        if k > 0:
            raise InvalidInputError("Delta-derivatives need Delta > 0")
        breaks = [b * decay for b in (0.0, 0.5, 1.5, 3.0, 6.0, 10.0, 16.0, 24.0, 34.0, 46.0)] + [top]
        total = 0.0
        for a, b in zip(breaks[:-1], breaks[1:]):
            v = 0.5 * (b - a) * xg + 0.5 * (a + b)
            q = local(v)[0 if idx is None else idx]
            total += 0.5 * (b - a) * float(np.sum(wg * q * v**power))
        return total
    sd = math.sqrt(2 * Delta)
    lo = -14.0 * sd - 1e-3
    breaks = [lo, lo / 2, lo / 4, -sd / 2, 0.0, 0.5, 1.5, 3.0, 6.0, 10.0, 16.0, 24.0, 34.0, 46.0]
    breaks = [b for b in breaks if b < top] + [top]
    total = 0.0
    for a, b in zip(breaks[:-1], breaks[1:]):
        if b <= a:
            continue
        v = 0.5 * (b - a) * xg + 0.5 * (a + b)
        q = local(v)[0 if idx is None else idx]
        total += 0.5 * (b - a) * float(np.sum(wg * q * _np_vderiv(power, 2 * k, v, 2 * Delta)))
    return total


def layer_moment(loss, name: str, n: int, Delta, digits: int | None = None, derivative: int = 0):
    """``d^k/dDelta^k I_n[name](Delta)`` of ``loss`` (``k = derivative``): the layer moment with ``u^(n+e)``.

    ``digits=N``: N correct digits (mpmath tanh-sinh); ``digits=None``: float64 (panelled Gauss-Legendre,
    ~1e-13 relative).  Delta-derivatives by the heat equation (``Delta > 0``).
    ``Delta`` is 0 or in :data:`DELTA_RANGE`.

    >>> from asymptotics.losses import get_loss
    >>> x = layer_moment(get_loss("focal:gamma=2"), "restoring", 0, 0, digits=15)   # 2 g(0) = log(2)/2 + 1/4
    >>> abs(x - (mpmath.log(2) / 2 + mpmath.mpf(1) / 4)) < 1e-15
    True
    """
    loss = get_loss(loss)
    require_boundary_layer(loss)
    _check_name(name)
    for label, val in (("moment order", n), ("derivative order", derivative)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 0:
            raise InvalidInputError(f"{label} must be an integer >= 0, got {val!r}")
    q = _check_delta(Delta)
    if derivative > 0 and q == 0:
        raise InvalidInputError("Delta must be > 0 for Delta-derivatives of the layer moments")
    if digits is None:
        return mpmath.mpf(_moment_float(loss, name, n, derivative, float(q)))
    digits = 15 if digits is None else check_digits(digits)
    with mpmath.workdps(digits + 15):
        key = mpmath.nstr(fraction_to_mpf(q), digits + 12)
    value = _moment_mp(loss, name, n, derivative, key, digits)
    with mpmath.workdps(digits):
        return +value


def layer_constants(loss, Delta, digits: int | None = None) -> dict:
    """``A, R, N, E`` (and ``L_CE``, the cross-entropy layer integral) at ``Delta``.

    >>> from asymptotics.losses import get_loss
    >>> c = layer_constants(get_loss("cross_entropy"), "0.5", 20)
    >>> mpmath.nstr(c["A"] - mpmath.pi**2 / 12, 12), mpmath.nstr(c["R"], 12)
    ('0.25', '1.0')
    """
    return {
        "A": layer_moment(loss, "drift", 0, Delta, digits),
        "R": layer_moment(loss, "restoring", 0, Delta, digits),
        "N": layer_moment(loss, "noise", 0, Delta, digits),
        "E": layer_moment(loss, "eps_g", 0, Delta, digits),
        "L_CE": layer_moment(loss, "cross_entropy", 0, Delta, digits),
    }


# ----------------------------------------------------------------------------------------------------
# the fixed point Delta*
# ----------------------------------------------------------------------------------------------------


def _check_eta(eta):
    q = exact_real("eta", eta, positive=True)
    if not Fraction(ETA_RANGE[0]) <= q <= Fraction(ETA_RANGE[1]):
        raise InvalidInputError(
            f"eta must lie in [{ETA_RANGE[0]}, {ETA_RANGE[1]}] for the layer constants, got {eta!r}"
        )
    return q


def _balance_float(loss, Delta: float, eta: float) -> float:
    return 2 * Delta * _moment_float(loss, "restoring", 0, 0, Delta) - eta * _moment_float(
        loss, "noise", 0, 0, Delta
    )


@functools.lru_cache(maxsize=1024)
def _fixed_point_float_cached(loss, eta: float) -> float:
    from scipy.optimize import brentq

    lo = 1e-8
    f_lo = _balance_float(loss, lo, eta)
    if f_lo >= 0:
        raise InvalidInputError(
            f"loss {loss.name!r}, eta = {eta:g}: no fixed point Delta* >= 1e-8 "
            "(2 Delta R < eta N fails at the lower end)"
        )
    hi = max(2 * lo, eta)
    while _balance_float(loss, hi, eta) <= 0:
        hi *= 2
        if hi > float(DELTA_RANGE[1]):
            raise InvalidInputError(
                f"loss {loss.name!r}, eta = {eta:g}: Delta* exceeds {DELTA_RANGE[1]} (the "
                "validated range of the layer moments)"
            )
    return brentq(lambda x: _balance_float(loss, x, eta), lo, hi, xtol=1e-300, rtol=1e-14)


def fixed_point_float(loss, eta) -> float:
    """``Delta*`` with ``2 Delta* R(Delta*) = eta N(Delta*)`` in float64 (Brent; ~1e-13 relative).

    >>> from asymptotics.losses import get_loss
    >>> round(fixed_point_float(get_loss("cross_entropy"), 1.0), 6)
    0.252918
    """
    loss = get_loss(loss)
    require_boundary_layer(loss)
    return _fixed_point_float_cached(loss, float(_check_eta(eta)))


@functools.lru_cache(maxsize=512)
def _fixed_point_mp(loss, eta_key: str, digits: int):
    eta_q = Fraction(eta_key)
    start = _fixed_point_float_cached(loss, float(eta_q))
    with mpmath.workdps(digits + 15):
        eta = fraction_to_mpf(eta_q)

        def F(x):
            key = mpmath.nstr(x, digits + 12)
            r = _moment_mp(loss, "restoring", 0, 0, key, digits + 5)
            nz = _moment_mp(loss, "noise", 0, 0, key, digits + 5)
            return 2 * x * r - eta * nz

        def dF(x):
            key = mpmath.nstr(x, digits + 12)
            r = _moment_mp(loss, "restoring", 0, 0, key, digits + 5)
            r1 = _moment_mp(loss, "restoring", 0, 1, key, digits + 5)
            n1 = _moment_mp(loss, "noise", 0, 1, key, digits + 5)
            return 2 * r + 2 * x * r1 - eta * n1

        x = mpmath.mpf(start)
        tol = mpmath.mpf(10) ** (-(digits + 8))
        for _ in range(40):
            step = F(x) / dF(x)
            x -= step
            if abs(step) < tol * x or (step / x) ** 2 < tol * mpmath.mpf("1e-3"):
                break
        else:  # pragma: no cover
            raise ArithmeticError(
                f"Newton iteration for Delta* did not converge (loss {loss.name}, eta {eta_key})"
            )
        return x


def fixed_point(loss, eta, digits: int = 15) -> mpmath.mpf:
    """``Delta*`` to ``digits`` digits (Newton on ``2 Delta R - eta N`` with the heat-equation derivatives).

    ``eta`` is taken exactly (decimal strings are the numbers typed), in :data:`ETA_RANGE`.

    >>> from asymptotics.losses import get_loss
    >>> mpmath.nstr(fixed_point(get_loss("cross_entropy"), 1, 15), 15)
    '0.252918096760311'
    """
    loss = get_loss(loss)
    require_boundary_layer(loss)
    eta_q = _check_eta(eta)
    digits = check_digits(digits)
    value = _fixed_point_mp(loss, f"{eta_q.numerator}/{eta_q.denominator}", digits)
    with mpmath.workdps(digits):
        return +value


def leading_constants(loss, K: int, eta, digits: int = 15) -> dict:
    """Leading late-time constants of ``loss`` at fixed ``eta`` (each to ``digits`` digits).

    ``rho0``, ``Delta_star``, ``A_star``, ``R_star``, ``N_star`` and the prefactors ``C_D`` (of ``D``), ``C_eps``
    (of ``eps_g``), ``C_L`` (of the training loss) and ``C_CE`` (of the test cross-entropy), all ``* alpha^(-1/3)``
    (``C_D``: ``alpha^(1/3)``).  ``K`` up to 1000.

    >>> from asymptotics.losses import get_loss
    >>> c = leading_constants(get_loss("focal:gamma=2"), 2, 1)
    >>> bool(c["C_L"] < leading_constants(get_loss("cross_entropy"), 2, 1)["C_L"])
    True
    """
    from asymptotics.asymptotic.gap_density import top_gap_density_at_zero

    loss = get_loss(loss)
    require_boundary_layer(loss)
    K = check_num_classes(K, maximum=1000)
    eta_q = _check_eta(eta)
    digits = check_digits(digits)
    with mpmath.workdps(digits + 10):
        eta_mp = fraction_to_mpf(eta_q)
        rho0 = top_gap_density_at_zero(K, digits + 10)
        d_star = _fixed_point_mp(loss, f"{eta_q.numerator}/{eta_q.denominator}", digits + 5)
        key = mpmath.nstr(d_star, digits + 17)
        a_star = _moment_mp(loss, "drift", 0, 0, key, digits + 5)
        r_star = _moment_mp(loss, "restoring", 0, 0, key, digits + 5)
        n_star = _moment_mp(loss, "noise", 0, 0, key, digits + 5)
        l_ce = _moment_mp(loss, "cross_entropy", 0, 0, key, digits + 5)
        c_d = mpmath.cbrt(3 * eta_mp * rho0 * a_star / (K - 1))
        out = {
            "rho0": rho0,
            "Delta_star": d_star,
            "A_star": a_star,
            "R_star": r_star,
            "N_star": n_star,
            "C_D": c_d,
            "C_eps": rho0 * mpmath.sqrt(d_star / mpmath.pi) / c_d,
            "C_L": rho0 * a_star / c_d,
            "C_CE": rho0 * l_ce / c_d,
        }
    with mpmath.workdps(digits):
        return {k: +v for k, v in out.items()}


def leading_constants_float(loss, K: int, eta) -> dict:
    """:func:`leading_constants` in float64 (~1e-13 relative; for tables and the atlas).

    >>> from asymptotics.losses import get_loss
    >>> round(leading_constants_float(get_loss("cross_entropy"), 3, 1.0)["C_eps"], 9)
    0.225675641
    """
    from asymptotics.asymptotic.gap_density import top_gap_density_at_zero

    loss = get_loss(loss)
    require_boundary_layer(loss)
    K = check_num_classes(K, maximum=1000)
    eta_f = float(_check_eta(eta))
    rho0 = float(top_gap_density_at_zero(K, 20))
    d_star = _fixed_point_float_cached(loss, eta_f)
    a_star = _moment_float(loss, "drift", 0, 0, d_star)
    l_ce = _moment_float(loss, "cross_entropy", 0, 0, d_star)
    c_d = (3 * eta_f * rho0 * a_star / (K - 1)) ** (1 / 3)
    return {
        "rho0": rho0,
        "Delta_star": d_star,
        "A_star": a_star,
        "R_star": _moment_float(loss, "restoring", 0, 0, d_star),
        "N_star": _moment_float(loss, "noise", 0, 0, d_star),
        "C_D": c_d,
        "C_eps": rho0 * math.sqrt(d_star / math.pi) / c_d,
        "C_L": rho0 * a_star / c_d,
        "C_CE": rho0 * l_ce / c_d,
    }
