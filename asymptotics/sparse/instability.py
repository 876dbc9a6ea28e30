r"""Instability of fixed-step gradient descent on the sparse-feature learner (a stand-in model
reproducing the abstract's claims of arXiv 2605.23591).

Full-batch GD with step eta on ``(1/2D)|Phi theta - y|^2``, ``Phi = X F^T``, iterates
``theta <- theta - eta (H theta - b)`` with ``H = Phi^T Phi / D``; it diverges iff
``eta lambda_max(H) > 2`` (``|1 - eta lambda| > 1`` on the top eigenvector).  The probability of
instability is ``P[lambda_max > 2/eta]`` over the data and the features.

**Where the top eigenvalue comes from.**  ``H = G^T (K/D) G`` with ``K = A^T A`` the Gram matrix of the
seen design (coordinate i's squared column norm is ``d_i = chi^2_(k_i)``, ``k_i ~ Binomial(D, p_i)``)
and ``G = F_S^T``.  The extreme column is that of coordinate 1 (``p_1 = 1``: active in every sample,
``d_1 = chi^2_D``); the other columns are smaller by ``p_i <= 2^-s``, so the top eigenvalue sits on
coordinate 1 and, with ``P = K/D`` and ``Q = G G^T`` (``Q_11 = |g_1|^2 = chi^2_N/N``), second-order
perturbation theory of the similar matrix ``P Q`` gives::

    lambda_max = mu + Delta(mu),     mu = P_11 Q_11 = (chi^2_D/D)(chi^2_N/N)  (exact law),
    E Delta(mu) = mu sum_{j>=2} p_j (1/N + 1/D) / (mu - p_j)
                = (1/N + 1/D) sum_{k>=1} mu^(1-k) (zeta(k s) - 1),

from ``E Q_1j^2 = Q_11 Q_jj/N`` (feature overlap) and ``E P_1j^2 = p_j/D`` (data overlap); the
fluctuation of ``Delta`` (variance ``2 sum p_j^2/(1-p_j)^2 (1/N^2 + 1/D^2)`` plus the first-order
cross terms ``(1/(N D)) sum p_j [1 + ((1+p_j)/(1-p_j))^2]``) is added as an independent normal.
:class:`InstabilityLaw` evaluates ``P[lambda_max > t]`` from this (one quadrature over the data
factor, Gauss-Hermite over Delta): an **asymptotic law** (the error is third order in the overlaps,
relative ``O(N^-3/2 + D^-3/2)``), checked against Monte Carlo in ``tests/sparse/test_sparse_instability.py``.

**Exponent and prefactor** (:func:`derive_instability`, SymPy).  With the step set from the
population curvature ``p_1 = 1``, ``eta = 2/(1 + eps)``, and ``D >> N``::

    P[unstable] ~ exp(-N J(eps')) / (eps' sqrt(pi N)),   J(e) = (e - ln(1 + e))/2,
    eps' = eps - c_s/N,   c_s = sum_j p_j/(1-p_j) = sum_{k>=1} (zeta(k s) - 1),

the Cramer rate of ``chi^2_N/N`` (Legendre transform of its cumulant generating function) with the
Bahadur-Rao prefactor; the shift by the sparse design multiplies the prefactor by
``exp(c_s eps/(2(1+eps)))`` -- the sparsity exponent s enters only there, through ``c_s``.  With
finite D the rate is ``min_a [D I(a) + N I((1+eps')/a)]``, ``I(a) = (a - 1 - ln a)/2``
(:func:`tail_rate`); near the edge (``eps -> 0``) it is ``eps^2/(4 (1/N + 1/D))``: the scaling
variable is ``eps sqrt(N D/(N + D))``.

**An exact bound.**  ``K >= s_1 e_1 e_1^T`` with ``s_1`` the squared distance of coordinate 1's column
from the span of the others (Schur complement), so ``lambda_max >= s_1 |g_1|^2 / D`` in every draw, and
given the rank r' of the other seen columns ``s_1 ~ chi^2_(D - r')`` exactly.  With
``r' <= |S| - 1`` and Bernstein's inequality for ``|S|`` (a sum of independent Bernoullis),
:func:`instability_lower_bound` is a rigorous lower bound on ``P[unstable]`` (not tight at small D: it
drops the ``O(D^(1/s-1))`` share of coordinate 1's norm carried by the other columns).

**Monte Carlo** (:func:`sample_lambda_max`): exact draws of the design (:mod:`.sampling`) and of the
features; ``lambda_max`` by batched power iteration on the operator ``x -> G^T (K (G x))/D`` started at
``g_1`` (the gap ``1 - 2^-s`` makes it converge in ~30 iterations; no N x N matrix is formed), by
ARPACK Lanczos (``method="lanczos"``) or by ``numpy.linalg.eigvalsh`` of the explicit Hessian
(``method="eigvalsh"``, the baseline).  :func:`run_gradient_descent` runs plain GD on the explicit
Hessian for the divergence check.

>>> law = InstabilityLaw(2.0, 100, 1000)
>>> p = law.probability(2.0)                    # eta = 2/lambda_pop
>>> bool(0.45 < p < 0.6)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from scipy import integrate, optimize, special, stats

from asymptotics.sparse.model import check_count
from asymptotics.validation import InvalidInputError

__all__ = [
    "InstabilityLaw",
    "LambdaMaxSample",
    "c_sparse",
    "derive_instability",
    "instability_lower_bound",
    "run_gradient_descent",
    "run_gradient_descent_batch",
    "sample_lambda_max",
    "tail_asymptotic",
    "tail_rate",
]

#: validated domain of the law
S_RANGE = (1.2, 10.0)
N_MIN, D_MIN = 20, 50


def _check(s, N, D):
    try:
        s = float(s)
    except (TypeError, ValueError):
        raise InvalidInputError(f"s must be a number, got {s!r}") from None
    if not (math.isfinite(s) and S_RANGE[0] <= s <= S_RANGE[1]):
        raise InvalidInputError(
            f"s must lie in [{S_RANGE[0]}, {S_RANGE[1]}] for the instability law, got {s}"
        )
    N = check_count("N", N, minimum=N_MIN, maximum=10**7)
    D = check_count("D", D, minimum=D_MIN, maximum=10**9)
    return s, N, D


def check_eta(eta) -> float:
    """Step size as a float > 0 (clear error otherwise).

    >>> check_eta(0)
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: eta must be > 0 and finite, got 0
    """
    try:
        v = float(eta)
    except (TypeError, ValueError):
        raise InvalidInputError(f"eta must be a number, got {eta!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise InvalidInputError(f"eta must be > 0 and finite, got {eta!r}")
    return v


@lru_cache(maxsize=256)
def c_sparse(s: float, k_max: int = 200) -> float:
    """``c_s = sum_{j>=2} p_j/(1-p_j) = sum_{k>=1} (zeta(k s) - 1)`` (the mean shift at mu = 1, times N).

    >>> round(c_sparse(2.0), 14)                    # sum_j 1/(j^2 - 1) = 3/4
    0.75
    """
    return _shift_sum(float(s), 1.0, 1)


def _shift_sum(s: float, mu: float, power: int, k_max: int = 400) -> float:
    """``sum_{j>=2} p_j^power / (mu - p_j)^power`` for mu > 2^-s, by the series in zeta(k s) - 1.

    ``p^m/(mu - p)^m = sum_{k>=m} C(k-1, m-1) p^k mu^-k`` (m = 1, 2)."""
    total, k = 0.0, power
    while k < k_max:
        z = float(special.zeta(k * s) - 1.0) if k * s < 60 else 2.0 ** (-k * s)
        term = (1.0 if power == 1 else (k - 1)) * z * mu ** (-k)
        total += term
        if abs(term) < 1e-17 * abs(total) and k > power + 2:
            break
        k += 1
    return total


@dataclass(frozen=True)
class InstabilityLaw:
    """Asymptotic law of ``lambda_max(Phi^T Phi/D)`` and of the instability probability at (s, N, D)."""

    s: float
    N: int
    D: int

    def __post_init__(self):
        s, N, D = _check(self.s, self.N, self.D)
        object.__setattr__(self, "s", s)
        object.__setattr__(self, "N", N)
        object.__setattr__(self, "D", D)

    def shift(self, mu: float) -> float:
        """Mean second-order shift ``E Delta(mu) = mu (1/N + 1/D) sum_j p_j/(mu - p_j)``."""
        return float(self._shift_vec(np.array([float(mu)]))[0][0])

    @cached_property
    def shift_variance(self) -> float:
        """Variance of Delta (at mu = 1): overlap fluctuations and first-order cross terms."""
        s, N, D = self.s, self.N, self.D
        sq = _shift_sum(s, 1.0, 2)  # sum p^2/(1-p)^2
        p1 = float(special.zeta(s) - 1.0)  # sum_{j>=2} p_j
        # sum p_j ((1+p)/(1-p))^2 = sum p + 4 sum p^2/(1-p)^2 (1 - p) ... evaluated directly below
        j = np.arange(2, 20001, dtype=float)
        p = j**-s
        cross = float(np.sum(p * ((1 + p) / (1 - p)) ** 2)) + (20000.0 ** (1 - s)) / (s - 1)
        return 2 * sq * (1 / N**2 + 1 / D**2) + (p1 + cross) / (N * D)

    @cached_property
    def _zeta_terms(self) -> np.ndarray:
        """``zeta(k s) - 1`` for k = 1, 2, ... until below 1e-18 (the series of the shift)."""
        out = []
        for k in range(1, 2000):
            z = float(special.zeta(k * self.s) - 1.0) if k * self.s < 60 else 2.0 ** (-k * self.s)
            out.append(z)
            if z < 1e-18 * out[0]:
                break
        return np.array(out)

    def _shift_vec(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """E Delta(u) and its derivative, vectorised (u > 2^-s)."""
        z = self._zeta_terms
        k = np.arange(1, z.size + 1)
        c = 1 / self.N + 1 / self.D
        pw = u[..., None] ** (1 - k)  # u^(1-k)
        val = c * np.sum(z * pw, axis=-1)
        der = c * np.sum(z * (1 - k) * pw / u[..., None], axis=-1)
        return val, der

    def _mu_threshold(self, t: np.ndarray) -> np.ndarray:
        """u with u + Delta(u) = t (Newton, vectorised; Delta is small and smooth)."""
        t = np.asarray(t, dtype=float)
        lo = 2.0**-self.s * 1.001
        u = np.maximum(t - self._shift_vec(np.maximum(t, lo))[0], lo)
        for _ in range(30):
            val, der = self._shift_vec(u)
            step = (u + val - t) / (1 + der)
            u = np.maximum(u - step, lo)
            if np.all(np.abs(step) <= 1e-15 * u):
                break
        return u

    def _product_sf(self, u: np.ndarray) -> np.ndarray:
        """``P[(chi^2_D/D)(chi^2_N/N) > u]`` for an array of u: trapezoid rule in ln a over the data
        factor ``a = chi^2_D/D`` on ``[ppf(1e-40), isf(1e-40)]`` (exponentially convergent for this
        smooth, rapidly decaying integrand; checked against adaptive quadrature in the tests)."""
        N, D = self.N, self.D
        u = np.atleast_1d(np.asarray(u, dtype=float))
        A = stats.gamma(a=D / 2, scale=2.0 / D)
        x = np.linspace(math.log(A.ppf(1e-40)), math.log(A.isf(1e-40)), 801)
        a = np.exp(x)
        wlog = A.logpdf(a) + x  # density in ln a
        logsf = stats.chi2.logsf(N * u[:, None] / a[None, :], N)
        h = x[1] - x[0]
        m = np.max(wlog + logsf, axis=1, keepdims=True)
        body = np.exp(wlog + logsf - m)
        val = h * (np.sum(body, axis=1) - 0.5 * (body[:, 0] + body[:, -1]))
        return np.clip(np.exp(m[:, 0]) * val, 0.0, 1.0)

    def sf(self, t: float, *, nodes: int = 24) -> float:
        """``P[lambda_max > t]``."""
        t = float(t)
        if not math.isfinite(t) or t <= 0:
            raise InvalidInputError(f"t must be > 0 and finite, got {t}")
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        sd = math.sqrt(self.shift_variance)
        vals = self._product_sf(self._mu_threshold(t - sd * x))
        return float(np.dot(w, vals) / math.sqrt(2 * math.pi))

    def probability(self, eta) -> float:
        """Probability that GD with step eta is unstable, ``P[lambda_max > 2/eta]``."""
        return self.sf(2.0 / check_eta(eta))

    def mean(self) -> float:
        """``E lambda_max`` (law): ``E mu + E Delta(mu)`` by Gauss-Hermite over mu's normal approximation
        corrected to the exact mean ``E mu = 1``."""
        sd = math.sqrt(2 / self.N + 2 / self.D + 4 / (self.N * self.D))
        x, w = np.polynomial.hermite_e.hermegauss(24)
        mus = np.maximum(1 + sd * x, 2.0**-self.s * 1.01)
        return float(1.0 + np.dot(w, [self.shift(m) for m in mus]) / math.sqrt(2 * math.pi))

    def eta_for_probability(self, q: float) -> float:
        """The step at which the law gives instability probability q (0 < q < 1)."""
        if not 0 < q < 1:
            raise InvalidInputError(f"q must lie in (0, 1), got {q}")
        f = lambda lt: self.sf(math.exp(lt)) - q
        return 2.0 / math.exp(optimize.brentq(f, math.log(0.1), math.log(10.0), xtol=1e-13))


# ------------------------------------------------------------------------------------------------
# tails: exponent and prefactor
# ------------------------------------------------------------------------------------------------


def tail_rate(t: float, N: int, D: int) -> float:
    """Large-deviation rate of ``P[(chi^2_D/D)(chi^2_N/N) > t]``, ``min_a [D I(a) + N I(t/a)]``,
    ``I(a) = (a - 1 - ln a)/2`` (t > 1)."""
    if not t > 1:
        raise InvalidInputError(f"the upper-tail rate needs t > 1, got {t}")
    I = lambda a: (a - 1 - math.log(a)) / 2
    res = optimize.minimize_scalar(
        lambda la: D * I(math.exp(la)) + N * I(t / math.exp(la)),
        bounds=(0.0, math.log(t)),
        method="bounded",
        options={"xatol": 1e-13},
    )
    return float(res.fun)


def tail_asymptotic(s: float, N: int, eta: float) -> float:
    """``D = infinity`` tail law: ``exp(-N J(e))/(e sqrt(pi N))``, ``e = 2/eta - 1 - c_s/N > 0``."""
    e = 2.0 / check_eta(eta) - 1.0 - c_sparse(float(s)) / N
    if not e > 0:
        raise InvalidInputError("the tail law needs 2/eta - 1 - c_s/N > 0 (eta below the edge)")
    return math.exp(-N * (e - math.log1p(e)) / 2) / (e * math.sqrt(math.pi * N))


@lru_cache(maxsize=1)
def derive_instability() -> dict:
    """SymPy: the Cramer rate of ``chi^2_N/N`` (Legendre transform of its CGF), the Bahadur-Rao
    prefactor from the Gamma tail, the prefactor factor of the sparse shift and the edge scaling.

    >>> d = derive_instability()
    >>> d["rate"]
    epsilon/2 - log(epsilon + 1)/2
    >>> d["shift_factor"]
    exp(c_s*epsilon/(2*(epsilon + 1)))
    """
    import sympy as sp

    th, a, e, N, D, cs = sp.symbols("theta a epsilon N D c_s", positive=True)
    cgf = -sp.log(1 - 2 * th) / 2  # per degree of freedom, chi^2_1
    th_star = sp.solve(sp.Eq(sp.diff(a * th - cgf, th), 0), th)[0]
    I_a = sp.simplify((a * th - cgf).subs(th, th_star))
    J = sp.simplify(sp.expand_log(I_a.subs(a, 1 + e), force=True))
    # Bahadur-Rao: P[S_N/N >= a] ~ exp(-N I(a)) / (theta* sigma* sqrt(2 pi N)), sigma*^2 = Lambda''(theta*)
    sig2 = sp.diff(cgf, th, 2).subs(th, th_star)
    prefactor = sp.simplify((1 / (th_star * sp.sqrt(sig2) * sp.sqrt(2 * sp.pi * N))).subs(a, 1 + e))
    shift_factor = sp.simplify(sp.exp(sp.diff(J, e) * cs))  # exp(N J'(e) c_s/N)
    edge = sp.series(J, e, 0, 3).removeO()
    edge_rate_ND = sp.simplify(e**2 / (4 * (1 / N + 1 / D)))
    s = sp.Symbol("s", positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    c_s = sp.Sum(sp.zeta(k * s) - 1, (k, 1, sp.oo))
    out = {
        "rate_of_a": I_a,
        "rate": J,
        "prefactor": prefactor,
        "shift_factor": shift_factor,
        "edge_rate": edge,
        "edge_rate_finite_D": edge_rate_ND,
        "c_s": c_s,
        "c_s_at_2": sp.Rational(3, 4),
        "law": sp.Eq(sp.Symbol("P_unstable"), prefactor * shift_factor * sp.exp(-N * J)),
    }
    out["latex"] = {k_: sp.latex(v) for k_, v in out.items() if isinstance(v, (sp.Basic, sp.Eq))}
    return out


# ------------------------------------------------------------------------------------------------
# an exact lower bound
# ------------------------------------------------------------------------------------------------


def instability_lower_bound(s: float, N: int, D: int, eta: float, *, tail: float = 1e-6) -> dict:
    """Rigorous lower bound ``P[unstable] >= P[|S| - 1 <= r_q] P[chi^2_(D - r_q) chi^2_N > (2/eta) D N]``.

    ``r_q = E|S| + x`` with Bernstein's bound ``P[|S| - E|S| >= x] <= exp(-x^2/(2(v + x/3)))`` set to
    ``tail`` (v = Var|S|, exact), so ``P[|S| - 1 <= r_q] >= 1 - tail``.
    """
    from asymptotics.sparse.harmonic import harmonic_sum

    s, N, D = _check(s, N, D)
    t = 2.0 / check_eta(eta)
    n = float(harmonic_sum("seen", 0.0, s, float(D)))
    v = float(harmonic_sum("seen", 0.0, s, 2.0 * D)) - n
    L = math.log(1 / tail)
    x = L / 3 + math.sqrt((L / 3) ** 2 + 2 * v * L)  # exp(-x^2/(2(v + x/3))) = tail
    r_q = min(D - 1, math.ceil(n + x))
    dof = D - r_q
    A = stats.gamma(a=dof / 2, scale=2.0)  # chi^2_(D - r_q)
    g = lambda y: A.pdf(y) * stats.chi2.sf(t * D * N / y, N)
    lo, hi = A.ppf(1e-15), A.isf(1e-15)
    p = integrate.quad(g, lo, hi, epsabs=1e-15, epsrel=1e-11, limit=200, points=[A.mean()])[0]
    return {
        "bound": max(0.0, (1 - tail) * p),
        "r_q": int(r_q),
        "tail": tail,
        "seen_expected": n,
        "kind": "exact lower bound (Schur complement of coordinate 1; Bernstein for |S|)",
    }


# ------------------------------------------------------------------------------------------------
# Monte Carlo and gradient descent
# ------------------------------------------------------------------------------------------------


@dataclass
class LambdaMaxSample:
    """Monte-Carlo draws of lambda_max, the Schur lower value ``s_1 |g_1|^2/D`` and the method used."""

    s: float
    N: int
    D: int
    lam: np.ndarray
    schur: np.ndarray
    method: str
    iterations: int
    seed: int

    def probability(self, eta) -> tuple[float, float]:
        """(fraction of draws with eta lambda_max > 2, its standard error sqrt(p(1-p)/n))."""
        p = float(np.mean(self.lam > 2.0 / check_eta(eta)))
        return p, math.sqrt(p * (1 - p) / self.lam.size)


def _draw(rng, s, N, D):
    from asymptotics.sparse.sampling import sample_design

    d = sample_design(rng, s, D)
    K = (d.A.T @ d.A).toarray()
    G = rng.standard_normal((d.m, N)) / math.sqrt(N)
    # Schur complement of coordinate 1 (index 0): s_1 = K_11 - k^T K_rest^+ k = |P_perp X_1|^2
    k, R = K[1:, 0], K[1:, 1:]
    if R.size:
        ev, V = np.linalg.eigh(R)
        keep = ev > 1e-10 * max(1.0, float(ev[-1]))
        c = V[:, keep].T @ k
        s1 = float(K[0, 0] - np.sum(c**2 / ev[keep]))
    else:
        s1 = float(K[0, 0])
    return K, G, s1


def _power_batch(Ks, Gs, D, tol=1e-14, max_iter=2000):
    """Batched power iteration for lambda_max(G^T K G / D) (padded to a common m)."""
    b = len(Ks)
    m = max(K.shape[0] for K in Ks)
    N = Gs[0].shape[1]
    Kb = np.zeros((b, m, m))
    Gb = np.zeros((b, m, N))
    for j, (K, G) in enumerate(zip(Ks, Gs)):
        Kb[j, : K.shape[0], : K.shape[0]] = K
        Gb[j, : G.shape[0]] = G
    x = Gb[:, 0, :].copy()  # start at g_1
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rho = np.zeros(b)
    for it in range(1, max_iter + 1):
        y = np.einsum("bmn,bn->bm", Gb, x)
        z = np.einsum("bmk,bk->bm", Kb, y)
        xn = np.einsum("bmn,bm->bn", Gb, z) / D
        new = np.einsum("bn,bn->b", x, xn)
        nrm = np.linalg.norm(xn, axis=1, keepdims=True)
        x = xn / nrm
        if it > 3 and np.all(np.abs(new - rho) <= tol * np.abs(new)):
            return new, it
        rho = new
    raise InvalidInputError(f"power iteration did not converge in {max_iter} iterations (no spectral gap?)")


def sample_lambda_max(
    s: float,
    N: int,
    D: int,
    draws: int = 2000,
    *,
    seed: int = 0,
    method: str = "power",
    batch: int = 64,
    keep_hessians: int = 0,
    blas_threads: int | None = 1,
):
    """Monte-Carlo draws of ``lambda_max(Phi^T Phi/D)``; returns a :class:`LambdaMaxSample` (and, with
    ``keep_hessians = k``, also the explicit Hessians of the first k draws with their ``Phi^T y/D``
    for a = 1/2, for gradient-descent checks)."""
    from asymptotics.sparse.simulate import _blas_limit

    s, N, D = _check(s, N, D)
    draws = check_count("draws", draws, minimum=2, maximum=10**6)
    if method not in ("power", "lanczos", "eigvalsh"):
        raise InvalidInputError(f"method must be power, lanczos or eigvalsh, got {method!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(draws)
    lam, schur = np.empty(draws), np.empty(draws)
    kept = []
    iters = 0
    with _blas_limit(blas_threads):
        for start in range(0, draws, batch):
            stop = min(draws, start + batch)
            Ks, Gs = [], []
            for j in range(start, stop):
                rng = np.random.default_rng(children[j])
                K, G, s1 = _draw(rng, s, N, D)
                Ks.append(K), Gs.append(G)
                schur[j] = s1 * float(G[0] @ G[0]) / D
                if j < keep_hessians:
                    H = G.T @ K @ G / D
                    idx = np.arange(1, K.shape[0] + 1, dtype=float)
                    w = np.sqrt(idx ** (s - 1 - 0.5))
                    kept.append((H, G.T @ (K @ w) / D))
            if method == "power":
                vals, it = _power_batch(Ks, Gs, D)
                iters = max(iters, it)
            elif method == "lanczos":
                from scipy.sparse.linalg import LinearOperator, eigsh

                vals = []
                for K, G in zip(Ks, Gs):
                    op = LinearOperator(
                        (N, N), matvec=lambda v, K=K, G=G: G.T @ (K @ (G @ v)) / D, dtype=float
                    )
                    vals.append(eigsh(op, k=1, which="LA", tol=1e-13, v0=G[0], return_eigenvectors=False)[0])
                vals = np.array(vals)
            else:
                vals = np.array([np.linalg.eigvalsh(G.T @ K @ G / D)[-1] for K, G in zip(Ks, Gs)])
            lam[start:stop] = vals
    out = LambdaMaxSample(
        s=s, N=N, D=D, lam=lam, schur=schur, method=method, iterations=iters, seed=int(seed)
    )
    return (out, kept) if keep_hessians else out


def run_gradient_descent_batch(
    Hs: np.ndarray, bs: np.ndarray, eta: float, *, steps: int = 4000, seed: int = 0
) -> np.ndarray:
    """:func:`run_gradient_descent` on a stack of problems at once (Hs: (n, N, N), bs: (n, N));
    returns the growth ``|e_T|/|e_1|`` of each run (inf if it overflowed)."""
    eta = check_eta(eta)
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(bs.shape)
    e1 = None
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            step = eta * (np.einsum("bij,bj->bi", Hs, theta) - bs)
            theta = theta - step
            n = np.linalg.norm(step, axis=1)
            if e1 is None:
                e1 = n
            big = ~np.isfinite(n) | (n > 1e100)
            if np.any(big):  # freeze overflowing runs
                theta[big] = 0.0
                e1 = np.where(big, 0.0, e1)
        growth = np.where(e1 > 0, n / np.where(e1 > 0, e1, 1.0), np.inf)
    return growth


def run_gradient_descent(
    H: np.ndarray, b: np.ndarray, eta: float, *, steps: int = 4000, seed: int = 0
) -> dict:
    """Plain full-batch GD ``theta <- theta - eta (H theta - b)`` from a random start.

    The increments ``e_t = theta_t - theta_(t-1)`` obey ``e_(t+1) = (I - eta H) e_t``; with
    ``0 <= eta lambda <= 2`` their norm never grows, so the run is called divergent when
    ``|e_T| > 10 |e_1|`` (and non-divergent otherwise).
    """
    eta = check_eta(eta)
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(H.shape[0])
    e1 = None
    for t in range(steps):
        step = eta * (H @ theta - b)
        theta = theta - step
        n = float(np.linalg.norm(step))
        if e1 is None:
            e1 = n
        if not math.isfinite(n) or n > 1e12 * (e1 + 1e-300):
            return {"diverged": True, "steps": t + 1, "growth": math.inf}
    return {"diverged": n > 10 * e1, "steps": steps, "growth": n / e1}
