import math

import numpy as np
import pytest
from scipy.integrate import quad

from asymptotics.dynamics.schedules import (
    Constant,
    Cosine,
    PowerLaw,
    StepDecay,
    UserSchedule,
    as_schedule,
    parse_schedule,
)
from asymptotics.validation import InvalidInputError


def test_closed_forms_scalar_and_vectorised():
    a = np.array([0.0, 1.0, 3.0, 99.0])
    p = PowerLaw(2.0, 0.5, 1.0)
    assert np.allclose(p(a), 2.0 / np.sqrt(1.0 + a), rtol=1e-15)
    assert p(3.0) == pytest.approx(1.0, rel=1e-15)
    assert isinstance(p(3.0), float) and p(a).shape == a.shape
    assert StepDecay(1.0, 0.1, 10.0)(np.array([0.0, 9.99, 10.0, 35.0])).tolist() == pytest.approx(
        [1, 1, 0.1, 1e-3]
    )
    c = Cosine(1.0, 100.0, 0.01)
    assert c(50.0) == pytest.approx(0.505, rel=1e-14)
    assert c(1e6) == pytest.approx(0.01)
    assert Constant(0.3)(a).tolist() == [0.3] * 4


@pytest.mark.parametrize(
    "sched",
    [
        PowerLaw(1.0, 0.5, 2.0),
        PowerLaw(0.7, 1.0, 3.0),
        PowerLaw(1.0, 1.7, 0.5),
        Constant(0.4),
        Cosine(1.0, 50.0, 0.1),
    ],
)
def test_integral_matches_independent_quadrature(sched):
    for alpha in (0.5, 10.0, 1e3):
        ref, _ = quad(
            lambda t: float(sched(t)),
            0.0,
            alpha,
            limit=500,
            epsrel=1e-12,
            points=[50.0] if alpha > 50 else None,
        )
        assert sched.integral(alpha) == pytest.approx(ref, rel=1e-9)


def test_user_callable_and_as_schedule():
    s = as_schedule(lambda a: 1.0 / (1.0 + a) ** 2)
    assert isinstance(s, UserSchedule)
    assert s(np.array([1.0]))[0] == pytest.approx(0.25)
    # a non-vectorised callable is applied element by element
    s2 = UserSchedule(lambda a: math.exp(-float(a)))
    assert s2(np.array([0.0, 1.0])).tolist() == pytest.approx([1.0, math.exp(-1)])
    with pytest.raises(InvalidInputError, match="finite eta > 0"):
        UserSchedule(lambda a: -1.0 + 0 * a)(np.array([1.0]))
    assert as_schedule(0.5) == Constant(0.5)


def test_parse_and_repr_round_trip():
    for spec, expected in [
        ("power:beta=0.5,eta0=1,alpha0=1", PowerLaw(1.0, 0.5, 1.0)),
        ("constant:eta=2", Constant(2.0)),
        ("step:eta0=1,gamma=0.5,every=10", StepDecay(1.0, 0.5, 10.0)),
        ("cosine:eta0=1,alpha_max=100,eta_min=0.01", Cosine(1.0, 100.0, 0.01)),
    ]:
        s = parse_schedule(spec)
        assert s == expected
        assert (
            eval(
                repr(s),
                {"PowerLaw": PowerLaw, "Constant": Constant, "StepDecay": StepDecay, "Cosine": Cosine},
            )
            == s
        )
    assert parse_schedule("power:beta=0.25", eta=0.3).eta0 == 0.3


@pytest.mark.parametrize(
    "spec,match",
    [
        ("power:beta=-1", "beta must be >= 0"),
        ("power:gamma=1", "bad schedule parameter"),
        ("power:beta=x", "must be a number"),
        ("step:gamma=2", "gamma must be in"),
        ("cosine:eta0=1,eta_min=2", "eta_min"),
        ("", "non-empty"),
        ("warmup:eta=1", "unknown schedule kind"),
        ("constant:eta=0", "eta must be > 0"),
    ],
)
def test_bad_specs_raise_one_line_errors(spec, match):
    with pytest.raises(InvalidInputError, match=match) as info:
        parse_schedule(spec)
    assert "\n" not in str(info.value)


def test_negative_alpha_rejected():
    with pytest.raises(InvalidInputError):
        PowerLaw()(-1.0)
    with pytest.raises(InvalidInputError):
        PowerLaw()(np.array([1.0, np.nan]))
