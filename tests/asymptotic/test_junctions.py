"""Junction moments of any size: against independent methods and across precisions.

* m = 1 against the binary layer moments (closed forms and 1-D mpmath quadrature of another integrand);
* m = 2 against the 2-D tensor quadrature of :mod:`asymptotics.asymptotic.local_binary` and the closed-form
  junction error integral;
* m = 3, 4 against Monte Carlo of the connected softmax integrands built here from the Moebius inversion
  (an implementation independent of the Laplace-transform reduction);
* Delta-derivatives (heat equation + Leibniz) against finite differences of high-precision values;
* 15, 30 and 50 digits agree to the lower precision.
"""

import itertools
import math

import mpmath
import numpy as np
import pytest

from asymptotics.asymptotic.junctions import junction_moment
from asymptotics.asymptotic.layer_integrals import QUANTITIES, binary_layer_moment
from asymptotics.asymptotic.local_binary import junction_error_closed_form
from asymptotics.asymptotic.local_binary import junction_moment as tensor_junction_moment
from asymptotics.validation import InvalidInputError


@pytest.mark.parametrize("name", QUANTITIES)
def test_single_competitor_is_the_binary_layer(name):
    for n in range(4):
        a = float(junction_moment(name, (n,), 0.3))
        b = float(binary_layer_moment(name, n, 0.3))
        assert abs(a - b) < 1e-13 * max(1.0, abs(b))


def test_single_competitor_at_30_digits():
    d = mpmath.mpf("0.3")
    for name in ("noise", "loss", "eps_g"):
        a = junction_moment(name, (1,), d, 30)
        b = binary_layer_moment(name, 1, d, 30)
        assert abs(a - b) < mpmath.mpf(10) ** -29 * max(1, abs(b))


@pytest.mark.parametrize("name", QUANTITIES)
def test_three_class_junction_against_tensor_quadrature(name):
    for alpha in [(0, 0), (0, 1), (1, 1), (0, 2)]:
        a = float(junction_moment(name, alpha, 0.25))
        b = tensor_junction_moment(name, alpha, 0.25, nodes=24)
        assert abs(a - b) < 3e-11 * max(1.0, abs(b)), (alpha, a, b)


def test_three_class_error_closed_form_any_precision():
    for d in ("0.1", "0.25", "1.5"):
        assert (
            abs(float(junction_moment("eps_g", (0, 0), float(d))) - junction_error_closed_form(float(d)))
            < 1e-14
        )
        with mpmath.workdps(40):
            dm = mpmath.mpf(d)
            exact = -dm * (mpmath.mpf(1) / 3 + mpmath.sqrt(3) / (2 * mpmath.pi))
        assert abs(junction_moment("eps_g", (0, 0), dm, 30) - exact) < mpmath.mpf(10) ** -29


def _connected_mc(name, alpha, Delta, samples, seed):
    """Monte Carlo of int u^alpha E F^conn(u + a) du, F^conn by Moebius inversion of the softmax integrands."""
    rng = np.random.default_rng(seed)
    m = len(alpha)
    lam = 0.6
    u = rng.exponential(1 / lam, size=(samples, m))
    weight = np.prod(u ** np.array(alpha) * np.exp(lam * u) / lam, axis=1)
    b = math.sqrt(Delta) * rng.standard_normal((samples, 1))
    a2 = math.sqrt(Delta) * rng.standard_normal((samples, m))
    v = u + b - a2
    conn = np.zeros(samples)
    for r in range(m + 1):
        for T in itertools.combinations(range(m), r):
            T = list(T)
            x = np.exp(-v[:, T]) if T else np.zeros((samples, 0))
            z = 1 + x.sum(axis=1)
            pc, pj = 1 / z, x / z[:, None]
            if name == "loss":
                f = np.log(z)
            elif name == "restoring":
                f = 1 - pc**2 - (pj**2).sum(axis=1)
            elif name == "noise":
                f = (1 - pc) ** 2 + (pj**2).sum(axis=1)
            elif name == "drift":
                f = (u[:, T] * pj).sum(axis=1)
            else:
                f = (v[:, T] < 0).any(axis=1).astype(float) if T else np.zeros(samples)
            conn += (-1) ** (m - r) * f
    vals = weight * conn
    return vals.mean(), vals.std() / math.sqrt(samples)


@pytest.mark.parametrize("name", QUANTITIES)
@pytest.mark.parametrize("alpha", [(0, 0, 0), (0, 0, 1), (0, 0, 0, 0)])
def test_four_and_five_class_junctions_against_monte_carlo(name, alpha):
    value = float(junction_moment(name, alpha, 0.3))
    est, se = _connected_mc(name, alpha, 0.3, 400_000, seed=len(alpha) * 10 + sum(alpha))
    assert abs(value - est) < 4.5 * se, (value, est, se)
    assert se < 0.05 * abs(value)  # the check has teeth


@pytest.mark.parametrize(
    "name,alpha",
    [("noise", (0, 1)), ("drift", (0, 0, 0)), ("loss", (1,)), ("eps_g", (0, 0, 1)), ("restoring", (0, 0))],
)
def test_delta_derivatives_against_finite_differences(name, alpha):
    with mpmath.workdps(40):
        d0, h = mpmath.mpf("0.3"), mpmath.mpf("1e-6")
    with mpmath.workdps(40):
        points = {i: d0 + i * h for i in (-2, -1, 0, 1, 2)}
    f = {i: junction_moment(name, alpha, x, 40) for i, x in points.items()}
    with mpmath.workdps(40):
        first = (f[-2] - 8 * f[-1] + 8 * f[1] - f[2]) / (12 * h)
        second = (-f[-2] + 16 * f[-1] - 30 * f[0] + 16 * f[1] - f[2]) / (12 * h * h)
    assert abs(junction_moment(name, alpha, d0, 30, derivative=1) - first) < 1e-18
    assert abs(junction_moment(name, alpha, d0, 30, derivative=2) - second) < 1e-10
    assert abs(float(junction_moment(name, alpha, 0.3, derivative=1)) - float(first)) < 1e-11


def test_precisions_agree():
    with mpmath.workdps(60):
        d = mpmath.mpf("0.2529")
    for name, alpha in [("restoring", (1, 1)), ("noise", (0, 0, 1)), ("drift", (0, 0, 0, 0))]:
        v15 = junction_moment(name, alpha, d, 15)
        v30 = junction_moment(name, alpha, d, 30)
        v50 = junction_moment(name, alpha, d, 50)
        assert abs(v15 - v30) < 1e-13 * max(1, abs(v30))
        assert abs(v30 - v50) < mpmath.mpf(10) ** -29 * max(1, abs(v50))


def test_bad_input():
    with pytest.raises(InvalidInputError, match="unknown quantity"):
        junction_moment("entropy", (0, 0), 0.3)
    with pytest.raises(InvalidInputError, match="alpha"):
        junction_moment("loss", (), 0.3)
    with pytest.raises(InvalidInputError, match="alpha"):
        junction_moment("loss", (0, -1), 0.3)
    with pytest.raises(InvalidInputError, match="Delta"):
        junction_moment("loss", (0, 0), -0.3)
    with pytest.raises(InvalidInputError, match="Delta"):
        junction_moment("loss", (0, 0), float("nan"))
    with pytest.raises(InvalidInputError, match="derivative"):
        junction_moment("loss", (0, 0), 0.3, derivative=-1)
    with pytest.raises(InvalidInputError, match="precision too low"):
        junction_moment("loss", (0, 0), 0.3, digits=2)


def test_laplace_reduction_derived_symbolically(monkeypatch):
    from asymptotics.asymptotic import junctions

    for m in (1, 2, 3):
        assert all(diff == 0 for diff in junctions.derive_laplace_reduction(m).values())
    # the check has teeth: a wrong coefficient in the noise term is detected
    monkeypatch.setitem(junctions.TERMS, "noise", [(-1, 1, None), (1, 2, None), (1, 0, (2, 0))])
    assert junctions.derive_laplace_reduction(2)["noise"] != 0
