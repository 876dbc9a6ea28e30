"""The pieces :func:`asymptotics.dynamics.flow.integrate_closure` uses when a loss is given.

The flow itself is the same for every shift-invariant loss (:mod:`asymptotics.losses.derivation`)::

    dD/dalpha     = eta/(K-1) * drift
    dDelta/dalpha = eta/(K-1) * (-2 Delta restoring + eta noise)

with the loss's moments (:func:`asymptotics.losses.moments.loss_moments`).  Checked before any work: the
loss is shift invariant and class symmetric, ``K`` has a deterministic route for it (K = 2, 3 for every
loss; K >= 4 for the cross-entropy family), the start lies in the validated domain and, for a constant
``eta``, the late-time fixed point ``Delta*`` of a boundary-layer loss lies inside it too.

>>> from asymptotics.dynamics.flow import integrate_closure
>>> c = integrate_closure(2, 1.0, [1.0, 10.0], loss="brier")
>>> sorted(c.as_dict())
['D', 'Delta', 'alpha', 'cross_entropy', 'eps_g', 'loss']
"""

from __future__ import annotations

from asymptotics.validation import InvalidInputError

__all__ = ["prepare_loss_flow", "check_loss_flow_start", "loss_flow_moments"]

_DETERMINISTIC = ("auto", "binary", "quadrature", "mpmath")


def prepare_loss_flow(loss, K: int, method: str):
    """The validated :class:`~asymptotics.losses.model.Loss` for a closure flow with ``K`` classes."""
    from asymptotics.losses.domain import check_loss_parameters
    from asymptotics.losses.moments import is_cross_entropy
    from asymptotics.losses.registry import get_loss

    loss = get_loss(loss)
    loss.require_centred()
    check_loss_parameters(loss)
    if method not in _DETERMINISTIC:
        raise InvalidInputError(
            f"the closure flow of a loss needs a deterministic method ({', '.join(_DETERMINISTIC)}), "
            f"got {method!r}"
        )
    if K >= 4 and not (is_cross_entropy(loss, K) or loss.family == "cross_entropy"):
        raise InvalidInputError(
            f"loss {loss.name!r} has no deterministic closure route for K = {K} (K >= 4 needs the cross-entropy "
            "structure); its moments are available by Monte Carlo (loss_moments(..., method='montecarlo')) and "
            "its late-time constants by the boundary-layer route (asymptotics.losses.layer)"
        )
    return loss


def check_loss_flow_start(loss, K: int, D0: float, Delta0: float, eta, alpha_end: float, method: str) -> None:
    """Refuse a start outside the validated domain and a constant eta whose Delta* lies outside it."""
    from asymptotics.losses.domain import check_loss_domain, loss_float_domain

    if K <= 3:
        check_loss_domain(loss, K, float(D0), float(Delta0), None)
    if callable(eta) or alpha_end < 1.0 or K > 3:
        return
    if loss.bulk_decay() is None or not loss.reduces_to_binary(3):
        return
    from asymptotics.losses.layer import fixed_point_float

    box = loss_float_domain(K)
    d_star = fixed_point_float(loss, float(eta))
    if d_star > box.Delta_max:
        raise InvalidInputError(
            f"eta = {float(eta):g}: for loss {loss.name!r} Delta relaxes to Delta* = {d_star:.4g}, outside the "
            f"validated domain of the closure moments (Delta <= {box.Delta_max:g}); use a smaller eta"
        )


def loss_flow_moments(loss, K: int, method: str):
    """``evaluate(D, Delta, rtol) -> LossMoments`` for the flow's right-hand side."""
    from asymptotics.losses.moments import loss_moments

    def evaluate(D, Delta, rtol):
        return loss_moments(loss, K, D, Delta, method=method, rtol=rtol)

    return evaluate
