"""Property-based checks: random valid and invalid inputs give a finite, plausible result or a clear error.

Each public entry point, driven by hypothesis, either returns finite numbers that satisfy the model's
exact bounds, or raises :class:`InvalidInputError` / :class:`IntegrationError` with a message --
never another exception, a NaN or an infinity.
"""

from __future__ import annotations

import math

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from asymptotics.validation import IntegrationError, InvalidInputError  # noqa: E402

CLEAR_ERRORS = (InvalidInputError, IntegrationError)
SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)

reals = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1e7),
    st.sampled_from([0.0, 1e-300, 1e-30, 1e-12, 1.0, 1e3, 1e6, -1.0, "0.1", "1e-3", "x", None]),
)


def _finite(*values):
    return all(math.isfinite(float(v)) for v in values)


def _clear(exc):
    assert str(exc).strip(), "an error needs a message"


@SETTINGS
@given(K=st.integers(min_value=-1, max_value=25), D=reals, Delta=reals)
def test_closure_moments(K, D, Delta):
    from asymptotics.numeric.closure import closure_moments

    try:
        m = closure_moments(K, D, Delta)
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    assert _finite(m.drift, m.restoring, m.noise, m.eps_g, m.loss)
    assert 0 <= m.eps_g <= 1 - 1 / K + 1e-12
    assert 0 <= m.restoring <= 1 - 1 / K + 1e-12  # sum p(1-p) <= 1 - 1/K
    assert 0 <= m.noise <= 2 and m.loss >= 0 and m.drift >= 0


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    K=st.integers(min_value=1, max_value=4),
    eta=st.one_of(st.floats(min_value=1e-4, max_value=200), st.sampled_from([0.0, -1.0, math.nan, math.inf])),
    alpha=st.floats(min_value=0.0, max_value=50.0),
)
def test_integrate_closure(K, eta, alpha):
    from asymptotics.dynamics.flow import integrate_closure

    try:
        c = integrate_closure(K, eta, [alpha], rtol=1e-6)
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    assert _finite(c.D[0], c.Delta[0], c.eps_g[0], c.loss[0])
    assert c.D[0] >= 0 and c.Delta[0] >= 0 and 0 <= c.eps_g[0] <= 1


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    K=st.integers(min_value=1, max_value=4),
    eta=st.one_of(
        st.sampled_from(["0.001", "0.05", "1", "10", "11", "0", "-1", "x"]),
        st.floats(min_value=1e-3, max_value=10),
    ),
    order=st.integers(min_value=-1, max_value=2),
)
def test_late_time_series(K, eta, order):
    from asymptotics.asymptotic.late_time import late_time_series

    try:
        lt = late_time_series(K, eta, order, 15)
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    lead = lt.leading
    assert _finite(lead["C_D"], lead["C_eps"], lead["C_L"]) and lead["C_D"] > 0


@SETTINGS
@given(
    text=st.one_of(
        st.text(max_size=40),
        st.builds(
            lambda k, v: f"power:beta={v}" if k else f"constant:eta={v}",
            st.booleans(),
            st.floats(allow_nan=True, allow_infinity=True),
        ),
    ),
    eta=st.one_of(st.none(), st.floats(min_value=1e-3, max_value=10)),
)
def test_parse_schedule(text, eta):
    from asymptotics.dynamics.flow import learning_rate_function
    from asymptotics.dynamics.schedules import parse_schedule

    try:
        rate = learning_rate_function(parse_schedule(text, eta=eta))
        values = [rate(alpha) for alpha in (0.0, 1.0, 1e6)]  # an underflow to 0 must be refused
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    assert all(math.isfinite(v) and v > 0 for v in values)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(
    n=st.integers(min_value=0, max_value=300),
    beta_star=st.one_of(
        st.floats(min_value=1e-3, max_value=1e4), st.sampled_from([0.0, -1.0, 1e8, math.nan])
    ),
)
def test_peaked_aligned_flow(n, beta_star):
    from asymptotics.peaked.dynamics import integrate_aligned_flow

    try:
        curve = integrate_aligned_flow(n, beta_star, 1e6, points_per_decade=2, table_points_per_decade=3)
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    assert all(math.isfinite(x) and x >= 0 for x in curve.loss)
    assert all(0 < b <= beta_star * (1 + 1e-9) for b in curve.beta)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    beta=st.one_of(st.floats(min_value=0, max_value=2), st.sampled_from([-0.5, math.nan, math.inf])),
    K=st.integers(min_value=1, max_value=5),
)
def test_schedule_exponents(beta, K):
    from asymptotics.asymptotic.schedule_exponents import predicted_exponents, schedule_reduced_flow
    from asymptotics.dynamics.schedules import PowerLaw

    try:
        pred = predicted_exponents(beta)
        flow = schedule_reduced_flow(K, PowerLaw(1.0, beta, 1.0), 1e6)
    except CLEAR_ERRORS as exc:
        _clear(exc)
        return
    assert all(math.isfinite(v) for v in pred.values())
    assert all(math.isfinite(x) for x in flow.eps_g)


_TOKENS = [
    "curve",
    "simulate",
    "expand",
    "exponents",
    "peaked",
    "latex",
    "reproduce",
    "--K",
    "--eta",
    "--N",
    "--alpha",
    "--alpha-max",
    "--digits",
    "--order",
    "--json",
    "--schedule",
    "--n",
    "--beta-star",
    "--seeds",
    "--out",
    "--plot",
    "1",
    "0",
    "-1",
    "nan",
    "1e300",
    "3",
    "x",
    "",
    "power:beta=0.5",
]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(argv=st.lists(st.sampled_from(_TOKENS), max_size=8))
def test_cli_parsers(argv):
    from asymptotics.cli import build_parser

    parser = build_parser()
    try:
        parser.parse_args(argv)
    except SystemExit as exc:
        assert exc.code in (0, 2)
