r"""ReLU random features on the sparse model (a stand-in model reproducing the abstract's claims of
arXiv 2605.23591): simulation of the population loss and the Gaussian-equivalence prediction.

Features ``phi_k(x) = ReLU(F_k . x + b_k)`` with ``F_ki ~ N(0, 1/N)``, ``b_k ~ N(0, sigma_b^2/N)``
(``sigma_b = bias``), prediction ``theta . phi(x)``, theta the minimum-norm least-squares fit on D
samples; target ``y = w . x`` as in :mod:`asymptotics.sparse.model`.

**What stays exact.**  The training features never involve the columns of F of unseen coordinates, so
theta does not depend on them.  For a test input with unseen part ``x_U``, ``F_U x_U`` is a fresh
``N(0, |x_U|^2/N I)`` vector, odd in the signs of ``x_U``, so the cross term between the prediction and
``w_U . x_U`` averages to zero and

    L = sum_{i not in S} p_i w_i^2  +  E (theta . ReLU(F_S x_S + r zeta/sqrt(N) + b) - w_S . x_S)^2,

``r^2 = |x_U|^2 ~ chi^2_(K_U)``, ``zeta ~ N(0, I)``, ``K_U`` the number of active unseen coordinates
(Poisson-binomial; its probabilities for ``K_U <= 4`` from the power sums ``sum_{i not in S}
(p_i/(1-p_i))^j``, exact zeta series minus the seen terms; the remainder ``P[K_U >= 5]`` is below
1e-8 here and is folded into ``K_U = 4``).  The first term is the exact missing signal; the second has
no heavy-tailed weight and is estimated on a fresh test set stratified by ``K_U`` (its standard
error is reported).  The decomposition of the linear model no longer holds, this is its replacement.

**Infinite width.**  As ``N -> infinity`` the min-norm predictor is kernel interpolation with the
order-1 arc-cosine kernel of the augmented inputs ``(x, sigma_b)``,
``k(x, x') = |x~||x~'| (sin t + (pi - t) cos t)/(2 pi)`` (:func:`arccos_kernel`), the overparameterised
floor; :func:`simulate_relu` takes ``N = inf`` for it.

**Gaussian equivalence** (:func:`get_prediction`).  For fixed x the pre-activations are
``N(0, v)``, ``v = (|x|^2 + sigma_b^2)/N``, and ``ReLU(h) = mu_0 + h/2 + (nonlinear part)`` with
``E h ReLU(h) = v/2`` (linear coefficient 1/2) and nonlinear variance ``c_* v``,
``c_* = 1/4 - 1/(2 pi)``.  Replacing the nonlinear part by independent noise of the mean variance
``nu = c_* (zeta(s) + sigma_b^2)/N`` (``E|x|^2 = zeta(s)``) and dropping the two constant directions
(the mean ``mu_0`` and the bias, which the target does not use) turns the learner into the linear
random-feature learner with an implicit ridge: ``theta/2`` solves ridge regression with
``mu = 4 D nu`` for ``N << D`` (the noise Gram matrix is ``~ D nu I_N``), and the infinite-width
kernel is the linear kernel plus the ridge ``4 c_* (zeta(s) + sigma_b^2)`` in units of the Gram
matrix ``K``; the test loss adds ``4 nu |theta/2|^2`` at finite N.  Both are evaluated with
:class:`~asymptotics.sparse.ridge.RidgeTheory`.  The argument predicts: the missing-signal floor and
its exponent ``-a/s`` survive, the implicit ridge removes the peak at the seen count, and the
interpolation peak moves to ``N ~ rank Phi`` (``~ D`` with random biases).  Its accuracy is measured
in ``tests/sparse/test_sparse_relu.py``.

>>> from asymptotics.sparse.model import SparseModel
>>> r = simulate_relu(SparseModel(2.0, 0.5), 100, [20, float("inf")], seeds=2, n_test=500, seed=1)
>>> r.loss.shape, bool(np.all(r.loss > r.missing[:, None]))
((2, 2), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from asymptotics.sparse.model import SparseModel, check_count
from asymptotics.validation import InvalidInputError

__all__ = ["C_STAR", "ReluResult", "arccos_kernel", "get_prediction", "simulate_relu", "unseen_count_law"]

#: variance of the nonlinear part of ReLU(h) per unit pre-activation variance, 1/4 - 1/(2 pi)
C_STAR = 0.25 - 1.0 / (2.0 * math.pi)


def arccos_kernel(X1: np.ndarray, X2: np.ndarray, bias: float, extra1=None) -> np.ndarray:
    """``E_{f,b} ReLU(f.x + b) ReLU(f.x' + b)`` times N, for f ~ N(0, I/N), b ~ N(0, bias^2/N).

    ``extra1`` (optional, per row of X1) adds to ``|x|^2`` only (unseen coordinates of a test input).

    >>> x = np.array([[1.0, 0.0]])
    >>> float(arccos_kernel(x, x, 0.0)[0, 0])          # E ReLU(g)^2 = 1/2
    0.5
    """
    b2 = bias * bias
    dot = X1 @ X2.T + b2
    n1 = np.sum(X1 * X1, axis=1) + b2
    if extra1 is not None:
        n1 = n1 + extra1
    n2 = np.sum(X2 * X2, axis=1) + b2
    nn = np.sqrt(np.outer(n1, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.clip(np.where(nn > 0, dot / nn, 1.0), -1.0, 1.0)
    t = np.arccos(c)
    return nn * (np.sqrt(1 - c * c) + (math.pi - t) * c) / (2 * math.pi)


def _power_sums(s: float, seen_idx: np.ndarray, jmax: int = 4) -> np.ndarray:
    """``P_j = sum_{i not in S} (p_i/(1-p_i))^j`` (i >= 2; coordinate 1 is always seen), j = 1..jmax."""
    out = np.empty(jmax)
    i = seen_idx[seen_idx >= 2].astype(float)
    p = i**-s
    for j in range(1, jmax + 1):
        total, m = 0.0, 0
        while True:  # sum_{i>=2} p^j (1-p)^-j = sum_m C(m+j-1, m) (zeta(s(j+m)) - 1)
            z = float(special.zeta(s * (j + m)) - 1.0)
            term = special.comb(m + j - 1, m) * z
            total += term
            if term < 1e-18 * total or m > 2000:
                break
            m += 1
        out[j - 1] = total - float(np.sum((p / (1 - p)) ** j))
    return out


def unseen_count_law(s: float, seen_idx: np.ndarray, kmax: int = 4) -> np.ndarray:
    """``P[K_U = k]``, k = 0..kmax (the last entry holds ``P[K_U >= kmax]``), given the seen set."""
    i = seen_idx[seen_idx >= 2].astype(float)
    p = i**-s
    # log P[K_U = 0] = sum_{i not in S} log(1 - p_i) = -sum_k (zeta(ks) - 1)/k - sum_{S, i>=2} log(1 - p_i)
    tot, k = 0.0, 1
    while True:
        term = float(special.zeta(k * s) - 1.0) / k
        tot += term
        if term < 1e-18 * tot or k > 5000:
            break
        k += 1
    log_p0 = -tot - float(np.sum(np.log1p(-p)))
    P = _power_sums(s, seen_idx, kmax)
    e = [1.0]  # elementary symmetric sums by Newton's identities
    for k in range(1, kmax + 1):
        e.append(sum((-1) ** (j - 1) * e[k - j] * P[j - 1] for j in range(1, k + 1)) / k)
    probs = math.exp(log_p0) * np.array(e)
    probs[-1] = max(0.0, 1.0 - float(np.sum(probs[:-1])))
    return probs


@dataclass
class ReluResult:
    """Per-seed population loss of the ReLU learner (shape (seeds, len(N))), the exact missing signal,
    the standard error of each test-set estimate, the rank of the training feature matrix."""

    model: SparseModel
    D: int
    N: np.ndarray
    bias: float
    loss: np.ndarray
    test_se: np.ndarray
    missing: np.ndarray
    rank: np.ndarray
    seen_count: np.ndarray
    meta: dict = field(default_factory=dict)

    def summary(self) -> dict:
        n = self.loss.shape[0]
        se = self.loss.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(self.N.size, np.nan)
        return {
            "N": self.N.tolist(),
            "mean": self.loss.mean(axis=0),
            "se": se,
            "median": np.median(self.loss, axis=0),
            "rank_mean": self.rank.mean(axis=0),
            "seen_mean": float(self.seen_count.mean()),
        }


def _test_inputs(rng, s, idx, n):
    """x_S of n fresh inputs restricted to the seen coordinates (exact: memberships are independent)."""
    p = np.minimum(1.0, idx.astype(float) ** -s)
    return (rng.random((n, idx.size)) < p) * rng.standard_normal((n, idx.size))


def simulate_relu(
    model: SparseModel,
    D,
    N,
    *,
    seeds: int = 8,
    seed: int = 0,
    bias: float = 1.0,
    n_test: int = 4000,
    blas_threads: int | None = 1,
) -> ReluResult:
    """Simulate the ReLU learner at sample size D for each N (``float('inf')``: the kernel limit)."""
    from asymptotics.sparse.sampling import sample_design
    from asymptotics.sparse.simulate import _blas_limit

    if not isinstance(model, SparseModel):
        raise InvalidInputError("model must be a SparseModel")
    if model.M is not None:
        raise InvalidInputError("the ReLU simulator needs M infinite")
    D = check_count("D", D, maximum=20000)
    Ns = np.atleast_1d(np.asarray(N, dtype=float))
    for n in Ns:
        if not (n == math.inf or (math.isfinite(n) and n >= 1 and float(n).is_integer() and n <= 40000)):
            raise InvalidInputError(f"N must be integers in [1, 40000] or inf, got {n}")
    seeds = check_count("seeds", seeds, maximum=10000)
    n_test = check_count("n_test", n_test, minimum=100, maximum=10**6)
    if not (math.isfinite(bias) and bias >= 0):
        raise InvalidInputError(f"bias must be >= 0 and finite, got {bias}")
    s, a = model.s, model.a
    sig_total = float(special.zeta(1 + a))
    finite = Ns[np.isfinite(Ns)].astype(int)
    n_max = int(finite.max()) if finite.size else 0
    loss = np.empty((seeds, Ns.size))
    tse = np.empty((seeds, Ns.size))
    rank = np.zeros((seeds, Ns.size))
    missing, seen = np.empty(seeds), np.empty(seeds, np.int64)
    children = np.random.SeedSequence(int(seed)).spawn(seeds)
    with _blas_limit(blas_threads):
        for b_ in range(seeds):
            rng = np.random.default_rng(children[b_])
            d = sample_design(rng, s, D)
            X = d.A.toarray()
            idx = d.idx
            i = idx.astype(float)
            w = np.sqrt(i ** (s - 1 - a))
            y = X @ w
            seen[b_] = d.m
            missing[b_] = sig_total - float(np.sum(i ** -(1 + a)))
            probs = unseen_count_law(s, idx)
            # strata K_U = 0 (n_test points) and K_U = 1..4 (n_test/4 each, r^2 ~ chi^2_k)
            strata = [(0, probs[0], n_test)] + [(k, probs[k], max(50, n_test // 4)) for k in range(1, 5)]
            tests = []
            for k, pk, n in strata:
                Xt = _test_inputs(rng, s, idx, n)
                r2 = rng.chisquare(k, n) if k > 0 else np.zeros(n)
                tests.append((pk, Xt, r2))
            Z = rng.standard_normal((d.m, n_max)) if n_max else None
            bvec = rng.standard_normal(n_max) * bias if n_max else None
            zeta_t = [rng.standard_normal((Xt.shape[0], n_max)) if n_max else None for _, Xt, _ in tests]
            for c, n in enumerate(Ns):
                if math.isinf(n):
                    ev, V = np.linalg.eigh(arccos_kernel(X, X, bias))  # minimum-norm interpolation
                    keep = ev > 1e-12 * ev[-1]
                    alpha = V[:, keep] @ ((V[:, keep].T @ y) / ev[keep])
                    rank[b_, c] = int(np.sum(keep))
                    preds = [arccos_kernel(Xt, X, bias, extra1=r2) @ alpha for _, Xt, r2 in tests]
                else:
                    n = int(n)
                    G = Z[:, :n] / math.sqrt(n)
                    bb = bvec[:n] / math.sqrt(n)
                    Phi = np.maximum(X @ G + bb, 0.0)
                    theta, _, rk, _ = np.linalg.lstsq(Phi, y, rcond=None)
                    rank[b_, c] = rk
                    preds = [
                        np.maximum(Xt @ G + bb + np.sqrt(r2)[:, None] * zt[:, :n] / math.sqrt(n), 0.0) @ theta
                        for (_, Xt, r2), zt in zip(tests, zeta_t)
                    ]
                val, var = 0.0, 0.0
                for (pk, Xt, _), pr in zip(tests, preds):
                    e2 = (pr - Xt @ w) ** 2
                    val += pk * e2.mean()
                    var += pk**2 * e2.var(ddof=1) / e2.size
                loss[b_, c] = missing[b_] + val
                tse[b_, c] = math.sqrt(var)
    return ReluResult(
        model=model,
        D=D,
        N=Ns,
        bias=float(bias),
        loss=loss,
        test_se=tse,
        missing=missing,
        rank=rank,
        seen_count=seen,
        meta={"seed": int(seed), "seeds": int(seeds), "n_test": n_test},
    )


def get_prediction(model: SparseModel, D, N, *, bias: float = 1.0) -> dict:
    """Gaussian-equivalence prediction of the ReLU learner's loss at (N, D) (``N = inf``: kernel limit).

    Returns ``loss``, its parts and the implicit ridge ``mu`` (K units); the form used is ``"N << D"``
    (feature-space ridge ``mu = 4 D nu``) for ``N < D/2``, ``"infinite width"`` for ``N = inf``; in
    between (the interpolation peak at ``N ~ D``) the argument gives no finite-size formula here.
    """
    from asymptotics.sparse.learner import LossTheory
    from asymptotics.sparse.ridge import RidgeTheory

    D = check_count("D", D)
    th = LossTheory(model, D)
    rt = RidgeTheory(th)
    scale = C_STAR * (float(special.zeta(model.s)) + bias * bias)
    if N == math.inf or N is None:
        Nbig = 1e12
        lt = LossTheory(model, D, continuous=True)
        r = RidgeTheory(lt).loss(Nbig, 4 * scale / D)  # mu = 4 c_* (zeta + b^2), lambda = mu/D
        return {
            "loss": r["loss"],
            "seen_fit": r["seen_fit"],
            "missing_signal": r["missing_signal"],
            "aliasing": r["aliasing"],
            "mu": 4 * scale,
            "form": "infinite width",
        }
    N = check_count("N", N)
    if not N < D / 2:
        raise InvalidInputError(f"the Gaussian-equivalence form here needs N < D/2 (got N = {N}, D = {D})")
    nu = scale / N
    r = rt.loss(N, 4 * nu)  # mu = 4 D nu, lambda = 4 nu
    test_noise = 4 * nu * r["theta_norm2"]
    return {
        "loss": r["loss"] + test_noise,
        "seen_fit": r["seen_fit"],
        "missing_signal": r["missing_signal"],
        "aliasing": r["aliasing"],
        "test_noise": test_noise,
        "mu": 4 * D * nu,
        "form": "N << D",
    }
