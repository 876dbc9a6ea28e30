"""Delta* = eta B(Delta*) at 30 and 50 digits for decimal eta, against an independent root.

The reference uses another form of the noise integral, ``B(Delta) = 2 int_0^inf log(2 cosh(a z/2))
phi(z) dz - 1/2`` with ``a = sqrt(2 Delta)`` (the softplus is ``x/2 + log(2 cosh(x/2))`` and ``E zeta = 0``),
quadrature split on the scale ``1/a``, and mpmath's bracketing (Anderson-Bjorck) root finder -- none of
the library's code.  ``eta`` is the decimal as typed: ``"0.1"`` is one tenth.
"""

import mpmath
import pytest

from asymptotics.asymptotic.reduced_flow import fixed_point_Delta


def _reference_root(eta_text: str, digits: int):
    with mpmath.workdps(digits + 25):
        eta = mpmath.mpf(eta_text)

        def B(Delta):
            a = mpmath.sqrt(2 * Delta)
            pts = [0] + [k / a for k in (1, 4, 16)] + [mpmath.inf]
            f = lambda z: mpmath.log(2 * mpmath.cosh(a * z / 2)) * mpmath.npdf(z)
            return 2 * mpmath.quad(f, pts) - mpmath.mpf(1) / 2

        # bracket: B increases from B(0) = ln 2 - 1/2, and B(Delta) < B(0) + sqrt(Delta/pi)
        lo = eta * (mpmath.log(2) - mpmath.mpf(1) / 2)
        hi = (eta / mpmath.sqrt(mpmath.pi) + mpmath.sqrt(eta)) ** 2 + 1
        return mpmath.findroot(
            lambda d: d - eta * B(d),
            (lo, hi),
            solver="anderson",
            tol=mpmath.mpf(10) ** (-2 * (digits + 15)),
            maxsteps=400,
        )


@pytest.mark.parametrize("eta", ["0.001", "0.0137", "0.1", "0.3", "1", "2.5", "10", "42.42", "100"])
@pytest.mark.parametrize("digits", [30, 50])
def test_fixed_point_matches_independent_root(eta, digits, run_slow):
    if digits == 50 and eta not in ("0.001", "1", "100") and not run_slow:
        pytest.skip("50 digits at the edges and eta = 1 by default; everywhere with --run-slow")
    value = fixed_point_Delta(eta, digits)
    ref = _reference_root(eta, digits)
    with mpmath.workdps(digits + 10):
        assert abs(value - ref) <= mpmath.mpf(10) ** (-digits) * abs(ref), (eta, value, ref)
    assert mpmath.mp.dps == 15


def test_decimal_eta_is_not_the_binary_float():
    """0.1 as a decimal and as the float 0.1000000000000000055511... differ after 17 digits."""
    exact = fixed_point_Delta("0.1", 40)
    binary = fixed_point_Delta(0.1, 40)
    with mpmath.workdps(50):
        assert abs(exact - binary) > mpmath.mpf(10) ** -20 * exact
        assert abs(exact - _reference_root("0.1", 40)) < mpmath.mpf(10) ** -40 * exact
