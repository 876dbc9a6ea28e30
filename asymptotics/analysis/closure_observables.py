"""The exact closure as smooth functions of alpha: ``eps_g(alpha)``, ``loss(alpha)``, ``state(alpha)``.

Local slopes (:mod:`asymptotics.analysis.slopes`) need the observables at arbitrary alpha, not on a
table: :func:`exact_closure_observables` integrates the closure once
(:func:`asymptotics.dynamics.flow.integrate_closure`) and evaluates the moments from its dense output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from asymptotics.dynamics.schedules import as_schedule
from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

__all__ = ["ClosureObservables", "exact_closure_observables"]


@dataclass
class ClosureObservables:
    """Exact-closure solution with dense output: ``state(alpha)``, ``eps_g(alpha)``, ``loss(alpha)``."""

    K: int
    schedule: object
    alpha_max: float
    curve: object = field(repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def rhs_evaluations(self) -> int:
        return int(self.curve.rhs_evaluations)

    def state(self, alpha: float):
        D, Delta = self.curve.state_at(float(alpha))
        return max(float(np.ravel(D)[0]), 0.0), max(float(np.ravel(Delta)[0]), 0.0)

    def _moments(self, alpha: float):
        key = float(alpha)
        if key not in self._cache:
            from asymptotics.numeric.closure import closure_moments

            if not 0 <= key <= self.alpha_max * (1 + 1e-12):
                raise InvalidInputError(
                    f"alpha = {key:g} outside the integrated range [0, {self.alpha_max:g}]"
                )
            self._cache[key] = closure_moments(self.K, *self.state(key))
        return self._cache[key]

    def eps_g(self, alpha) -> float:
        return float(self._moments(alpha).eps_g)

    def loss(self, alpha) -> float:
        return float(self._moments(alpha).loss)


def exact_closure_observables(
    K: int, eta, alpha_max: float, *, rtol: float = 1e-10, D0: float = 0.0, Delta0: float = 0.0
) -> ClosureObservables:
    """The exact closure from alpha = 0 to ``alpha_max`` as callables ``eps_g(alpha)``, ``loss(alpha)``.

    Wraps :func:`asymptotics.dynamics.flow.integrate_closure` (stiff LSODA solver in ``ln(1+alpha)``)
    and evaluates the observables from its dense output with
    :func:`asymptotics.numeric.closure.closure_moments` (cached per alpha), so local slopes can be
    taken anywhere.  Relative accuracy of the state ~``rtol`` (interpolant ~10 rtol); the local slopes
    of eps_g and L are then good to ~1e-7 with the default step of
    :func:`asymptotics.analysis.slopes.local_slope`.

    >>> obs = exact_closure_observables(2, 0.5, 10.0)
    >>> round(obs.eps_g(10.0), 4)
    0.088
    """
    from asymptotics.dynamics.flow import integrate_closure

    K = check_num_classes(K)
    sched = as_schedule(eta)
    check_positive("alpha_max", alpha_max)
    curve = integrate_closure(K, sched, [float(alpha_max)], D0=D0, Delta0=Delta0, rtol=rtol)
    return ClosureObservables(K=K, schedule=sched, alpha_max=float(alpha_max), curve=curve)
