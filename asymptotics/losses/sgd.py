"""Error signal and test observables of any loss for the finite-N SGD simulator.

:func:`asymptotics.dynamics.sgd.simulate_sgd` with ``loss=`` replaces ``e = onehot(c) - softmax(z)`` by
``e_k = -dl/dz_k`` of the loss:

* shift-invariant losses: the rivals of the label are gathered in class order, ``d_j = z_c - z_j``, and
  ``e_j = df/dd_j`` comes from the loss's homogenised gap functions
  (:func:`asymptotics.losses.integrands.compiled_error_signal`: finite for every finite logit), with
  ``e_c = -sum_j e_j``;
* a loss that is not shift invariant (``squared_logits``) is simulated in the logits themselves: the
  gradient of its explicit form for label 1 is compiled (:func:`logit_gradient`) and applied after
  moving the label to the first place.  Such a loss moves the mean logit; the simulator handles it (it
  is plain SGD) but no centred closure exists to compare with.

The test observables are the training loss ``l(z, c)`` and the cross-entropy ``-log p_c``.

>>> import numpy as np
>>> sig = error_signal_function("cross_entropy", 3)
>>> z = np.array([[0.0, 1.0, -1.0]]); c = np.array([1])
>>> bool(np.allclose(sig(z, c), np.eye(3)[c] - np.exp(z) / np.exp(z).sum()))
True
"""

from __future__ import annotations

from functools import cache

import numpy as np
import sympy as sp

from asymptotics.losses.registry import get_loss

__all__ = ["error_signal_function", "observables_function", "logit_gradient"]


def _rival_index(c: np.ndarray, K: int) -> np.ndarray:
    j = np.arange(K - 1)[None, :]
    return j + (j >= c[:, None])


@cache
def logit_gradient(loss, K: int):
    """float64 ``f(z_1..z_K) -> [-dl/dz_1, ..., -dl/dz_K]`` for label 1 (explicit form; any loss)."""
    from asymptotics.symbolic.closure import closure_symbols

    s = closure_symbols(K)
    z = [s.z[i] for i in range(1, K + 1)]
    ell = loss.explicit(K, 1)
    grads = [-sp.diff(ell, zi) for zi in z]
    zs = sp.symbols(f"zz1:{K + 1}", real=True)
    sub = dict(zip(z, zs))
    f = sp.lambdify(zs, [g.xreplace(sub) for g in grads], modules="numpy", cse=True)
    value = sp.lambdify(zs, ell.xreplace(sub), modules="numpy", cse=True)
    return f, value


def _label_first(z: np.ndarray, c: np.ndarray):
    """Logits with the label's logit first, then the rivals in class order; and the rival index."""
    K = z.shape[-1]
    rows = np.arange(z.shape[0])
    idx = _rival_index(c, K)
    return np.concatenate([z[rows, c][:, None], np.take_along_axis(z, idx, axis=1)], axis=1), idx


def error_signal_function(loss, K: int):
    """``signal(z, c) -> e`` of shape ``(n, K)`` for logits ``z`` (n, K) and labels ``c`` (n,)."""
    loss = get_loss(loss)
    if loss.is_shift_invariant:
        from asymptotics.losses.integrands import compiled_error_signal

        grad = compiled_error_signal(loss, K)

        def signal(z, c):
            n = z.shape[0]
            rows = np.arange(n)
            idx = _rival_index(c, K)
            d = z[rows, c][:, None] - np.take_along_axis(z, idx, axis=1)
            er = np.stack(grad(*d.T), axis=1)
            e = np.empty_like(z)
            np.put_along_axis(e, idx, er, axis=1)
            e[rows, c] = -er.sum(axis=1)
            return e

        return signal
    f, _ = logit_gradient(loss, K)

    def signal_raw(z, c):
        zf, idx = _label_first(z, c)
        g = np.stack(np.broadcast_arrays(*f(*zf.T)), axis=1)
        e = np.empty_like(z)
        rows = np.arange(z.shape[0])
        e[rows, c] = g[:, 0]
        np.put_along_axis(e, idx, g[:, 1:], axis=1)
        return e

    return signal_raw


def observables_function(loss, K: int):
    """``obs(y, z) -> (eps_g, training loss, cross_entropy)`` as means over the rows of ``y, z``."""
    from asymptotics.dynamics.sgd import error_and_loss

    loss = get_loss(loss)
    if loss.is_shift_invariant:
        from asymptotics.losses.integrands import compiled_observables

        comp = compiled_observables(loss, K)

        def obs(y, z):
            c = np.argmax(y, axis=1)
            rows = np.arange(len(c))
            idx = _rival_index(c, K)
            d = z[rows, c][:, None] - np.take_along_axis(z, idx, axis=1)
            lo, ce = comp(*d.T)
            eps = float(np.mean(np.argmax(z, axis=1) != c))
            return eps, float(np.mean(lo)), float(np.mean(ce))

        return obs
    _, value = logit_gradient(loss, K)

    def obs_raw(y, z):
        c = np.argmax(y, axis=1)
        zf, _ = _label_first(z, c)
        eps, ce = error_and_loss(y, z)
        lo = np.broadcast_to(value(*zf.T), c.shape)
        return eps, float(np.mean(lo)), ce

    return obs_raw
