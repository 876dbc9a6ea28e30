"""The precision contract: a public function called with ``digits=N`` returns N correct digits.

Every public function that takes ``digits`` is evaluated at ``N`` and ``N + 20`` digits over a grid
that includes the edges of its domain (eta as decimals from 1e-4 to 1e3, Delta -> 0, D up to 1e6, K up
to the largest supported, beta and alpha at their extremes); every number it returns must agree
with the ``N + 20`` result to ``10^-N`` relative (or absolute for values that vanish).  Points
outside a domain must raise :class:`InvalidInputError`.  mpmath's and python-flint's global
precision must be unchanged afterwards.

The expensive grid points are marked slow: by default they run at the smallest edge only.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass

import mpmath
import pytest

from asymptotics.asymptotic import gap_density as gd
from asymptotics.asymptotic import layer_integrals as li
from asymptotics.asymptotic.expansion import coefficient_taylor, expansion_coefficients
from asymptotics.asymptotic.expansion_report import expansion_report
from asymptotics.asymptotic.junctions import junction_moment
from asymptotics.asymptotic.late_time import late_time_series
from asymptotics.asymptotic.reduced_flow import fixed_point_Delta, leading_prefactors, noise_function
from asymptotics.dynamics import bayes_optimal as bo
from asymptotics.losses import layer as loss_layer
from asymptotics.losses.moments import loss_moments, uniform_loss_moments
from asymptotics.numeric.closure import closure_moments
from asymptotics.numeric.closure_quadrature import expected_max, uniform_closure
from asymptotics.peaked import expansion as pe
from asymptotics.peaked import stat_mech as sm
from asymptotics.peaked.bridge import bridge_summary
from asymptotics.sparse import expectations as sx
from asymptotics.sparse.model import SparseModel
from asymptotics.sparse.series import asymptotic_series
from asymptotics.validation import InvalidInputError

#: fields that are inputs or labels, not computed numbers
_SKIP = {"errors", "method", "digits", "K", "order", "eta", "series", "coefficients", "leading", "D", "Delta"}


def _numbers(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _numbers(v, f"{path}.{k}")
    elif is_dataclass(x):
        for f in fields(x):
            if f.name not in _SKIP:
                yield from _numbers(getattr(x, f.name), f"{path}.{f.name}")
    elif isinstance(x, (list, tuple)):
        for i, v in enumerate(x):
            yield from _numbers(v, f"{path}[{i}]")
    elif hasattr(x, "_mpf_") or isinstance(x, float):
        yield path, x


def assert_digits(fn, digits: int, *, printed: bool = False) -> None:
    """``fn(digits)`` agrees with ``fn(digits + 20)`` to ``10^-digits`` in every number it returns.

    ``printed``: the numbers are decimal strings with ``digits`` significant digits, which must be the
    correctly rounded values (error at most half a unit in the last printed place).
    """
    low = dict(_numbers(fn(digits)))
    high = dict(_numbers(fn(digits + 20)))
    assert low.keys() == high.keys() and low
    with mpmath.workdps(digits + 40):
        scale = max(abs(mpmath.mpf(v)) for v in high.values())
        for key, ref in high.items():
            value = low[key]
            assert hasattr(value, "_mpf_"), f"{key} is a float, not an mpf, at digits={digits}"
            ref = mpmath.mpf(ref)
            floor = mpmath.mpf(10) ** (-(digits + 20)) * scale  # a value that vanishes exactly
            err = abs(mpmath.mpf(value) - ref)
            if printed:
                ulp = mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(max(abs(ref), floor))) - digits + 1)
                assert err <= ulp * (mpmath.mpf(1) / 2 + mpmath.mpf(10) ** -6), (key, value, ref)
            else:
                assert err <= mpmath.mpf(10) ** (-digits) * max(abs(ref), floor), (key, value, ref)
    assert mpmath.mp.dps == 15


def _decimal_strings(report):
    """The decimal strings of an ``expand`` report as mpf numbers (parsed at 100 digits)."""
    skip = {"K", "eta", "eta_exact", "order", "digits", "corrections_accuracy", "expansion_leading_power"}

    def convert(x):
        if isinstance(x, dict):
            return {k: convert(v) for k, v in x.items() if k not in skip}
        if isinstance(x, list):
            return [convert(v) for v in x]
        with mpmath.workdps(100):
            return mpmath.mpf(x)

    return convert(report)


# (label, function of digits, slow) -- cheap points run by default; "printed": decimal strings
# (correctly rounded), "printed-slow": the same, long
CASES = [
    *[(f"expected_max K={K}", lambda d, K=K: expected_max(K, d), False) for K in (2, 20, 1000)],
    *[(f"uniform_closure K={K}", lambda d, K=K: uniform_closure(K, d), False) for K in (2, 20)],
    *[(f"rho0 K={K}", lambda d, K=K: gd.top_gap_density_at_zero(K, d), False) for K in (2, 3, 20, 1000)],
    *[(f"expected_maximum K={K}", lambda d, K=K: gd.expected_maximum(K, d), False) for K in (2, 1000)],
    *[
        (f"rho derivative K={K}", lambda d, K=K: gd.top_gap_density_derivative(K, 3, d), False)
        for K in (3, 20)
    ],
    *[
        (f"joint derivative K={K} {a}", lambda d, K=K, a=a: gd.gap_joint_derivative(K, a, d), False)
        for K in (3, 20)
        for a in ((1, 0), (2, 0), (1, 1))
    ],
    *[
        (f"noise_function Delta={x}", lambda d, x=x: noise_function(x, d), False)
        for x in (0, "1e-30", "0.3", 1000, 320000)
    ],
    *[
        (f"fixed_point eta={e}", lambda d, e=e: fixed_point_Delta(e, d), False)
        for e in ("0.0001", "0.001", "0.1", "1", "100", "1000")
    ],
    *[
        (f"leading K={K} eta={e}", lambda d, K=K, e=e: leading_prefactors(K, e, d), False)
        for K, e in ((2, "0.0001"), (20, "1000"), (3, "0.3"), (1000, "1"))
    ],
    *[
        (f"layer {n} Delta={x}", lambda d, n=n, x=x: li.binary_layer_moment(n, 2, x, d), x in (25, 100))
        for x in (0, "1e-8", "0.3", 25, 100)
        for n in ("drift", "noise", "eps_g", "restoring", "loss")
    ],
    *[
        (
            f"layer derivative Delta={x}",
            lambda d, x=x: li.binary_layer_moment_derivative("noise", 1, 2, x, d),
            False,
        )
        for x in ("1e-8", "0.3", 100)
    ],
    *[
        (
            f"layer integrals Delta={x}",
            lambda d, x=x: [
                li.restoring_integral(x, d),
                li.drift_integral(x, d),
                li.noise_integral(x, d),
                li.error_integral(x, d),
            ],
            False,
        )
        for x in (0, "0.25")
    ],
    *[
        (
            f"junction {a} Delta={x}",
            lambda d, a=a, x=x: (
                [junction_moment(n, a, x, d) for n in ("loss", "eps_g")]
                + [junction_moment("drift", a, x, d, derivative=1)]
            ),
            x != "0.25",
        )
        for a in ((0, 0), (1, 0, 0))
        for x in ("1e-4", "0.25", 100)
    ],
    ("coefficient_taylor K=5", lambda d: coefficient_taylor(5, "noise", 2, 1, "0.25", d), False),
    ("expansion_coefficients K=3 Delta=23", lambda d: expansion_coefficients(3, 23, 2, d), True),
    ("expansion_coefficients K=20", lambda d: expansion_coefficients(20, "0.25", 1, d), True),
    ("late_time K=3 eta=1", lambda d: late_time_series(3, "1", 2, d), False),
    ("late_time K=2 eta=0.001", lambda d: late_time_series(2, "0.001", 2, d), True),
    ("late_time K=3 eta=10", lambda d: late_time_series(3, "10", 2, d), True),
    (
        "expansion_report K=3 eta=0.1",
        lambda d: _decimal_strings(expansion_report(3, "0.1", 1, d)),
        "printed-slow",
    ),
    *[(f"peaked coefficients n={n}", lambda d, n=n: pe.coefficients(n, d), n != 2) for n in (2, 128, 100000)],
    *[
        (f"thermodynamics n={n} beta={b}", lambda d, n=n, b=b: sm.thermodynamics(n, b, d), True)
        for n, b in ((2, "0.001"), (128, 100), (128, "1e7"), (5, 30))
    ],
    ("bridge n=3", lambda d: bridge_summary(3, 1, d), True),
    *[
        (f"overlap_kernel r={r}", lambda d, r=r: bo.overlap_kernel(r, d), False)
        for r in (0, "0.5", "0.999999")
    ],
    *[
        (f"bayes alpha={a}", lambda d, a=a: [bo.bayes_overlap(a, d), bo.bayes_error(a, d)], a != 1)
        for a in ("0.01", 1, 1000)
    ],
    ("large_alpha_constants", lambda d: bo.large_alpha_constants(d), False),
    *[
        (
            f"sparse {name} s={sv} a={av} D={D}",
            lambda d, name=name, sv=sv, av=av, D=D: getattr(sx, name)(SparseModel(sv, av), [D], digits=d),
            D > 1e9,
        )
        for name in ("seen_expected", "missing_signal", "unseen_mass")
        for sv, av in (("1.3", "0.7"), (2, "0.5"))
        for D in (1, 10**6, 10**12)
    ],
    *[
        (
            f"sparse series {name}",
            lambda d, name=name: _decimal_strings(
                {
                    str(i): {"c": t["coefficient"], "p": t["power"]}
                    for i, t in enumerate(asymptotic_series(name, SparseModel("1.3", "0.7"), 3, digits=d))
                }
            ),
            "printed",
        )
        for name in ("seen_expected", "missing_signal")
    ],
    *[
        (f"closure K={K} D={D} Delta={x}", lambda d, K=K, D=D, x=x: closure_moments(K, D, x, digits=d), K > 2)
        for K, D, x in (
            (2, 1e6, 1e6),
            (2, "0.1", "1e-30"),
            (2, 0, "1e-20"),
            (2, "1e-8", 0),
            (3, 2, "0.25"),
            (4, 1, "0.5"),
        )
    ],
    # loss-generic engine (asymptotics.losses)
    *[
        (
            f"loss layer {L} Delta={x}",
            lambda d, L=L, x=x: [
                loss_layer.layer_moment(L, n, 1, x, d) for n in ("drift", "restoring", "noise")
            ],
            x == "100",
        )
        for L in ("focal:gamma=2", "brier", "cross_entropy:T=2")
        for x in (0, "1e-8", "0.3", "100")
    ],
    (
        "loss layer derivative",
        lambda d: loss_layer.layer_moment("margin:m=1", "noise", 0, "1e-8", d, derivative=1),
        False,
    ),
    *[
        (f"loss fixed point {L} eta={e}", lambda d, L=L, e=e: loss_layer.fixed_point(L, e, d), e != "1")
        for L in ("focal:gamma=2", "margin:m=1")
        for e in ("0.0001", "1", "100")
    ],
    *[
        (
            f"loss leading {L} K={K} eta={e}",
            lambda d, L=L, K=K, e=e: loss_layer.leading_constants(L, K, e, d),
            True,
        )
        for L, K, e in (("brier", 2, "0.0001"), ("cross_entropy:T=2", 1000, "100"))
    ],
    *[
        (
            f"loss moments {L} K=2 D={D} Delta={x}",
            lambda d, L=L, D=D, x=x: loss_moments(L, 2, D, x, digits=d),
            D != "0.1",
        )
        for L in ("focal:gamma=2", "label_smoothing:eps=0.1")
        for D, x in ((1e6, 100), ("0.1", "1e-30"), (0, "1e-20"), ("3", 0))
    ],
    ("loss moments brier K=3", lambda d: loss_moments("brier", 3, 2, "0.25", digits=d), True),
    ("loss moments T=2 K=4", lambda d: loss_moments("cross_entropy:T=2", 4, 1, "0.5", digits=d), True),
    *[
        (f"uniform loss moments K={K}", lambda d, K=K: uniform_loss_moments("margin:m=1", K, d), False)
        for K in (2, 3)
    ],
]


@pytest.mark.parametrize("label,fn,slow", CASES, ids=[c[0] for c in CASES])
def test_digits_are_correct(label, fn, slow, run_slow):
    printed = str(slow).startswith("printed")
    if (slow is True or slow == "printed-slow") and not run_slow:
        pytest.skip("long; runs with --run-slow (the reduced form is test_digits_reduced_form)")
    assert_digits(fn, 15, printed=printed)
    if run_slow:
        assert_digits(fn, 30, printed=printed)


def test_digits_reduced_form():
    """One point of each expensive family at the cheapest precision (the default suite's share)."""
    assert_digits(lambda d: closure_moments(3, 2, "0.25", digits=d), 10)
    assert_digits(lambda d: sm.thermodynamics(5, 30, d), 10)
    assert_digits(lambda d: pe.coefficients(128, d), 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: fixed_point_Delta("0.00009", 20),
        lambda: fixed_point_Delta("1001", 20),
        lambda: late_time_series(3, "30", 2, 20),
        lambda: leading_prefactors(1001, 1, 20),
        lambda: late_time_series(21, 1, 1, 20),
        lambda: closure_moments(21, 1.0, 0.5, digits=20),
        lambda: closure_moments(3, 1e5, 0.5, digits=20),
        lambda: expansion_report(3, 1, 2, 101),
        lambda: noise_function("-1", 20),
        lambda: junction_moment("loss", (0, 0), "nan", 20),
        lambda: junction_moment("loss", (0, 0), "1e-5", 20),
        lambda: junction_moment("loss", (0, 0), 101),
        lambda: li.binary_layer_moment("noise", 0, "1e-9", 20),
        lambda: loss_layer.layer_moment("brier", "noise", 0, "1e-9", 20),
        lambda: loss_layer.layer_moment("brier", "noise", 0, 101, 20),
        lambda: loss_layer.fixed_point("focal:gamma=2", "0.00009", 20),
        lambda: loss_layer.leading_constants("label_smoothing:eps=0.1", 2, 1, 20),
        lambda: loss_moments("focal:gamma=2", 2, 2e6, 1, digits=20),
        lambda: loss_moments("brier", 3, 2e4, 1, digits=20),
        lambda: loss_moments("brier", 5, 2, 1, digits=20),
    ],
)
def test_outside_the_domain_raises(call):
    with pytest.raises(InvalidInputError):
        call()


def test_global_precision_is_unchanged_after_public_calls():
    flint = pytest.importorskip("flint")
    before = (mpmath.mp.dps, mpmath.mp.prec, flint.ctx.prec)
    closure_moments(2, 1, "0.3", digits=50)
    closure_moments(4, 1, "0.3", digits=20)
    fixed_point_Delta("0.1", 50)
    leading_prefactors(3, "0.1", 50)
    junction_moment("loss", (0, 0), "0.25", 50)
    sm.thermodynamics(3, 2, 50)
    bo.bayes_error(2, 50)
    assert (mpmath.mp.dps, mpmath.mp.prec, flint.ctx.prec) == before
