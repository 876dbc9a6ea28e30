"""Unevaluated Gaussian expectations ``E_{v ~ N(0, C)}[f(v)]`` as SymPy expressions.

:class:`GaussianExpectation` keeps its integrand and its law (a :class:`GaussianMeasure`) as
arguments, never evaluates itself, prints as ``⟨f⟩`` (str / pretty) and
``\\left\\langle f \\right\\rangle`` (LaTeX), and supports

* linearity: :func:`linear_expand` pulls constant factors out and splits sums of terms,
  :func:`collect_expectations` merges terms with the same law back into one expectation;
* comparison: :func:`expectations_equal` decides ``E[f] = E[g]`` by the index algebra of
  :func:`asymptotics.symbolic.softmax.canonical_form` (including ``sum_k p_k = 1``);
* numerical evaluation for concrete dimensions: Gauss-Hermite tensor quadrature
  (:meth:`GaussianExpectation.gauss_hermite`), Monte Carlo with a standard error
  (:meth:`GaussianExpectation.monte_carlo`) and mpmath quadrature at any precision for up to three
  smooth dimensions (:meth:`GaussianExpectation.mp_quad`).

Two laws are provided. :class:`IndexedGaussian` describes vectors indexed by a class index
(``y_k``, ``xi_k``, ``k = 1..K`` with K an integer or a symbol) by a covariance rule per pair of
vectors; it may carry a *label* ``c = argmax_k y_k`` (optionally conditioned to a fixed class) and a
*logit representation* ``z_k = rep(y, xi)`` so that softmax probabilities of ``z`` count as random.
:class:`CorrelatedGaussian` is a finite list of scalar variables with an explicit covariance matrix
and an optional conditioning event.

>>> v = sympy.Symbol('v', real=True)
>>> mu = CorrelatedGaussian([v], sympy.Matrix([[1]]))
>>> E = GaussianExpectation(v**2 * sympy.cos(v), mu)
>>> print(E)
⟨v**2*cos(v)⟩
>>> sympy.latex(E)
'\\\\left\\\\langle v^{2} \\\\cos{\\\\left(v \\\\right)} \\\\right\\\\rangle'
>>> round(E.gauss_hermite(nodes=40), 12)   # closed form (1 - v^2) e^{-1/2} at v = 1: 0
0.0
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import sympy
from sympy import Add, Basic, Expr, Indexed, Mul, S, Sum, Tuple

from asymptotics.symbolic.softmax import SoftmaxProbability, canonical_form
from asymptotics.validation import IntegrationError, InvalidInputError

__all__ = [
    "GaussianMeasure",
    "IndexedGaussian",
    "CorrelatedGaussian",
    "GaussianExpectation",
    "linear_expand",
    "collect_expectations",
    "expectations_equal",
    "map_integrands",
    "expand_outside",
]


# --------------------------------------------------------------------------------------------
# laws
# --------------------------------------------------------------------------------------------

class GaussianMeasure(Basic):
    """Base class of centred Gaussian laws (plus quantities that are functions of the variables)."""

    def covariance(self, u, v) -> Expr:  # pragma: no cover - interface
        raise NotImplementedError

    def random_markers(self) -> tuple:
        """Objects whose presence in a factor makes that factor random."""
        raise NotImplementedError  # pragma: no cover

    def is_random(self, expr) -> bool:
        """True if ``expr`` depends on the random variables (or on functions of them)."""
        expr = sympy.sympify(expr)
        if expr.has(SoftmaxProbability):
            return True
        return any(expr.has(m) for m in self.random_markers())


class IndexedGaussian(GaussianMeasure):
    """Jointly Gaussian class-indexed vectors, components ``1..dim``.

    Parameters
    ----------
    bases : IndexedBase vectors (e.g. ``y``, ``xi``).

    dim : number of components (int or integer symbol).

    covariances : list of ``(a, b, expr)`` with ``expr`` a function of two index symbols given as
        a ``sympy.Lambda((i, j), ...)``: ``Cov(a_i, b_j)``. Pairs not listed are uncorrelated;
        ``(b, a)`` is inferred from ``(a, b)``.

    label : optional ``(c, y)``: the label ``c = argmax_k y_k`` (a random class index);
        ``conditioned=v`` means the integrand has ``c`` replaced by ``v`` and the expectation is
        conditional on ``argmax_k y_k = v``.

    logits : optional ``(z, Lambda(k, rep))``: logits ``z_k = rep`` in terms of the bases.

    markers : extra symbols / IndexedBases that are random (e.g. the error signal ``e``).

    >>> from sympy import IndexedBase
    >>> y, xi = IndexedBase('y'), IndexedBase('xi'); i, j = sympy.symbols('i j', integer=True)
    >>> mu = IndexedGaussian.standard([y, xi], 3)
    >>> mu.covariance(y[1], y[1]), mu.covariance(y[1], xi[1])
    (1, 0)
    """

    def __new__(cls, bases, dim, covariances, label=(), logits=(), markers=(), conditioned=0):
        cov = Tuple(*[Tuple(a, b, f) for (a, b, f) in covariances])
        return Basic.__new__(cls, Tuple(*bases), sympy.sympify(dim), cov, Tuple(*label),
                             Tuple(*logits), Tuple(*markers), sympy.sympify(conditioned))

    @classmethod
    def standard(cls, bases, dim, **kw):
        """All components of all ``bases`` i.i.d. N(0, 1)."""
        i, j = sympy.symbols("i j", integer=True)
        delta = sympy.Lambda((i, j), sympy.KroneckerDelta(i, j))
        return cls(bases, dim, [(b, b, delta) for b in bases], **kw)

    bases = property(lambda self: tuple(self.args[0]))
    dim = property(lambda self: self.args[1])
    label = property(lambda self: tuple(self.args[3]))
    logits = property(lambda self: tuple(self.args[4]))
    markers = property(lambda self: tuple(self.args[5]))
    conditioned = property(lambda self: self.args[6])

    def covariance(self, u, v) -> Expr:
        """``Cov(u, v)`` for two components ``u = a[i]``, ``v = b[j]``."""
        if not (isinstance(u, Indexed) and isinstance(v, Indexed)):
            raise InvalidInputError(f"covariance needs two indexed components, got {u} and {v}")
        for (a, b, f) in self.args[2]:
            if (u.base, v.base) == (a, b):
                return f(u.indices[0], v.indices[0])
            if (u.base, v.base) == (b, a):
                return f(v.indices[0], u.indices[0])
        return S.Zero

    def random_markers(self):
        out = list(self.bases) + list(self.markers)
        if self.label:
            out.append(self.label[0])
        if self.logits:
            out.append(self.logits[0])
        return tuple(out)

    def with_conditioned_label(self, value: int) -> "IndexedGaussian":
        """The same law conditioned on ``argmax y = value``."""
        return IndexedGaussian(self.bases, self.dim, [tuple(t) for t in self.args[2]],
                               self.label, self.logits, self.markers, value)

    def _latex(self, printer):
        names = ", ".join(printer._print(b) for b in self.bases)
        text = r"(%s) \sim \mathcal{N}" % names
        if self.label:
            text += r",\ %s = \operatorname{argmax}_k %s_k" % (
                printer._print(self.label[0]), printer._print(self.label[1]))
        if self.conditioned != 0:
            text += r"\ (\text{given } %s)" % printer._print(self.conditioned)
        return text

    # -- numerics ----------------------------------------------------------------------------
    def scalar_variables(self):
        if not self.dim.is_Integer:
            raise InvalidInputError("numerical evaluation needs a concrete dimension K")
        n = int(self.dim)
        return [b[k] for b in self.bases for k in range(1, n + 1)]

    def covariance_matrix(self, subs):
        vs = self.scalar_variables()
        C = sympy.Matrix(len(vs), len(vs), lambda a, b: self.covariance(vs[a], vs[b]))
        return np.array(C.subs(subs).evalf(), dtype=float)

    def prepare(self, integrand, subs):
        """Integrand with softmax atoms and logits written out in the scalar variables."""
        f = integrand
        if f.has(SoftmaxProbability):
            f = f.replace(lambda a: isinstance(a, SoftmaxProbability), lambda a: a.explicit())
        f = f.doit()
        if self.logits:
            z, rep = self.logits
            f = f.replace(lambda a: isinstance(a, Indexed) and a.base == z,
                          lambda a: rep(a.indices[0]))
        return f.subs(subs).doit()


class CorrelatedGaussian(GaussianMeasure):
    """Scalar variables ``v`` with covariance matrix ``C``, optionally conditioned on an event.

    >>> h, s = sympy.symbols('h s', real=True)
    >>> mu = CorrelatedGaussian([h, s], sympy.Matrix([[1, 0.5], [0.5, 1]]))
    >>> mu.covariance(h, s)
    0.500000000000000
    """

    def __new__(cls, variables, covariance, condition=S.true):
        C = sympy.ImmutableMatrix(covariance)
        variables = Tuple(*variables)
        if C.shape != (len(variables), len(variables)):
            raise InvalidInputError(
                f"covariance must be {len(variables)}x{len(variables)}, got {C.shape}")
        return Basic.__new__(cls, variables, C, condition)

    variables = property(lambda self: tuple(self.args[0]))
    matrix = property(lambda self: self.args[1])
    condition = property(lambda self: self.args[2])

    def covariance(self, u, v) -> Expr:
        vs = self.variables
        if u not in vs or v not in vs:
            return S.Zero
        return self.matrix[vs.index(u), vs.index(v)]

    def random_markers(self):
        return self.variables

    def scalar_variables(self):
        return list(self.variables)

    def covariance_matrix(self, subs):
        return np.array(self.matrix.subs(subs).evalf(), dtype=float)

    def prepare(self, integrand, subs):
        return integrand.subs(subs).doit()

    def _latex(self, printer):
        names = ", ".join(printer._print(b) for b in self.variables)
        return r"(%s) \sim \mathcal{N}(0, %s)" % (names, printer._print(self.matrix))


# --------------------------------------------------------------------------------------------
# the expectation node
# --------------------------------------------------------------------------------------------

class GaussianExpectation(Expr):
    """``E_{v ~ measure}[integrand]``, unevaluated. See the module docstring."""

    is_commutative = True

    def __new__(cls, integrand, measure):
        if not isinstance(measure, GaussianMeasure):
            raise InvalidInputError(f"measure must be a GaussianMeasure, got {type(measure).__name__}")
        return Expr.__new__(cls, sympy.sympify(integrand), measure)

    integrand = property(lambda self: self.args[0])
    measure = property(lambda self: self.args[1])

    @property
    def is_real(self):
        return self.integrand.is_real

    @property
    def free_symbols(self):
        return self.integrand.free_symbols

    # -- printing ----------------------------------------------------------------------------
    def _latex(self, printer):
        return r"\left\langle %s \right\rangle" % printer._print(self.integrand)

    def _sympystr(self, printer):
        return "⟨%s⟩" % printer._print(self.integrand)

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        pform = printer._print(self.integrand)
        pform = prettyForm(*pform.left("⟨"))
        return prettyForm(*pform.right("⟩"))

    # -- algebra -----------------------------------------------------------------------------
    def linear_expand(self, split_sums: bool = False) -> Expr:
        """``E[sum_i c_i f_i] = sum_i c_i E[f_i]`` with the constants ``c_i`` pulled out.

        With ``split_sums`` also ``E[sum_k g_k] = sum_k E[g_k]`` for class sums.

        >>> v, a = sympy.symbols('v a', real=True)
        >>> E = GaussianExpectation(a * v**2 + 3 * v + a, CorrelatedGaussian([v], [[1]]))
        >>> E.linear_expand()
        a*⟨v**2⟩ + a + 3*⟨v⟩
        """
        mu = self.measure
        out = []
        for term in Add.make_args(sympy.expand(self.integrand)):
            const, rand = [], []
            for f in Mul.make_args(term):
                (rand if mu.is_random(f) else const).append(f)
            r = Mul(*rand)
            if r == 1:
                out.append(Mul(*const))
            elif split_sums and isinstance(r, Sum) and len(r.limits) == 1:
                out.append(Mul(*const) * Sum(GaussianExpectation(r.function, mu), *r.limits))
            else:
                out.append(Mul(*const) * GaussianExpectation(r, mu))
        return Add(*out)

    def with_integrand(self, integrand) -> "GaussianExpectation":
        return GaussianExpectation(integrand, self.measure)

    # -- numerics ----------------------------------------------------------------------------
    def numeric_integrand(self, subs=None, *, backend: str = "numpy"):
        """Hand the integrand to a numeric evaluator: ``(variables, f)`` with ``f(*values)``.

        ``variables`` are the scalar Gaussian components (law of :attr:`measure`); softmax atoms
        and logits are written out and ``subs`` fixes the parameters. ``backend`` is ``"numpy"``
        (float64, vectorised) or ``"mpmath"`` (working precision; keep parameters exact, e.g.
        ``sympy.Rational``, to avoid float literals). Integrands that involve an unresolved label
        are refused (condition on the label first).

        >>> v = sympy.Symbol('v', real=True); a = sympy.Symbol('a')
        >>> vs, f = GaussianExpectation(a * v**2, CorrelatedGaussian([v], [[1]])).numeric_integrand({a: 3})
        >>> vs, float(f(2.0))
        ([v], 12.0)
        """
        if backend not in ("numpy", "mpmath"):
            raise InvalidInputError(f"backend must be 'numpy' or 'mpmath', got {backend!r}")
        mu = self.measure
        subs = subs or {}
        variables = mu.scalar_variables()
        f = mu.prepare(self.integrand, subs)
        label = getattr(mu, "label", ())
        if label and f.has(label[0]):
            raise InvalidInputError(
                f"the integrand depends on the label {label[0]}; condition on it first")
        syms = [sympy.Dummy(f"v{i}") for i in range(len(variables))]
        g = f.xreplace(dict(zip(variables, syms)))
        leftover = g.free_symbols - set(syms)
        if leftover:
            names = ", ".join(sorted(str(x) for x in leftover))
            raise InvalidInputError(f"numerical evaluation needs values for: {names}")
        extra = _NUMPY_EXTRA if backend == "numpy" else _MPMATH_EXTRA
        return variables, sympy.lambdify(syms, g, modules=[extra, backend])

    def _branches(self, subs):
        """List of (numpy callable, selector) pairs covering the label values."""
        mu = self.measure
        variables = mu.scalar_variables()
        f = mu.prepare(self.integrand, subs)
        syms = [sympy.Dummy(f"v{i}") for i in range(len(variables))]
        label = getattr(mu, "label", ())
        if label and f.has(label[0]):
            c, ybase = label
            n = int(mu.dim)
            branches = []
            for value in range(1, n + 1):
                fc = f.xreplace({c: sympy.Integer(value)}).doit()
                branches.append((self._compile(fc, variables, syms), value))
            return variables, branches
        return variables, [(self._compile(f, variables, syms), None)]

    def _compile(self, f, variables, syms):
        g = f.xreplace(dict(zip(variables, syms)))
        leftover = g.free_symbols - set(syms)
        if leftover:
            names = ", ".join(sorted(str(s) for s in leftover))
            raise InvalidInputError(f"numerical evaluation needs values for: {names}")
        fn = sympy.lambdify(syms, g, modules=[_NUMPY_EXTRA, "numpy"])
        return lambda pts: np.broadcast_to(np.asarray(fn(*pts), dtype=float), pts[0].shape)

    def _weights_for_label(self, pts, variables, value):
        """Indicator of the label event for each point (label value or conditioning)."""
        mu = self.measure
        label = getattr(mu, "label", ())
        if not label:
            return None
        ybase = label[1]
        n = int(mu.dim)
        idx = [variables.index(ybase[k]) for k in range(1, n + 1)]
        am = np.argmax(np.stack([pts[i] for i in idx]), axis=0) + 1
        return am

    def _evaluate_on(self, pts, weights, subs):
        mu = self.measure
        variables, branches = self._branches(subs)
        am = self._weights_for_label(pts, variables, None)
        total = np.zeros_like(weights)
        for fn, value in branches:
            vals = fn(pts)
            if value is not None:
                vals = np.where(am == value, vals, 0.0)
            total = total + vals
        cond_mask = np.ones_like(weights, dtype=bool)
        if getattr(mu, "conditioned", 0) != 0:
            cond_mask &= am == int(mu.conditioned)
        if isinstance(mu, CorrelatedGaussian) and mu.condition is not S.true:
            cond = sympy.lambdify(variables, mu.condition.subs(subs), modules="numpy")
            cond_mask &= np.broadcast_to(np.asarray(cond(*pts), dtype=bool), weights.shape)
        return total, cond_mask

    def gauss_hermite(self, subs=None, *, nodes: int = 30) -> float:
        """Tensor-product Gauss-Hermite quadrature (float64), ``nodes`` points per dimension.

        Exact for polynomial integrands of degree < 2*nodes; spectrally accurate for smooth
        (analytic) integrands; only O(1/nodes) for integrands with jumps (label, argmax, Heaviside),
        for which :meth:`monte_carlo` gives an honest error bar. Limited to 4e6 points.

        >>> v = sympy.Symbol('v', real=True)
        >>> E = GaussianExpectation(v * sympy.tanh(v), CorrelatedGaussian([v], [[1]]))
        >>> abs(E.gauss_hermite(nodes=60) - 0.6057055) < 1e-6
        True
        """
        subs = subs or {}
        variables = self.measure.scalar_variables()
        d = len(variables)
        if nodes ** d > 4_000_000:
            raise InvalidInputError(f"{nodes}**{d} quadrature points is too many; use monte_carlo")
        x, w = np.polynomial.hermite_e.hermegauss(nodes)
        w = w / math.sqrt(2 * math.pi)
        grids = np.meshgrid(*([x] * d), indexing="ij")
        wgrid = np.ones_like(grids[0])
        for wg in np.meshgrid(*([w] * d), indexing="ij"):
            wgrid = wgrid * wg
        g = np.stack([gr.ravel() for gr in grids])
        L = _cholesky(self.measure.covariance_matrix(subs))
        pts = L @ g
        weights = wgrid.ravel()
        vals, mask = self._evaluate_on(list(pts), weights, subs)
        norm = float(np.sum(weights[mask]))
        if norm == 0.0:
            raise IntegrationError("the conditioning event has no quadrature weight")
        return float(np.sum(weights * np.where(mask, vals, 0.0)) / norm)

    def monte_carlo(self, subs=None, *, samples: int = 200_000, seed: int = 0):
        """Monte Carlo estimate ``(mean, standard error)`` from ``samples`` draws (seeded, float64).

        The error bar is the sample standard deviation over sqrt(samples) (conditional
        expectations: ratio estimator, delta-method error).

        >>> v = sympy.Symbol('v', real=True)
        >>> m, se = GaussianExpectation(v**2, CorrelatedGaussian([v], [[1]])).monte_carlo(samples=10**5)
        >>> abs(m - 1) < 5 * se
        True
        """
        subs = subs or {}
        rng = np.random.default_rng(seed)
        variables = self.measure.scalar_variables()
        L = _cholesky(self.measure.covariance_matrix(subs))
        pts = L @ rng.standard_normal((len(variables), samples))
        vals, mask = self._evaluate_on(list(pts), np.ones(samples), subs)
        m = mask.astype(float)
        pm = m.mean()
        if pm == 0:
            raise IntegrationError("no sample fell in the conditioning event")
        fv = np.where(mask, vals, 0.0)
        mean = fv.mean() / pm
        resid = (fv - mean * m) / pm
        return float(mean), float(resid.std(ddof=1) / math.sqrt(samples))

    def mp_quad(self, subs=None, *, dps: int = 30, nodes: int | None = None):
        """Arbitrary-precision quadrature over up to three smooth dimensions.

        One dimension: tanh-sinh (``mpmath.quad``) on the two half-lines, ``dps`` digits for
        smooth integrands. Two or three dimensions: the tensor Gauss-Hermite rule (probabilists' Hermite nodes refined by Newton's method at the working
        precision) is applied after the Cholesky map; with ``nodes=None`` the number of nodes per
        dimension is doubled from 16 until two successive results agree to ``10**-dps``
        (fast, geometric convergence for entire integrands such as polynomials times
        exponentials or trigonometric functions; slow for integrands with complex poles near
        the real axis such as ``tanh`` or the logistic function; raises
        :class:`IntegrationError` if 128 nodes per dimension do not converge). Integrands with a
        label or a conditioning event are refused (use :meth:`monte_carlo`).

        >>> v = sympy.Symbol('v', real=True)
        >>> E = GaussianExpectation(sympy.cos(v), CorrelatedGaussian([v], [[1]]))
        >>> x = E.mp_quad(dps=30)
        >>> abs(x - mpmath.exp(-0.5)) < mpmath.mpf(10) ** -28
        True
        """
        subs = subs or {}
        mu = self.measure
        if getattr(mu, "label", ()) or getattr(mu, "conditioned", 0) != 0 or (
                isinstance(mu, CorrelatedGaussian) and mu.condition is not S.true):
            raise InvalidInputError("mp_quad handles smooth unconditioned integrands only")
        variables = mu.scalar_variables()
        d = len(variables)
        if d > 3:
            raise InvalidInputError(f"mp_quad handles at most 3 dimensions, got {d}")
        with mpmath.workdps(dps + 10):
            if isinstance(mu, CorrelatedGaussian):
                Cs = mu.matrix.subs(subs)
            else:
                Cs = sympy.Matrix(d, d, lambda i, j: mu.covariance(variables[i], variables[j])).subs(subs)
            C = mpmath.matrix([[mpmath.mpf(sympy.N(Cs[i, j], dps + 10)) for j in range(d)]
                               for i in range(d)])
            L = mpmath.cholesky(C)
            f = mu.prepare(self.integrand, subs)
            g = sympy.symbols(f"g0:{d}", real=True)
            xs = [sum(sympy.Float(L[i, j], dps + 10) * g[j] for j in range(i + 1)) for i in range(d)]
            fn = sympy.lambdify(g, f.xreplace(dict(zip(variables, xs))), modules=[_MPMATH_EXTRA, "mpmath"])
            tol = mpmath.mpf(10) ** (-dps)

            def rule(n):
                x, w = _hermite_rule(n, dps + 10)
                total = mpmath.mpf(0)
                for idx in itertools.product(range(n), repeat=d):
                    wt = mpmath.fprod(w[i] for i in idx)
                    total += wt * fn(*[x[i] for i in idx])
                return total

            if nodes is not None:
                out = rule(nodes)
            elif d == 1:
                out = mpmath.quad(lambda t: fn(t) * mpmath.npdf(t), [-mpmath.inf, 0, mpmath.inf])
            else:
                n, prev = 16, rule(16)
                while True:
                    n *= 2
                    if n > 128:
                        raise IntegrationError(
                            f"Gauss-Hermite did not reach {dps} digits with 128 nodes per dimension")
                    out = rule(n)
                    if abs(out - prev) <= tol * max(1, abs(out)):
                        break
                    prev = out
        return +out


_HERMITE_CACHE: dict = {}


def _hermite_rule(n: int, dps: int):
    """Nodes and weights of the n-point rule for the standard normal weight, at ``dps`` digits.

    Newton refinement of numpy's float nodes on the monic Hermite polynomial He_n;
    weights ``n! / (n He_{n-1}(x))^2``.
    """
    key = (n, dps)
    if key in _HERMITE_CACHE:
        return _HERMITE_CACHE[key]
    x0, _ = np.polynomial.hermite_e.hermegauss(n)
    xs, ws = [], []
    with mpmath.workdps(dps + 10):
        fact = mpmath.factorial(n)

        def he(x):
            p0, p1 = mpmath.mpf(1), x
            for k in range(1, n):
                p0, p1 = p1, x * p1 - k * p0
            return p1, p0            # He_n, He_{n-1}

        for t in x0:
            x = mpmath.mpf(t)
            for _ in range(100):
                pn, pm = he(x)
                dx = pn / (n * pm)
                x -= dx
                if abs(dx) < mpmath.mpf(10) ** (-(dps + 5)):
                    break
            pn, pm = he(x)
            xs.append(x)
            ws.append(fact / (n * pm) ** 2)
    _HERMITE_CACHE[key] = (xs, ws)
    return xs, ws


def _mp_logistic(x):
    return 1 / (1 + mpmath.exp(-x))


def _np_logistic(x):
    from scipy.special import expit

    return expit(x)


_NUMPY_EXTRA = {"logistic": _np_logistic}
_MPMATH_EXTRA = {"logistic": _mp_logistic}


def _cholesky(C):
    try:
        return np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        w, V = np.linalg.eigh(C)
        if np.min(w) < -1e-12 * max(1.0, np.max(np.abs(w))):
            raise InvalidInputError("covariance matrix is not positive semi-definite")
        return V @ np.diag(np.sqrt(np.clip(w, 0, None)))


# --------------------------------------------------------------------------------------------
# linearity and comparison
# --------------------------------------------------------------------------------------------

def map_integrands(expr, fn) -> Expr:
    """Apply ``fn`` to the integrand of every expectation in ``expr``.

    >>> v = sympy.Symbol('v'); mu = CorrelatedGaussian([v], [[1]])
    >>> map_integrands(2 * GaussianExpectation(v, mu), lambda f: f**2)
    2*⟨v**2⟩
    """
    return sympy.sympify(expr).replace(
        lambda a: isinstance(a, GaussianExpectation),
        lambda a: GaussianExpectation(fn(a.integrand), a.measure))


def linear_expand(expr, split_sums: bool = False) -> Expr:
    """Expand every expectation in ``expr`` by linearity and expand the outer expression.

    >>> v, a = sympy.symbols('v a'); mu = CorrelatedGaussian([v], [[1]])
    >>> linear_expand(a * GaussianExpectation(v + a * v**2, mu))
    a**2*⟨v**2⟩ + a*⟨v⟩
    """
    e = sympy.sympify(expr).replace(
        lambda a: isinstance(a, GaussianExpectation),
        lambda a: a.linear_expand(split_sums=split_sums))
    return expand_outside(e)


def expand_outside(e):
    """Expand the algebra outside expectations without touching integrands.

    >>> v, a = sympy.symbols('v a'); mu = CorrelatedGaussian([v], [[1]])
    >>> expand_outside(a * (GaussianExpectation(v * (v + 1), mu) + 1))
    a*⟨v*(v + 1)⟩ + a
    """
    reps = {}
    for a in e.atoms(GaussianExpectation):
        reps[a] = sympy.Dummy("E")
    inv = {v: k for k, v in reps.items()}
    return sympy.expand(e.xreplace(reps)).xreplace(inv)


def collect_expectations(expr) -> Expr:
    """Merge ``sum_i c_i E_mu[f_i]`` (same law ``mu``) into ``E_mu[sum_i c_i f_i]``.

    Terms with random-free coefficients only; other terms are kept as they are.

    >>> v, a = sympy.symbols('v a'); mu = CorrelatedGaussian([v], [[1]])
    >>> collect_expectations(a * GaussianExpectation(v, mu) + GaussianExpectation(v**2, mu))
    ⟨a*v + v**2⟩
    """
    e = expand_outside(sympy.sympify(expr))
    groups, rest = {}, []
    for term in Add.make_args(e):
        ex = [f for f in Mul.make_args(term) if isinstance(f, GaussianExpectation)]
        if len(ex) != 1:
            rest.append(term)
            continue
        E = ex[0]
        coeff = term / E
        if coeff.has(GaussianExpectation) or E.measure.is_random(coeff):
            rest.append(term)
            continue
        groups.setdefault(E.measure, []).append(coeff * E.integrand)
    out = [GaussianExpectation(Add(*fs), mu) for mu, fs in groups.items()]
    return Add(*(out + rest))


def expectations_equal(a, b) -> bool:
    """Decide ``a == b`` for expressions built from expectations, by linearity and index algebra.

    Both sides are expanded, all expectations with the same law are merged, and each merged
    integrand is brought to :func:`asymptotics.symbolic.softmax.canonical_form` (which uses
    ``sum_k p_k = 1``); the result must vanish identically.

    >>> from asymptotics.symbolic.softmax import Softmax, class_indices, num_classes_symbol
    >>> K = num_classes_symbol(); k, c = class_indices('k c'); S = Softmax(K)
    >>> from sympy import IndexedBase
    >>> y, xi = IndexedBase('y'), IndexedBase('xi')
    >>> mu = IndexedGaussian.standard([y, xi], K, label=(c, y))
    >>> lhs = GaussianExpectation(y[c] - Sum(S.prob(k) * y[k], (k, 1, K)), mu)
    >>> rhs = GaussianExpectation(Sum(S.prob(k) * (y[c] - y[k]), (k, 1, K)), mu)
    >>> expectations_equal(lhs, rhs)
    True
    """
    diff = collect_expectations(linear_expand(sympy.sympify(a) - sympy.sympify(b)))
    diff = map_integrands(diff, canonical_form)
    diff = collect_expectations(linear_expand(diff))
    diff = map_integrands(diff, canonical_form)
    diff = diff.replace(lambda x: isinstance(x, GaussianExpectation) and x.integrand == 0,
                        lambda x: S.Zero)
    return sympy.simplify(diff) == 0
