"""Learning-rate schedules eta(alpha) as first-class, validated, vectorised callables.

Every schedule is a callable ``alpha -> eta`` accepting a float or a numpy array (returning the same
shape), with a readable ``repr`` and validated parameters.  They can be passed wherever the toolkit
takes a learning rate: the exact closure (:func:`asymptotics.dynamics.flow.integrate_closure`), the
schedule-driven reduced flow (:mod:`asymptotics.asymptotic.schedule_exponents`) and SGD simulators.

* :class:`Constant`   ``eta``
* :class:`PowerLaw`   ``eta0 (1 + alpha/alpha0)^(-beta)``
* :class:`StepDecay`  ``eta0 * gamma^floor(alpha/every)``
* :class:`Cosine`     ``eta_min + (eta0 - eta_min)(1 + cos(pi alpha/alpha_max))/2`` on [0, alpha_max],
  ``eta_min`` afterwards
* :class:`UserSchedule` any callable (its values are checked when evaluated)

:func:`parse_schedule` reads the command-line form, e.g. ``"power:beta=0.5,eta0=1,alpha0=1"``.
Evaluation is exact up to float64 rounding.

>>> s = parse_schedule("power:beta=0.5,eta0=2,alpha0=1")
>>> s
PowerLaw(eta0=2.0, beta=0.5, alpha0=1.0)
>>> float(s(3.0))
1.0
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from asymptotics.validation import InvalidInputError, check_finite, check_nonnegative, check_positive

__all__ = [
    "Schedule",
    "Constant",
    "PowerLaw",
    "StepDecay",
    "Cosine",
    "UserSchedule",
    "as_schedule",
    "parse_schedule",
]


def _alpha_array(alpha):
    a = np.asarray(alpha, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InvalidInputError(f"alpha must be finite and >= 0, got {alpha!r}")
    return a


def _out(a: np.ndarray, values: np.ndarray):
    return float(values) if a.ndim == 0 else values


class Schedule:
    """Base class: subclasses implement ``_eval(alpha_array)``; ``__call__`` validates and vectorises.

    ``integral(alpha)`` returns ``int_0^alpha eta`` (closed form where available, quadrature otherwise;
    relative accuracy ~1e-10).

    >>> Constant(0.5).integral(4.0)
    2.0
    """

    name = "schedule"

    def _eval(self, a: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scalar(self, a: float) -> float:
        return float(self._eval(np.asarray(a, dtype=float)))

    def __call__(self, alpha):
        if type(alpha) is float or type(alpha) is int:  # fast path for ODE right-hand sides
            if not (math.isfinite(alpha) and alpha >= 0):
                raise InvalidInputError(f"alpha must be finite and >= 0, got {alpha!r}")
            return self._scalar(float(alpha))
        a = _alpha_array(alpha)
        return _out(a, np.asarray(self._eval(a), dtype=float))

    def integral(self, alpha) -> float:
        from scipy.integrate import quad

        alpha = float(check_nonnegative("alpha", alpha))
        # integrate in log(1+alpha) for long ranges
        val, _ = quad(
            lambda t: float(self(math.expm1(t))) * math.exp(t),
            0.0,
            math.log1p(alpha),
            limit=400,
            epsabs=0.0,
            epsrel=1e-11,
        )
        return val

    def params(self) -> dict:
        return {}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other) -> bool:
        return type(self) is type(other) and self.params() == other.params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(self.params().items())))


class Constant(Schedule):
    """Constant learning rate ``eta > 0``.

    >>> Constant(1.0)(np.array([0.0, 10.0])).tolist()
    [1.0, 1.0]
    """

    name = "constant"

    def __init__(self, eta: float = 1.0):
        self.eta = float(check_positive("eta", eta))

    def _eval(self, a):
        return np.full(a.shape, self.eta)

    def _scalar(self, a):
        return self.eta

    def integral(self, alpha) -> float:
        return self.eta * float(check_nonnegative("alpha", alpha))

    def params(self):
        return {"eta": self.eta}


class PowerLaw(Schedule):
    """Power-law decay ``eta0 (1 + alpha/alpha0)^(-beta)``, ``eta0, alpha0 > 0``, ``beta >= 0``.

    >>> s = PowerLaw(1.0, 1.0, 1.0)
    >>> round(s.integral(math.e - 1), 12)
    1.0
    """

    name = "power"

    def __init__(self, eta0: float = 1.0, beta: float = 0.5, alpha0: float = 1.0):
        self.eta0 = float(check_positive("eta0", eta0))
        self.beta = float(check_nonnegative("beta", beta))
        self.alpha0 = float(check_positive("alpha0", alpha0))

    def _eval(self, a):
        return self.eta0 * (1.0 + a / self.alpha0) ** (-self.beta)

    def _scalar(self, a):
        return self.eta0 * (1.0 + a / self.alpha0) ** (-self.beta)

    def integral(self, alpha) -> float:
        alpha = float(check_nonnegative("alpha", alpha))
        x = math.log1p(alpha / self.alpha0)
        if abs(1.0 - self.beta) * x < 1e-8:
            return self.eta0 * self.alpha0 * x * (1 + (1 - self.beta) * x / 2)
        return self.eta0 * self.alpha0 * math.expm1((1.0 - self.beta) * x) / (1.0 - self.beta)

    def params(self):
        return {"eta0": self.eta0, "beta": self.beta, "alpha0": self.alpha0}


class StepDecay(Schedule):
    """Piecewise constant ``eta0 * gamma^floor(alpha/every)`` with ``0 < gamma <= 1``, ``every > 0``.

    >>> StepDecay(1.0, 0.5, 10.0)(np.array([5.0, 15.0, 25.0])).tolist()
    [1.0, 0.5, 0.25]
    """

    name = "step"

    def __init__(self, eta0: float = 1.0, gamma: float = 0.5, every: float = 10.0):
        self.eta0 = float(check_positive("eta0", eta0))
        self.gamma = float(check_positive("gamma", gamma))
        if self.gamma > 1:
            raise InvalidInputError(f"gamma must be in (0, 1], got {gamma!r}")
        self.every = float(check_positive("every", every))

    def _eval(self, a):
        return self.eta0 * self.gamma ** np.floor(a / self.every)

    def params(self):
        return {"eta0": self.eta0, "gamma": self.gamma, "every": self.every}


class Cosine(Schedule):
    """Cosine annealing from ``eta0`` to ``eta_min`` over ``[0, alpha_max]``, then ``eta_min``.

    ``eta_min`` must be > 0 (the flows need eta > 0); default ``1e-3 * eta0``.

    >>> s = Cosine(1.0, 10.0, 0.1)
    >>> [round(x, 6) for x in s(np.array([0.0, 5.0, 10.0, 20.0])).tolist()]
    [1.0, 0.55, 0.1, 0.1]
    """

    name = "cosine"

    def __init__(self, eta0: float = 1.0, alpha_max: float = 100.0, eta_min: float | None = None):
        self.eta0 = float(check_positive("eta0", eta0))
        self.alpha_max = float(check_positive("alpha_max", alpha_max))
        self.eta_min = float(check_positive("eta_min", 1e-3 * self.eta0 if eta_min is None else eta_min))
        if self.eta_min > self.eta0:
            raise InvalidInputError(f"eta_min ({self.eta_min}) must be <= eta0 ({self.eta0})")

    def _eval(self, a):
        phase = np.minimum(a / self.alpha_max, 1.0)
        return self.eta_min + (self.eta0 - self.eta_min) * 0.5 * (1.0 + np.cos(np.pi * phase))

    def params(self):
        return {"eta0": self.eta0, "alpha_max": self.alpha_max, "eta_min": self.eta_min}


class UserSchedule(Schedule):
    """Wrap any callable ``alpha -> eta``; values are checked (finite, > 0) at every evaluation.

    Non-vectorised callables are applied element by element.

    >>> s = UserSchedule(lambda a: 1.0 / (1.0 + a), name="inverse")
    >>> s(np.array([0.0, 1.0])).tolist()
    [1.0, 0.5]
    >>> s
    UserSchedule(name='inverse')
    """

    name = "user"

    def __init__(self, func: Callable, name: str | None = None):
        if not callable(func):
            raise InvalidInputError(f"a schedule must be callable, got {func!r}")
        self.func = func
        self.label = name or getattr(func, "__name__", "user")

    def _eval(self, a):
        try:
            values = np.asarray(self.func(a), dtype=float)
            if values.shape != a.shape:
                raise ValueError
        except Exception:
            values = np.vectorize(lambda t: float(self.func(float(t))), otypes=[float])(a)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise InvalidInputError(f"schedule {self.label!r} must give finite eta > 0 on alpha = {a!r}")
        return values

    def params(self):
        return {"name": self.label}

    def __eq__(self, other):
        return isinstance(other, UserSchedule) and other.func is self.func

    def __hash__(self):
        return id(self.func)


def as_schedule(eta) -> Schedule:
    """Turn a number, a :class:`Schedule` or any callable into a :class:`Schedule`.

    >>> as_schedule(0.5)
    Constant(eta=0.5)
    """
    if isinstance(eta, Schedule):
        return eta
    if callable(eta):
        return UserSchedule(eta)
    return Constant(eta)


_KINDS = {
    "constant": (Constant, {"eta": "eta"}),
    "power": (PowerLaw, {"eta0": "eta0", "beta": "beta", "alpha0": "alpha0"}),
    "step": (StepDecay, {"eta0": "eta0", "gamma": "gamma", "every": "every"}),
    "cosine": (Cosine, {"eta0": "eta0", "alpha_max": "alpha_max", "eta_min": "eta_min"}),
}


def parse_schedule(spec: str, eta: float | None = None) -> Schedule:
    """Parse ``"kind:key=value,..."``; ``kind`` is constant, power, step or cosine.

    ``eta`` (e.g. the CLI's ``--eta``) supplies the initial rate when ``eta``/``eta0`` is not given.

    >>> parse_schedule("constant:eta=1")
    Constant(eta=1.0)
    >>> parse_schedule("power:beta=0.25", eta=0.5)
    PowerLaw(eta0=0.5, beta=0.25, alpha0=1.0)
    >>> parse_schedule("step:gamma=0.1,every=100")
    StepDecay(eta0=1.0, gamma=0.1, every=100.0)
    >>> parse_schedule("linear:eta=1")
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: unknown schedule kind 'linear' (use constant, power, step, cosine)
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError(f"schedule must be a non-empty string like 'power:beta=0.5', got {spec!r}")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in _KINDS:
        raise InvalidInputError(f"unknown schedule kind {kind!r} (use {', '.join(_KINDS)})")
    cls, keys = _KINDS[kind]
    kwargs: dict[str, float] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in keys:
            raise InvalidInputError(
                f"bad schedule parameter {item!r} for {kind!r} (allowed: {', '.join(keys)})"
            )
        if keys[key] in kwargs:
            raise InvalidInputError(f"schedule parameter {key!r} is given twice in {spec!r}")
        try:
            kwargs[keys[key]] = float(check_finite(key, float(value)))
        except ValueError:
            raise InvalidInputError(
                f"schedule parameter {key} must be a number, got {value.strip()!r}"
            ) from None
    if eta is not None:
        first = "eta" if kind == "constant" else "eta0"
        kwargs.setdefault(first, float(eta))
    return cls(**kwargs)
