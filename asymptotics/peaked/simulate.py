"""Full-matrix simulation of the softmax head (numpy): gradient flow, SGD and Adam on W (n x m).

Teacher logits ``beta* h`` with ``h = W_hat x / sqrt(m)``, student logits ``W x``, loss
``KL(softmax(beta* h) || softmax(W x))``, gradient ``E[(q - p) x^T]``.  Three modes:

* ``"flow"`` -- gradient flow of the population loss.  Stein's lemma turns the m-dimensional
  gradient into n-dimensional averages, exactly and for any W:
  ``E[(q - p) x^T] = E[J(z)] W - beta* E[J(beta* h)] W_hat/sqrt(m)`` with ``J = diag(q) - q q^T``
  and ``(z, h) = (W x, W_hat x/sqrt(m))`` jointly Gaussian; the two n x n averages are taken over
  scrambled-Sobol normal points with antithetic pairs (``teacher_samples`` for the constant teacher
  term, ``samples`` for the student term); the relative drift error is ~3e-3 at 2^13 and ~1e-4 at
  2^15 student points (measured for n = 4, beta* = 10).  The n x m matrix W is integrated by
  Heun's method with steps ``d tau = min(kappa tau, 0.5 / curvature)`` (curvature bound: the mean of
  ``max_i 2 q_i (1 - q_i)``, a Gershgorin bound on J).  Time-discretisation error ~kappa^2.
* ``"erm"``  -- gradient flow of the empirical loss on a fixed sample of ``samples`` inputs (whitened
  so that its second moment is the identity); deviates from the population flow by
  ~sqrt(n m / samples) in the directions off the teacher.
* ``"sgd"``  -- plain online SGD with fresh batches (step = learning rate, tau = sum of steps).
* ``"adam"`` -- Adam with fresh batches; tau = sum of learning rates.

The online modes run on reused work buffers and skip numpy's slow path for underflowing ``exp``
(peaked logits): ~1.8 ms per step at n = 128, m = 32, batch 1024 on one core, about 1.8-2x faster
than the allocating version and bit-identical to it (``benchmarks/validate_peaked_adam.py``); what
remains is the three (batch x m)(m x n) products and drawing the batch.

The loss is reported on a fixed evaluation sample (common to every run with the same seed), together
with ``beta_fit = <W, P W_hat/sqrt(m)>/||P W_hat/sqrt(m)||^2``, the student's component along the
centered teacher.  Use :func:`aligned_loss_on_sample` to evaluate the aligned-ansatz loss on the same
sample (common random numbers).

>>> r = simulate_full_matrix(3, 24, 5.0, 5.0, samples=256, seed=1, record_points=4,
...                          eval_samples=500, teacher_samples=1024)
>>> bool(r.loss[-1] < r.loss[0])
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asymptotics.validation import InvalidInputError, check_num_classes, check_positive

__all__ = ["FullMatrixRun", "simulate_full_matrix", "teacher_matrix", "aligned_loss_on_sample", "kl_softmax"]


def teacher_matrix(n: int, m: int, seed: int = 0, orthogonal: bool = False) -> np.ndarray:
    """Teacher ``W_hat`` (n x m) with i.i.d. N(0,1) entries, or with orthogonal rows of norm sqrt(m)
    (``orthogonal=True``, needs m >= n: then the teacher logits are exactly i.i.d. N(0,1)).

    >>> W = teacher_matrix(3, 8, orthogonal=True)
    >>> bool(np.allclose(W @ W.T / 8, np.eye(3)))
    True
    """
    n = check_num_classes(n)
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, m))
    if orthogonal:
        if m < n:
            raise InvalidInputError(f"orthogonal teacher needs m >= n, got m={m}, n={n}")
        q, _ = np.linalg.qr(W.T)
        W = q.T * math.sqrt(m)
    return W


# exp(x) rounds to exactly 0.0 for x < ln(2^-1075) = -745.1332...; numpy's vectorised exp falls back to
# a slow path (~10x) on arguments that underflow, which peaked logits (beta* >~ 10^2) hit for most
# entries.  Evaluating exp only where x > _EXP_ZERO and writing 0.0 elsewhere is bit-identical.
_EXP_ZERO = -745.2


def _exp_no_underflow(z):
    """``np.exp(z)`` without numpy's slow underflow path (bit-identical result)."""
    out = np.zeros_like(z)
    np.exp(z, out=out, where=z > _EXP_ZERO)
    return out


def _log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(_exp_no_underflow(z).sum(axis=1, keepdims=True))


def _softmax(z):
    """``exp(_log_softmax(z))`` (same arithmetic, hence bit-identical to the original code path)."""
    return _exp_no_underflow(_log_softmax(z))


def _softmax_into(z, e, mask):
    """In-place ``e = _softmax(z)`` (bit-identical) on preallocated buffers; ``z`` is overwritten by
    the log-probabilities.  Reusing the buffers avoids page-faulting fresh megabyte arrays at every
    step of the online (sgd/adam) loops, which cost more than the arithmetic itself."""
    np.subtract(z, z.max(axis=1, keepdims=True), out=z)
    e.fill(0.0)
    np.exp(z, out=e, where=np.greater(z, _EXP_ZERO, out=mask))
    np.subtract(z, np.log(e.sum(axis=1, keepdims=True)), out=z)
    # the log-sum is >= 0, so entries outside the first mask stay below _EXP_ZERO (their 0.0 in e
    # is already final); entries inside it that fell below exp's underflow point give exact 0.0
    np.exp(z, out=e, where=mask)
    return e


def kl_softmax(teacher_logits, student_logits) -> np.ndarray:
    """Per-sample ``KL(softmax(t) || softmax(s))`` (float64, rows are samples).

    >>> float(kl_softmax(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]))[0])
    0.0
    """
    lp, lq = _log_softmax(teacher_logits), _log_softmax(student_logits)
    return np.sum(_exp_no_underflow(lp) * (lp - lq), axis=1)


def aligned_loss_on_sample(h, beta_star: float, beta) -> np.ndarray:
    """Sample mean of ``KL(softmax(beta* h) || softmax(beta h))`` for each beta (common random numbers).

    >>> h = np.random.default_rng(0).standard_normal((100, 4))
    >>> float(aligned_loss_on_sample(h, 2.0, [2.0])[0])
    0.0
    """
    return np.array([float(np.mean(kl_softmax(beta_star * h, b * h))) for b in np.atleast_1d(beta)])


@dataclass
class FullMatrixRun:
    """Recorded trajectory: ``tau``, ``loss`` (evaluation sample), ``beta_fit``, ``off_aligned``
    (relative Frobenius norm of the part of W not of the form beta P W_hat/sqrt(m)), and the
    evaluation teacher fields ``h_eval`` for common-random-number comparisons."""

    n: int
    m: int
    beta_star: float
    mode: str
    tau: np.ndarray
    loss: np.ndarray
    loss_err: np.ndarray
    beta_fit: np.ndarray
    off_aligned: np.ndarray
    h_eval: np.ndarray
    steps: int


def _psd_sqrt(C):
    w, U = np.linalg.eigh(C)
    return (U * np.sqrt(np.clip(w, 0.0, None))) @ U.T


def _whiten(X):
    C = X.T @ X / X.shape[0]
    w, U = np.linalg.eigh(C)
    return X @ (U / np.sqrt(w)) @ U.T


def simulate_full_matrix(
    n: int,
    m: int,
    beta_star: float,
    tau_max: float,
    *,
    mode: str = "flow",
    samples: int = 16384,
    batch: int = 1024,
    lr: float = 0.5,
    kappa: float = 0.02,
    seed: int = 0,
    W_hat: np.ndarray | None = None,
    aligned_start: float = 0.0,
    record_points: int = 40,
    eval_samples: int = 20000,
    teacher_samples: int = 2**18,
) -> FullMatrixRun:
    """Run the full n x m model from W = aligned_start * P W_hat/sqrt(m) (zero by default) to tau_max.

    Accuracy: ``mode="flow"`` follows the gradient flow of the empirical loss on ``samples`` inputs
    (deviation from the population flow ~ sqrt(n m / samples) in the off-aligned directions);
    ``"sgd"`` and ``"adam"`` carry their own noise (that is the point of running them).

    >>> r = simulate_full_matrix(2, 16, 3.0, 2.0, samples=256, record_points=3, eval_samples=500,
    ...                          teacher_samples=1024)
    >>> len(r.tau)
    3
    """
    n = check_num_classes(n)
    if int(m) < 1:
        raise InvalidInputError(f"m must be a positive integer, got {m}")
    check_positive("beta_star", beta_star)
    check_positive("tau_max", tau_max)
    if mode not in ("flow", "erm", "sgd", "adam"):
        raise InvalidInputError(f"mode must be 'flow', 'erm', 'sgd' or 'adam', got {mode!r}")
    rng = np.random.default_rng(seed)
    Wh = teacher_matrix(n, m, seed) if W_hat is None else np.asarray(W_hat, dtype=float)
    if Wh.shape != (n, m):
        raise InvalidInputError(f"W_hat must have shape ({n}, {m}), got {Wh.shape}")
    P = np.eye(n) - 1.0 / n
    Vdir = P @ Wh / math.sqrt(m)
    Vnorm2 = float(np.sum(Vdir**2))
    W = aligned_start * Vdir.copy()
    X_eval = np.random.default_rng(seed + 10_000).standard_normal((eval_samples, m))
    h_eval = X_eval @ Wh.T / math.sqrt(m)
    lp_eval = _log_softmax(beta_star * h_eval)  # teacher side of the evaluation KL, once
    p_eval = _exp_no_underflow(lp_eval)

    def evaluate(W):
        kl = np.sum(p_eval * (lp_eval - _log_softmax(X_eval @ W.T)), axis=1)  # = kl_softmax(...)
        b = float(np.sum(W * Vdir) / Vnorm2)
        off = float(np.linalg.norm(W - b * Vdir) / max(np.linalg.norm(W), 1e-300))
        return float(kl.mean()), float(kl.std() / math.sqrt(len(kl))), b, off

    if mode == "flow":
        from scipy.stats import norm, qmc

        k = max(1, int(math.ceil(math.log2(samples))))
        xi = norm.ppf(qmc.Sobol(n, scramble=True, seed=seed).random_base2(k))
        xs = np.vstack([xi, -xi])
        kt = max(k, int(math.ceil(math.log2(teacher_samples))))
        xi = norm.ppf(qmc.Sobol(n, scramble=True, seed=seed + 1).random_base2(kt))
        xi = np.vstack([xi, -xi])
        Ch = Wh @ Wh.T / m
        # E[J(beta* h)], h ~ N(0, Ch)
        Lh = (
            np.linalg.cholesky(Ch + 1e-300 * np.eye(n))
            if np.all(np.linalg.eigvalsh(Ch) > 1e-12)
            else _psd_sqrt(Ch)
        )
        hp = xi[:, :n] @ Lh.T
        pq = _softmax(beta_star * hp)
        EJp = np.diag(pq.mean(axis=0)) - pq.T @ pq / len(pq)
        teacher_term = beta_star * EJp @ Wh / math.sqrt(m)

        def grad(W):
            C = W @ W.T
            z = xs @ _psd_sqrt(C).T
            q = _softmax(z)
            EJ = np.diag(q.mean(axis=0)) - q.T @ q / len(q)
            return EJ @ W - teacher_term, float(np.mean(np.max(2 * q * (1 - q), axis=1)))
    elif mode == "erm":
        X = _whiten(rng.standard_normal((samples, m)))
        Pt = _softmax(beta_star * (X @ Wh.T) / math.sqrt(m))

        def grad(W):
            q = _softmax(X @ W.T)
            return (q - Pt).T @ X / X.shape[0], float(np.mean(np.max(2 * q * (1 - q), axis=1)))
    else:
        # online modes: same random stream and arithmetic as the allocating version
        #   Xb = rng.standard_normal((batch, m)); Pb = softmax(beta* Xb Wh^T/sqrt(m)); q = softmax(Xb W^T)
        #   g = (q - Pb)^T Xb / batch
        # but on reused work buffers (bit-identical results, ~2x faster at n = 128, batch = 1024)
        Xb, sqm = np.empty((batch, m)), math.sqrt(m)
        zt, zs, et, es = (np.empty((batch, n)) for _ in range(4))
        mask = np.empty((batch, n), dtype=bool)

        def grad(W):
            rng.standard_normal(out=Xb)
            np.matmul(Xb, Wh.T, out=zt)
            np.multiply(zt, beta_star, out=zt)
            np.divide(zt, sqm, out=zt)
            Pb = _softmax_into(zt, et, mask)
            np.matmul(Xb, W.T, out=zs)
            q = _softmax_into(zs, es, mask)
            q -= Pb
            return q.T @ Xb / batch, 0.0

    tau_rec = np.unique(
        np.concatenate([[0.0], np.geomspace(min(1e-2, tau_max / 10), tau_max, max(1, record_points - 1))])
    )
    rec = []
    tau, k, steps = 0.0, 0, 0
    mom, vel = np.zeros_like(W), np.zeros_like(W)
    b1, b2, eps = 0.9, 0.999, 1e-8
    while True:
        while k < len(tau_rec) and tau >= tau_rec[k] * (1 - 1e-12):
            rec.append((tau,) + evaluate(W))
            k += 1
        if k >= len(tau_rec):
            break
        if mode in ("flow", "erm"):
            g, curv = grad(W)
            dt = min(max(kappa * tau, 1e-3), 0.5 / max(curv, 1e-12), tau_rec[k] - tau)
            g2, _ = grad(W - dt * g)
            W = W - 0.5 * dt * (g + g2)
        elif mode == "sgd":
            g, _ = grad(W)
            dt = min(lr, tau_rec[k] - tau)
            W = W - dt * g
        else:
            g, _ = grad(W)
            dt = min(lr, tau_rec[k] - tau)
            steps_a = steps + 1
            mom = b1 * mom + (1 - b1) * g
            vel = b2 * vel + (1 - b2) * g * g
            mhat, vhat = mom / (1 - b1**steps_a), vel / (1 - b2**steps_a)
            W = W - dt * mhat / (np.sqrt(vhat) + eps)
        tau += dt
        steps += 1
        if not np.all(np.isfinite(W)):
            raise InvalidInputError(f"simulation diverged at tau = {tau:.3g}; lower lr/kappa")
    arr = np.array(rec)
    return FullMatrixRun(
        n, m, float(beta_star), mode, arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], h_eval, steps
    )
