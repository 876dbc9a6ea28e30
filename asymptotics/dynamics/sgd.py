"""Finite-N online SGD of the K-class softmax teacher-student model, batched over independent seeds.

Model (conventions of spec section 1): inputs ``x ~ N(0, I_N)``, teacher rows ``B_k`` with
``B_k . B_l = N delta_kl`` exactly, label ``c = argmax_k y_k`` with ``y = B x / sqrt(N)``, student
logits ``z = W x / sqrt(N)``, ``p = softmax(z)`` and one online step per fresh input::

    W_k <- W_k + (eta / sqrt(N)) (delta_kc - p_k) x,        alpha = steps / N.

Every replicate (seed) has its own teacher, inputs and test samples; all replicates advance together
in arrays of shape ``(seeds, K, N)``.

Fast formulation.  The update is sequential (each ``p`` depends on all earlier steps), but within a
block of T steps with inputs ``X`` (T x N) and weights ``W0`` at the start of the block::

    z_t = W0 x_t / sqrt(N) + (1/N) sum_{s<t} (x_s . x_t) a_s,    a_s = eta_s (e_c(s) - p_s),

so the N-dimensional work (``X W0^T``, the Gram matrix ``X X^T``, the teacher fields ``X B^T`` and the
block update ``W0 += A^T X / sqrt(N)``) is done by BLAS once per block, and the per-step Python loop
only touches (seeds, K) arrays.  This is the same arithmetic as the step-by-step update, reordered
(agreement to float64 rounding, tested).  Gaussian inputs are generated in background threads while
the previous block is processed.

Observables at each recorded alpha, per seed:

* ``D = tr R_c / (K-1)`` and ``Delta = tr Q_c / (K-1) - D^2`` with ``R_c = W_c B^T / N``,
  ``Q_c = W_c W_c^T / N`` and ``W_c`` the centered student (mean student vector removed); these are
  exact for the current weights (float64 rounding only);
* ``eps_g = P[argmax z != c]`` and ``loss = E[-log p_c]`` estimated on ``n_test`` fresh test inputs.
  A test input enters only through its 2K fields ``(y, z) = M x`` with ``M = [B; W] / sqrt(N)``; they
  are drawn as ``L g`` with ``g ~ N(0, I_2K)`` and ``L L^T = M M^T``, which has exactly the
  distribution of ``M x`` for ``x ~ N(0, I_N)`` at a cost independent of N.  Their Monte Carlo error
  (about ``sqrt(eps_g (1 - eps_g) / n_test)`` per seed) is part of the reported standard error.

Reproducibility: one integer ``seed`` feeds a ``numpy.random.SeedSequence`` that is spawned into one
child per replicate, each split into independent streams for (teacher, initial state), training
inputs and test inputs, so the training trajectory does not depend on ``n_test``, on the block size or
on the number of threads.

>>> run = simulate_sgd(3, 1.0, N=64, seeds=2, alphas=[0.5, 1.0], n_test=256)
>>> run.alpha.tolist(), run.per_seed["D"].shape, run.D_se.shape
([0.5, 1.0], (2, 2), (2,))
>>> bool(np.all(run.D > 0) and np.all(run.eps_g < 2 / 3))
True
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from asymptotics.validation import (
    IntegrationError,
    InvalidInputError,
    check_nonnegative,
    check_num_classes,
    check_positive,
)

__all__ = [
    "SGDResult",
    "OBSERVABLES",
    "simulate_sgd",
    "orthogonal_frames",
    "orthogonal_teacher",
    "centered_order_parameters",
    "field_factor",
    "sample_test_fields",
    "error_and_loss",
    "measurement_steps",
]

#: observables recorded at every alpha, in this order
OBSERVABLES = ("D", "Delta", "eps_g", "loss")


@dataclass
class SGDResult:
    """Observables of a batch of SGD runs at the recorded times.

    ``alpha`` (length M) are the recorded times ``steps / N`` (the requested alphas rounded to whole
    steps); ``per_seed[name]`` has shape ``(seeds, M)`` for each name in :data:`OBSERVABLES`.  The
    attributes ``D, Delta, eps_g, loss`` are the means over seeds (same interface as the closure
    curve of :func:`asymptotics.dynamics.flow.integrate_closure`) and ``D_se, ...`` the standard errors
    ``std(ddof=1) / sqrt(seeds)`` (NaN for a single seed).  ``teacher`` and ``weights`` hold the
    teachers and the final students, shape ``(seeds, K, N)``.
    """

    K: int
    N: int
    eta: object
    seeds: int
    seed: int
    n_test: int
    alpha: np.ndarray
    steps: np.ndarray
    per_seed: dict
    D0: float = 0.0
    Delta0: float = 0.0
    teacher: np.ndarray | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    #: the training loss when one was given (``loss`` is then its value and ``cross_entropy`` is recorded)
    loss_name: str | None = None
    mean: dict = field(init=False)
    se: dict = field(init=False)

    def __post_init__(self):
        self.mean = {k: v.mean(axis=0) for k, v in self.per_seed.items()}
        if self.seeds > 1:
            self.se = {k: v.std(axis=0, ddof=1) / math.sqrt(self.seeds) for k, v in self.per_seed.items()}
        else:
            self.se = {k: np.full(v.shape[1], np.nan) for k, v in self.per_seed.items()}

    def __getattr__(self, name):
        # D, Delta, eps_g, loss -> means; D_se, ... -> standard errors
        if name.startswith("__") or name in ("mean", "se", "per_seed"):
            raise AttributeError(name)
        if name in OBSERVABLES or name in self.per_seed:
            return self.mean[name]
        if name.endswith("_se") and (name[:-3] in OBSERVABLES or name[:-3] in self.per_seed):
            return self.se[name[:-3]]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def as_dict(self) -> dict:
        """Means and standard errors as plain lists (JSON keys alpha, D, ..., D_se, ...) plus parameters."""
        names = OBSERVABLES + (("cross_entropy",) if "cross_entropy" in self.per_seed else ())
        out = {"alpha": self.alpha.tolist()}
        out.update({name: self.mean[name].tolist() for name in names})
        out.update({f"{name}_se": self.se[name].tolist() for name in names})
        eta = self.eta if isinstance(self.eta, numbers.Real) else repr(self.eta)
        out.update(
            {
                "K": self.K,
                "N": self.N,
                "eta": eta,
                "seeds": self.seeds,
                "seed": self.seed,
                "n_test": self.n_test,
                "D0": self.D0,
                "Delta0": self.Delta0,
            }
        )
        if self.loss_name is not None:
            out["loss_name"] = self.loss_name
        return out


# ----------------------------------------------------------------------------------------------------
# building blocks


def orthogonal_frames(gaussian: np.ndarray, N: int) -> np.ndarray:
    """Rows ``sqrt(N) q_j`` from the QR decomposition of Gaussian matrices (..., N, m) -> (..., m, N).

    Uniformly random (Haar) orthonormal frames scaled to squared norm N; Gram ``N I`` to ~1e-13.

    >>> F = orthogonal_frames(np.random.default_rng(2).standard_normal((4, 20, 3)), 20)
    >>> F.shape, bool(np.allclose(F @ np.swapaxes(F, 1, 2), 20 * np.eye(3)))
    ((4, 3, 20), True)
    """
    q, r = np.linalg.qr(gaussian)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    return math.sqrt(N) * np.swapaxes(q * signs[..., None, :], -1, -2)


def orthogonal_teacher(rng: np.random.Generator, K: int, N: int, extra: int = 0) -> np.ndarray:
    """``K + extra`` rows of length N, mutually orthogonal with squared norm exactly N (to rounding).

    Rows are ``sqrt(N)`` times orthonormal vectors from the QR decomposition of an N x (K+extra)
    Gaussian matrix, i.e. a uniformly random orthonormal frame; Gram matrix ``N I`` to ~1e-13 relative.

    >>> B = orthogonal_teacher(np.random.default_rng(1), 3, 50)
    >>> bool(np.allclose(B @ B.T, 50 * np.eye(3), atol=1e-10))
    True
    """
    return orthogonal_frames(rng.standard_normal((N, K + extra)), N)


def centered_order_parameters(W: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(D, Delta)`` of students ``W`` (..., K, N) against teachers ``B`` (..., K, N).

    ``D = tr(W_c B^T / N)/(K-1)``, ``Delta = tr(W_c W_c^T / N)/(K-1) - D^2`` with ``W_c`` the student
    minus its mean vector; exact up to float64 rounding.

    >>> B = orthogonal_teacher(np.random.default_rng(0), 3, 40)
    >>> D, Delta = centered_order_parameters(2.0 * B + 5.0, B)   # common shift is removed
    >>> round(float(D), 10), round(float(Delta), 10)
    (2.0, 0.0)
    """
    K, N = W.shape[-2], W.shape[-1]
    Wc = W - W.mean(axis=-2, keepdims=True)
    trR = np.einsum("...kn,...kn->...", Wc, B) / N
    trQ = np.einsum("...kn,...kn->...", Wc, Wc) / N
    D = trR / (K - 1)
    return D, trQ / (K - 1) - D * D


def field_factor(W: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Matrix ``L`` (..., 2K, 2K) with ``L L^T = M M^T``, ``M = [B; W] / sqrt(N)``: the fields of a fresh
    input ``x ~ N(0, I_N)`` are distributed as ``(y, z) = L g`` with ``g ~ N(0, I_2K)``.

    From the eigendecomposition of the 2K x 2K Gram matrix (batched over leading axes); negative
    rounding-level eigenvalues are set to zero.  Relative accuracy ~1e-15 of the largest field variance.

    >>> B = orthogonal_teacher(np.random.default_rng(0), 2, 30)
    >>> L = field_factor(0.5 * B, B)
    >>> bool(np.allclose(L @ L.T, [[1, 0, .5, 0], [0, 1, 0, .5], [.5, 0, .25, 0], [0, .5, 0, .25]]))
    True
    """
    N = W.shape[-1]
    M = np.concatenate([B, W], axis=-2)
    C = (M @ np.swapaxes(M, -1, -2)) / N
    lam, V = np.linalg.eigh(C)
    return V * np.sqrt(np.clip(lam, 0.0, None))[..., None, :]


def sample_test_fields(
    rng: np.random.Generator, W: np.ndarray, B: np.ndarray, n: int, factor: np.ndarray | None = None
) -> tuple:
    """Teacher and student fields ``(y, z)``, each (n, K), of ``n`` fresh inputs ``x ~ N(0, I_N)``.

    Drawn exactly in distribution (to float64 rounding) as ``L g`` with ``g ~ N(0, I_2K)`` and
    ``L = field_factor(W, B)`` (pass ``factor`` to reuse it).

    >>> B = orthogonal_teacher(np.random.default_rng(0), 2, 30)
    >>> y, z = sample_test_fields(np.random.default_rng(1), B.copy(), B, 5)
    >>> bool(np.allclose(y, z))
    True
    """
    K = W.shape[0]
    L = field_factor(W, B) if factor is None else factor
    f = rng.standard_normal((n, 2 * K)) @ L.T
    return f[:, :K], f[:, K:]


def error_and_loss(y: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """Fraction of ``argmax z != argmax y`` and mean cross-entropy ``-log softmax(z)_c`` over rows.

    >>> eps, loss = error_and_loss(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[0.0, 0.0], [0.0, 1.0]]))
    >>> eps, round(loss, 6)
    (0.0, 0.503204)
    """
    c = np.argmax(y, axis=1)
    m = z.max(axis=1)
    lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
    zc = np.take_along_axis(z, c[:, None], axis=1)[:, 0]
    return float(np.mean(np.argmax(z, axis=1) != c)), float(np.mean(lse - zc))


def measurement_steps(
    N: int, *, alphas=None, alpha_max=None, alpha_min=None, points_per_decade: int = 8
) -> np.ndarray:
    """Step counts ``round(alpha N)`` (at least 1, increasing, no duplicates) for the recorded times.

    Either explicit ``alphas`` or a logarithmic grid from ``alpha_min`` (default ``max(0.1, 1/N)``) to
    ``alpha_max`` with ``points_per_decade`` points per decade.

    >>> measurement_steps(100, alpha_max=10, points_per_decade=1).tolist()
    [10, 100, 1000]
    """
    if alphas is None:
        if alpha_max is None:
            raise InvalidInputError("give either alphas or alpha_max")
        check_positive("alpha_max", alpha_max)
        if alpha_min is None:
            alpha_min = min(max(0.1, 1.0 / N), float(alpha_max))
        check_positive("alpha_min", alpha_min)
        if alpha_min > alpha_max:
            raise InvalidInputError(f"alpha_min ({alpha_min}) must be <= alpha_max ({alpha_max})")
        if (
            isinstance(points_per_decade, bool)
            or not isinstance(points_per_decade, numbers.Integral)
            or points_per_decade < 1
        ):
            raise InvalidInputError(f"points per decade must be an integer >= 1, got {points_per_decade!r}")
        decades = math.log10(alpha_max / alpha_min)
        n = max(1, int(round(decades * points_per_decade)) + 1)
        alphas = np.geomspace(alpha_min, alpha_max, n) if n > 1 else np.array([float(alpha_max)])
    try:
        grid = np.asarray(alphas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InvalidInputError(f"alpha values must be numbers, got {alphas!r}") from None
    if grid.size == 0:
        raise InvalidInputError("at least one alpha is required")
    if not np.all(np.isfinite(grid)):
        raise InvalidInputError("alpha values must be finite")
    if np.any(grid <= 0):
        raise InvalidInputError(f"alpha values must be > 0, got {grid.min()!r}")
    steps = np.maximum(1, np.rint(grid * N)).astype(np.int64)
    return np.unique(steps)


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _learning_rates(eta):
    """Return ``alpha_array -> eta_array`` for a constant or a schedule, with validated values.

    A callable is tried on the whole array first (vectorised schedules) and element by element if
    that fails or gives the wrong shape.
    """
    if not callable(eta):
        value = float(check_positive("eta", eta))
        return lambda a: np.full(a.shape, value)

    def rates(a: np.ndarray) -> np.ndarray:
        try:
            values = np.asarray(eta(a), dtype=float)
            if values.shape != a.shape:
                raise ValueError("not vectorised")
        except Exception:
            try:
                values = np.array([float(eta(float(t))) for t in a])
            except (TypeError, ValueError) as exc:
                raise InvalidInputError(f"the learning-rate schedule must return a number: {exc}") from None
        good = np.isfinite(values) & (values > 0)
        if not np.all(good):
            i = int(np.flatnonzero(~good)[0])
            raise InvalidInputError(
                f"the learning-rate schedule must give a finite eta > 0; eta({a[i]:g}) = {values[i]!r}"
            )
        return values

    return rates


class _InputStream:
    """Gaussian input blocks (seeds, T, N), generated in background threads one block ahead."""

    def __init__(self, rngs, N: int, workers: int):
        self.rngs, self.N = rngs, N
        self.pool = ThreadPoolExecutor(max_workers=workers) if workers > 0 else None
        self.pending = None

    def request(self, T: int) -> None:
        """Start generating the next block of T inputs per seed."""
        X = np.empty((len(self.rngs), T, self.N))
        if self.pool is None:
            for i, g in enumerate(self.rngs):
                g.standard_normal(out=X[i])
            self.pending = (X, [])
        else:
            futures = [self.pool.submit(g.standard_normal, out=X[i]) for i, g in enumerate(self.rngs)]
            self.pending = (X, futures)

    def take(self) -> np.ndarray:
        """The block requested last, once it is complete."""
        X, futures = self.pending
        for f in futures:
            f.result()
        return X

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True)


def _block_size(seeds: int, N: int, block_size) -> int:
    if block_size is not None:
        return _check_int("block_size", block_size, 1)
    # Short blocks keep the O(T) per-step work of the Gram recursion small, and T^2 N <= 2^18 keeps the
    # block products below OpenBLAS's multithreading threshold: its worker threads would compete with the
    # input-generation threads (measured 5-10x slower on 2 busy cores at T = 32, N = 1000).
    return int(max(4, min(32, math.isqrt((1 << 18) // N), (4 << 20) // (seeds * N))))


#: largest number of SGD steps of one run (alpha_max * N); keeps step counts exact in float64 and
#: the run within days on one core
MAX_STEPS = 10**11
#: largest number of replicates of one call
MAX_SEEDS = 100_000


def estimate_memory(K: int, N: int, seeds: int, block_size: int, extra: int = 0) -> int:
    """Bytes of the simulator's arrays (weights, teacher, frames, two input blocks, Gram block).

    >>> estimate_memory(3, 1000, 8, 32) < 20 * 2**20
    True
    """
    per_seed = N * (K + extra) + 3 * K * N + 2 * block_size * N + block_size * block_size + 4 * block_size * K
    return 8 * seeds * per_seed + 8 * 2 * K * 4000 * 2


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``; physical memory otherwise)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_resources(K: int, N: int, seeds: int, steps_total: int, block_size: int, extra: int = 0) -> None:
    """Refuse, before any work, a run that exceeds :data:`MAX_STEPS`, :data:`MAX_SEEDS` or memory.

    >>> check_resources(3, 10**9, 8, 10, 4)   # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    asymptotics.validation.InvalidInputError: this run needs about 1192.1 GiB of memory (K = 3, N = 1000000000, 8 seeds); ...
    """
    if seeds > MAX_SEEDS:
        raise InvalidInputError(f"seeds must be <= {MAX_SEEDS}, got {seeds} (split the run)")
    if steps_total > MAX_STEPS:
        raise InvalidInputError(
            f"the run needs {steps_total:.3g} SGD steps (alpha_max * N); at most {MAX_STEPS:.0e}"
        )
    need = estimate_memory(K, N, seeds, block_size, extra)
    have = available_memory()
    if need > 0.8 * have:
        raise InvalidInputError(
            f"this run needs about {need / 2**30:.1f} GiB of memory (K = {K}, N = {N}, {seeds} seeds); "
            f"{have / 2**30:.1f} GiB are available: use fewer seeds or a smaller N"
        )


# ----------------------------------------------------------------------------------------------------
# the simulator


def simulate_sgd(
    K: int,
    eta,
    *,
    N: int = 1000,
    seeds: int = 8,
    seed: int = 0,
    alphas=None,
    alpha_max=None,
    alpha_min=None,
    points_per_decade: int = 8,
    n_test: int = 4000,
    D0: float = 0.0,
    Delta0: float = 0.0,
    block_size: int | None = None,
    workers: int | None = None,
    progress: bool = False,
    loss=None,
) -> SGDResult:
    """Run ``seeds`` independent online-SGD replicates and record D, Delta, eps_g and loss.

    Parameters
    ----------
    K : number of classes (>= 2).

    eta : learning rate > 0, or a schedule ``alpha -> eta`` (any callable; evaluated at the time
        ``alpha = n/N`` of step n, vectorised where the callable allows it).

    N : input dimension (>= 2, and >= K, or >= 2K for a random start with Delta0 > 0).

    seeds, seed : number of replicates and the integer seed of the whole batch.

    alphas : times at which to record (rounded to whole steps), or a log grid given by ``alpha_max``
        (and ``alpha_min``, ``points_per_decade``).

    n_test : fresh test inputs per seed and recorded time for eps_g and loss.

    D0, Delta0 : initial state ``W(0) = D0 B + sqrt(Delta0) G`` with ``G`` random rows orthogonal to
        the teacher and to each other, ``G_k . G_l = N delta_kl``; it has exactly the centered order
        parameters (D0, Delta0).  The default is ``W(0) = 0``.

    block_size, workers : steps per BLAS block and input-generation threads (results do not depend
        on either beyond float64 rounding; ``workers = 0`` generates inputs in the calling thread).

    progress : progress bar on stderr.

    loss : the training loss (a name such as ``"focal:gamma=2"`` or an :class:`asymptotics.losses.Loss`);
        ``None`` (default) is cross-entropy with the original update ``e = onehot(c) - p``.  With a loss the
        update uses ``e_k = -dl/dz_k`` (:mod:`asymptotics.losses.sgd`), ``loss`` records the training loss and
        ``cross_entropy`` the test cross-entropy.

    Accuracy: the dynamics are simulated exactly (float64); D and Delta are exact for each run, eps_g
    and loss carry Monte Carlo error O(n_test^(-1/2)) per seed.  Raises ``InvalidInputError`` for bad
    input and ``IntegrationError`` (with the alpha) if the weights become non-finite.

    >>> r = simulate_sgd(2, 0.5, N=32, seeds=3, alphas=[1.0], n_test=100, seed=7)
    >>> r.per_seed["eps_g"].shape, r.seeds, r.seed
    ((3, 1), 3, 7)
    """
    K = check_num_classes(K)
    signal = observe = None
    if loss is not None:
        from asymptotics.losses.registry import get_loss
        from asymptotics.losses.sgd import error_signal_function, observables_function

        loss = get_loss(loss)
        signal, observe = error_signal_function(loss, K), observables_function(loss, K)
    N = _check_int("N", N, 2)
    seeds = _check_int("seeds", seeds, 1)
    seed = _check_int("seed", seed, 0)
    n_test = _check_int("n_test", n_test, 1)
    rates = _learning_rates(eta)
    D0 = float(check_nonnegative("D0", D0))
    Delta0 = float(check_nonnegative("Delta0", Delta0))
    extra = K if Delta0 > 0 else 0
    if N < K + extra:
        raise InvalidInputError(
            f"N must be >= {K + extra} for K = {K}" + (" with Delta0 > 0" if extra else "") + f", got {N}"
        )
    if alpha_max is not None:
        check_positive("alpha_max", alpha_max)
        if float(alpha_max) * N > MAX_STEPS:
            raise InvalidInputError(
                f"alpha_max * N = {float(alpha_max) * N:.3g} steps; at most {MAX_STEPS:.0e}"
            )
    if alphas is not None:
        grid = np.asarray(alphas, dtype=float).ravel() if np.ndim(alphas) else np.array([float(alphas)])
        if grid.size and np.all(np.isfinite(grid)) and float(np.max(grid)) * N > MAX_STEPS:
            raise InvalidInputError(
                f"max(alpha) * N = {float(np.max(grid)) * N:.3g} steps; at most {MAX_STEPS:.0e}"
            )
    steps = measurement_steps(
        N, alphas=alphas, alpha_max=alpha_max, alpha_min=alpha_min, points_per_decade=points_per_decade
    )
    T = _block_size(seeds, N, block_size)
    check_resources(K, N, seeds, int(steps[-1]), T, extra)
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    workers = _check_int("workers", workers, 0)

    # per-replicate streams: (teacher + initial state, training inputs, test inputs)
    children = [child.spawn(3) for child in np.random.SeedSequence(seed).spawn(seeds)]
    init_rngs = [np.random.Generator(np.random.SFC64(c[0])) for c in children]
    train_rngs = [np.random.Generator(np.random.SFC64(c[1])) for c in children]
    test_rngs = [np.random.Generator(np.random.SFC64(c[2])) for c in children]

    frames = orthogonal_frames(np.stack([g.standard_normal((N, K + extra)) for g in init_rngs]), N)
    B = np.ascontiguousarray(frames[:, :K])
    W = D0 * B + (math.sqrt(Delta0) * frames[:, K:] if extra else 0.0)
    W = np.array(W, dtype=float, copy=True)
    BT = np.ascontiguousarray(B.transpose(0, 2, 1)) / math.sqrt(N)  # (S, N, K)
    sqrtN = math.sqrt(N)

    names = OBSERVABLES + (("cross_entropy",) if loss is not None else ())
    per_seed = {name: np.empty((seeds, steps.size)) for name in names}
    bounds = _block_bounds(steps, T)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(
            total=int(steps[-1]),
            desc=f"SGD K={K} N={N} x{seeds}",
            unit="step",
            file=sys.stderr,
            unit_scale=True,
            delay=0.5,
        )
    stream = _InputStream(train_rngs, N, workers)
    try:
        stream.request(bounds[0][1] - bounds[0][0])
        record = 0
        for b, (start, stop) in enumerate(bounds):
            X = stream.take()
            if b + 1 < len(bounds):
                stream.request(bounds[b + 1][1] - bounds[b + 1][0])
            etas = rates(np.arange(start, stop, dtype=float) / N)
            _advance_block(W, X, BT, etas, N, sqrtN, signal)
            if not np.all(np.isfinite(W)):
                raise IntegrationError(_blow_up_message(W, start, stop, N, etas))
            if bar is not None:
                bar.update(stop - start)
            while record < steps.size and steps[record] == stop:
                _measure(per_seed, record, W, B, test_rngs, n_test, stop / N, observe)
                record += 1
    finally:
        stream.close()
        if bar is not None:
            bar.close()
    return SGDResult(
        K=K,
        N=N,
        eta=eta,
        seeds=seeds,
        seed=seed,
        n_test=n_test,
        alpha=steps / N,
        steps=steps,
        per_seed=per_seed,
        D0=D0,
        Delta0=Delta0,
        teacher=B,
        weights=W,
        loss_name=None if loss is None else loss.name,
    )


def _block_bounds(steps: np.ndarray, T: int) -> list[tuple[int, int]]:
    """Blocks [start, stop) of at most T steps that end exactly at every measurement step."""
    bounds, start = [], 0
    for stop in steps:
        while start < stop:
            end = min(start + T, int(stop))
            bounds.append((start, end))
            start = end
    return bounds


def _advance_block(
    W: np.ndarray, X: np.ndarray, BT: np.ndarray, etas: np.ndarray, N: int, sqrtN: float, signal=None
) -> None:
    """Apply the T online steps with inputs ``X`` (S, T, N) to ``W`` (S, K, N) in place.

    ``signal(z, labels) -> e`` replaces the cross-entropy error signal ``onehot - softmax(z)`` when given.
    """
    S, T, _ = X.shape
    K = W.shape[1]
    labels = np.argmax(X @ BT, axis=2)  # (S, T)
    onehot = np.zeros((T, S, K))
    np.put_along_axis(onehot, labels.T[:, :, None], 1.0, axis=2)
    Z = np.ascontiguousarray((X @ W.transpose(0, 2, 1)).transpose(1, 0, 2)) / sqrtN  # (T, S, K)
    A = np.empty((T, S, K))
    if T > 1:
        G = np.ascontiguousarray((X @ X.transpose(0, 2, 1)).transpose(2, 1, 0))  # G[t, u, s]
        G /= N
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            z = Z[t]
            a = A[t]
            if signal is None:
                p = np.exp(z - z.max(axis=1, keepdims=True))
                p /= p.sum(axis=1, keepdims=True)
                np.subtract(onehot[t], p, out=a)
            else:
                a[...] = signal(z, labels[:, t])
            a *= etas[t]
            if t + 1 < T:
                Z[t + 1 :] += G[t, t + 1 :, :, None] * a
        W += (A.transpose(1, 2, 0) @ X) / sqrtN


def _blow_up_message(W: np.ndarray, start: int, stop: int, N: int, etas: np.ndarray) -> str:
    bad = int(np.flatnonzero(~np.all(np.isfinite(W), axis=(1, 2)))[0])
    return (
        f"SGD weights became non-finite between alpha = {start / N:.6g} and {stop / N:.6g} "
        f"(replicate {bad}): the logits overflowed float64, the step size eta = {float(etas.max()):.6g} "
        f"is too large"
    )


def _measure(
    per_seed: dict, j: int, W: np.ndarray, B: np.ndarray, test_rngs, n_test: int, alpha: float, observe=None
) -> None:
    D, Delta = centered_order_parameters(W, B)
    if not (np.all(np.isfinite(D)) and np.all(np.isfinite(Delta))):
        norm = float(np.max(np.einsum("skn,skn->s", W, W))) / W.shape[2]
        raise IntegrationError(
            f"order parameters overflowed float64 at alpha = {alpha:.6g}: the weights are "
            f"too large (|W|^2/N = {norm:.3g}), the step size is too large"
        )
    per_seed["D"][:, j], per_seed["Delta"][:, j] = D, Delta
    factors = field_factor(W, B)
    for i, g in enumerate(test_rngs):
        y, z = sample_test_fields(g, W[i], B[i], n_test, factor=factors[i])
        if observe is None:
            per_seed["eps_g"][i, j], per_seed["loss"][i, j] = error_and_loss(y, z)
        else:
            per_seed["eps_g"][i, j], per_seed["loss"][i, j], per_seed["cross_entropy"][i, j] = observe(y, z)
