"""The five expectations that close the centered (D, Delta) dynamics, as one value object.

With ``z_k = D y_k + sqrt(Delta) xi_k`` (``y, xi`` i.i.d. N(0, I_K)), ``c = argmax_k y_k`` and
``p = softmax(z)``:

* ``drift``      = E[ sum_k p_k (y_c - y_k) ]
* ``restoring``  = E[ sum_k p_k (1 - p_k) ]
* ``noise``      = E[ (1 - p_c)^2 + sum_{k != c} p_k^2 ]
* ``eps_g``      = P[ argmax_k z_k != c ]
* ``loss``       = E[ -log p_c ]

The order-parameter flow is then (see ``asymptotics.symbolic.closure`` for the derivation)::

    dD/dalpha     = eta/(K-1) * drift
    dDelta/dalpha = eta/(K-1) * (-2 Delta restoring + eta noise)
"""

from __future__ import annotations

from dataclasses import dataclass, field

MOMENT_NAMES = ("drift", "restoring", "noise", "eps_g", "loss")


@dataclass(frozen=True)
class ClosureMoments:
    """Values of the closure expectations at one point (K, D, Delta), with error estimates.

    ``errors`` maps each name in :data:`MOMENT_NAMES` to an absolute error estimate (0 for closed
    forms evaluated exactly); ``method`` names the algorithm and ``digits`` the working precision.
    Values are floats for float64 methods and ``mpmath.mpf`` for arbitrary precision.
    """

    K: int
    D: object
    Delta: object
    drift: object
    restoring: object
    noise: object
    eps_g: object
    loss: object
    errors: dict = field(default_factory=dict)
    method: str = ""
    digits: int = 15

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in MOMENT_NAMES}
