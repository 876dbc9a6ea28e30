"""The five closure integrands as SymPy expressions, and their compiled float64 / mpmath forms.

Coordinates (spec section 1; the winning teacher class ``c`` is fixed by symmetry): for
``j = 1 .. K-1`` the student logit gaps ``d_j = z_c - z_j`` and the teacher gaps
``g_j = y_c - y_j`` (all ``g_j > 0`` on the event ``c = argmax y``).  With
``E = sum_j exp(-d_j)`` one has ``p_c = 1/(1+E)`` and ``p_j = exp(-d_j)/(1+E)``, and

* ``drift``     = sum_k p_k (y_c - y_k)          = sum_j p_j g_j
* ``restoring`` = sum_k p_k (1 - p_k)            = [E + sum_j e^{-d_j}(1 + E - e^{-d_j})]/(1+E)^2
* ``noise``     = (1 - p_c)^2 + sum_{j} p_j^2    = [E^2 + sum_j e^{-2 d_j}]/(1+E)^2
* ``eps_g``     = 1[argmax z != c]               = 1[min_j d_j < 0]
* ``loss``      = -log p_c                       = log1p(E)

The forms are free of cancellation (every term is non-negative, ``1 - p_c`` is written as
``E/(1+E)``), so they stay accurate in the boundary layer at large ``D``.  For ``K = 2`` the single
gap ``d_1`` is the binary margin ``s = sqrt2 D h + sqrt(2 Delta) zeta`` of the spec and
``g_1 = sqrt2 h``.

The numeric callables are generated from these expressions with :func:`sympy.lambdify` (with
common-subexpression elimination); no numeric formula is written twice.  All constants are exact
integers, so the mpmath callables lose no precision.  The float64 callables are generated from the
*homogenised* forms (:func:`homogenised`): with ``m = max(0, max_j -d_j)``, ``u = e^{-m}`` and
``e_j = e^{-d_j - m}`` every exponential lies in ``(0, 1]``, so they are finite for every finite
``d`` (no overflow at ``d_j < -709``).

>>> from asymptotics.symbolic.integrands import moment_integrands
>>> sorted(moment_integrands(2))
['drift', 'eps_g', 'loss', 'noise', 'restoring']
>>> f = compiled_integrands(2, "numpy")
>>> [round(float(v), 12) for v in f(0.0, 1.0)]    # d = 0: p = (1/2, 1/2)
[0.5, 0.5, 0.5, 0.0, 0.69314718056]
"""

from __future__ import annotations

from functools import cache

import sympy as sp
from sympy.codegen.cfunctions import log1p

from asymptotics.numeric.moments import MOMENT_NAMES
from asymptotics.validation import InvalidInputError, check_num_classes

BACKENDS = ("numpy", "mpmath", "flint")


def gap_symbols(K: int):
    """Return the real symbols ``(d_1..d_{K-1}), (g_1..g_{K-1})`` of the gap coordinates.

    >>> gap_symbols(3)
    ((d_1, d_2), (g_1, g_2))
    """
    K = check_num_classes(K)
    d = tuple(sp.Symbol(f"d_{j}", real=True) for j in range(1, K))
    g = tuple(sp.Symbol(f"g_{j}", real=True) for j in range(1, K))
    return d, g


def softmax_in_gaps(K: int):
    """Return ``(p_c, [p_j])`` as exact SymPy expressions of the student gaps ``d_j``.

    >>> pc, pj = softmax_in_gaps(2)
    >>> sp.simplify(pc + sum(pj))
    1
    """
    d, _ = gap_symbols(K)
    E = sp.Add(*[sp.exp(-dj) for dj in d])
    return 1 / (1 + E), [sp.exp(-dj) / (1 + E) for dj in d]


@cache
def moment_integrands(K: int) -> dict:
    """The five integrands (drift, restoring, noise, eps_g, loss) in gap coordinates.

    Exact expressions (no floats).  Their Gaussian average over ``(d, g)`` restricted to
    ``g > 0``, times ``K``, is the closure moment.

    >>> ig = moment_integrands(3)
    >>> d, g = gap_symbols(3)
    >>> ig["loss"].subs({d[0]: 0, d[1]: 0})
    log(3)
    """
    K = check_num_classes(K)
    d, g = gap_symbols(K)
    e = [sp.exp(-dj) for dj in d]
    E = sp.Add(*e)
    Z = 1 + E
    drift = sp.Add(*[ej * gj for ej, gj in zip(e, g)]) / Z
    restoring = (E + sp.Add(*[ej * (Z - ej) for ej in e])) / Z**2
    noise = (E**2 + sp.Add(*[ej**2 for ej in e])) / Z**2
    eps_g = sp.Piecewise((sp.Integer(1), sp.Or(*[dj < 0 for dj in d])), (sp.Integer(0), True))
    loss = log1p(E)
    return dict(zip(MOMENT_NAMES, (drift, restoring, noise, eps_g, loss)))


def direct_integrands(K: int) -> dict:
    """The textbook forms in the class probabilities (for checking the gap forms against).

    >>> ig, direct = moment_integrands(2), direct_integrands(2)
    >>> all(sp.simplify((ig[n] - direct[n]).rewrite(sp.log)) == 0 for n in ("drift", "noise"))
    True
    """
    K = check_num_classes(K)
    d, g = gap_symbols(K)
    pc, pj = softmax_in_gaps(K)
    p = [pc] + pj
    gaps = [sp.Integer(0)] + list(g)
    return {
        "drift": sp.Add(*[pk * gk for pk, gk in zip(p, gaps)]),
        "restoring": sp.Add(*[pk * (1 - pk) for pk in p]),
        "noise": (1 - pc) ** 2 + sp.Add(*[q**2 for q in pj]),
        "eps_g": moment_integrands(K)["eps_g"],
        "loss": -sp.log(pc),
    }


def homogenised(K: int, exprs):
    """Rewrite gap-coordinate expressions in overflow-free variables (for float64 code).

    Symbols: ``m`` (the shift ``max(0, max_j -d_j)``), ``u = e^{-m}``, ``um1 = e^{-m} - 1`` and
    ``e_j = e^{-d_j - m}``, so that ``e^{-d_j} = e_j/u``.  A rational function of the ``e^{-d_j}``
    that is homogeneous of degree 0 in ``(1, e^{-d_1}, ...)`` becomes a rational function of
    ``(u, e_j)``; ``log1p(X)`` with ``u X`` free of ``u`` becomes ``m + log1p(um1 + u X)``.  Returns
    ``(symbols, expressions)`` or raises ``ValueError`` if an expression has another form.

    >>> syms, (r,) = homogenised(2, [moment_integrands(2)["restoring"]])
    >>> syms
    (m, u, um1, e_1)
    >>> r                      # positive coefficients only: no cancellation in float64
    2*e_1*u/(e_1**2 + 2*e_1*u + u**2)
    """
    d, g = gap_symbols(K)
    m, u, um1 = sp.symbols("m u um1", positive=True)
    e = tuple(sp.Symbol(f"e_{j}", positive=True) for j in range(1, K))
    lam = sp.Symbol("lambda_", positive=True)
    to_e = {sp.exp(-dj): ej / u for dj, ej in zip(d, e)}

    def rational(expr):
        out = sp.cancel(sp.together(expr.subs(to_e)))
        scaled = out.subs({u: lam * u, **{ej: lam * ej for ej in e}}, simultaneous=True)
        if sp.simplify(scaled - out) != 0 or any(dj in out.free_symbols for dj in d):
            raise ValueError(f"not homogeneous of degree 0 in the softmax weights: {expr}")
        num, den = sp.fraction(out)
        gens = (u,) + e
        if any(c.is_Number and c < 0 for part in (num, den) for c in sp.Poly(part, *gens).coeffs()):
            raise ValueError(f"homogenised form has negative coefficients (cancellation): {expr}")
        return out

    result = []
    for expr in exprs:
        expr = sp.sympify(expr)
        if expr.is_Number:
            result.append(expr)
            continue
        if isinstance(expr, log1p):
            inner = sp.cancel(u * sp.together(expr.args[0].subs(to_e)))
            if u in inner.free_symbols or any(dj in inner.free_symbols for dj in d):
                raise ValueError(f"log1p argument has an unsupported form: {expr}")
            result.append(m + log1p(um1 + inner))
            continue
        if isinstance(expr, sp.Piecewise):
            result.append(expr)  # indicator of the gaps: evaluated on d directly
            continue
        result.append(rational(expr))
    return (m, u, um1) + e, result


def _homogenised_numpy(K: int, exprs):
    """float64 callable ``f(d_1..d_{K-1}, *extra)`` of ``exprs`` through :func:`homogenised`.

    Piecewise entries (the error indicator) stay functions of ``d``; the others use ``(m, u, um1,
    e_j)``.  Extra positional arguments (the teacher gaps) are passed through unchanged.
    """
    import numpy as np

    d, g = gap_symbols(K)
    syms, hexprs = homogenised(K, exprs)
    f = sp.lambdify(syms + d + g, hexprs, modules="numpy", cse=True)

    def evaluate(*args):
        args = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
        dd = args[: K - 1]
        m = np.maximum(0.0, np.max([-x for x in dd], axis=0))
        with np.errstate(under="ignore"):
            ee = [np.exp(-x - m) for x in dd]
            u = np.exp(-m)
        um1 = np.expm1(-m)
        rest = list(args[K - 1 :]) + [np.zeros_like(m)] * (2 * (K - 1) - len(args))
        return f(m, u, um1, *ee, *dd, *rest[: K - 1])

    return evaluate


def _modules(backend: str):
    """lambdify namespaces; ``"flint"`` maps the functions onto python-flint ``arb`` methods."""
    if backend != "flint":
        return backend
    return [{"exp": lambda x: x.exp(), "log1p": lambda x: x.log1p(), "log": lambda x: x.log()}, "mpmath"]


@cache
def compiled_integrands(K: int, backend: str = "numpy"):
    """Compile the five integrands into one callable ``f(d_1..d_{K-1}, g_1..g_{K-1})``.

    Returns a tuple in the order of :data:`MOMENT_NAMES`.  ``backend="numpy"`` accepts float64
    arrays (broadcasting; accurate to a few ulp of each term, finite for every finite ``d``: the
    homogenised forms of :func:`homogenised`); ``backend="mpmath"`` accepts mpf scalars and is exact to the working precision;
    ``backend="flint"`` accepts python-flint ``arb`` balls (optional dependency, ~5x faster).

    >>> import mpmath
    >>> f = compiled_integrands(3, "mpmath")
    >>> mpmath.mp.dps = 30
    >>> f(mpmath.mpf(0), mpmath.mpf(0), 1, 1)[4]
    mpf('1.09861228866810969139524523692246')
    >>> mpmath.mp.dps = 15
    """
    K = check_num_classes(K)
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    d, g = gap_symbols(K)
    exprs = [moment_integrands(K)[n] for n in MOMENT_NAMES]
    if backend == "numpy":
        import numpy as np

        f = _homogenised_numpy(K, exprs)

        def numpy_integrands(*args, _f=f):
            args = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
            return tuple(np.broadcast_to(np.asarray(v, dtype=float), args[0].shape) for v in _f(*args))

        return numpy_integrands
    f = sp.lambdify(d + g, exprs, modules=_modules(backend), cse=True)
    return lambda *args, _f=f: tuple(_f(*args))


@cache
def gap_split(K: int) -> dict:
    """Split each integrand as ``base(d) + sum_j coeff_j(d) g_j`` (all five are affine in ``g``).

    Returns ``{name: (base, (coeff_1, ..., coeff_{K-1}))}``; raises if an integrand were not
    affine in the teacher gaps (then the teacher average could not be done analytically).

    >>> base, coeffs = gap_split(2)["drift"]
    >>> base, coeffs
    (0, (exp(-d_1)/(1 + exp(-d_1)),))
    """
    K = check_num_classes(K)
    d, g = gap_symbols(K)
    out = {}
    for name, expr in moment_integrands(K).items():
        base = expr.subs({gj: 0 for gj in g})
        coeffs = tuple(sp.diff(expr, gj) for gj in g)
        if any(sp.diff(c, gj) != 0 for c in coeffs for gj in g):
            raise InvalidInputError(f"integrand {name} is not affine in the teacher gaps")
        out[name] = (base, coeffs)
    return out


@cache
def compiled_gap_split(K: int, backend: str = "numpy"):
    """Compile :func:`gap_split`: ``f(d_1..d_{K-1}) -> (bases, drift_coeffs)``.

    ``bases`` is a tuple of the five ``g``-independent parts (order :data:`MOMENT_NAMES`),
    ``drift_coeffs`` the ``K-1`` coefficients of ``g_j`` in the drift (the only integrand that
    depends on the teacher gaps).  Same accuracy as :func:`compiled_integrands`.

    >>> f = compiled_gap_split(2)
    >>> bases, coeffs = f(0.0)
    >>> float(bases[1]), float(coeffs[0])
    (0.5, 0.5)
    """
    K = check_num_classes(K)
    if backend not in BACKENDS:
        raise InvalidInputError(f"backend must be one of {BACKENDS}, got {backend!r}")
    d, _ = gap_symbols(K)
    split = gap_split(K)
    for name in MOMENT_NAMES:
        if name != "drift" and any(c != 0 for c in split[name][1]):
            raise InvalidInputError(f"integrand {name} depends on the teacher gaps")
    exprs = [split[n][0] for n in MOMENT_NAMES] + list(split["drift"][1])
    n = len(MOMENT_NAMES)

    if backend == "numpy":
        import numpy as np

        f = _homogenised_numpy(K, exprs)

        def numpy_split(*args, _f=f):
            args = np.broadcast_arrays(*[np.asarray(a, dtype=float) for a in args])
            vals = _f(*args)
            shape = args[0].shape
            vals = [np.broadcast_to(np.asarray(v, dtype=float), shape) for v in vals]
            return tuple(vals[:n]), tuple(vals[n:])

        return numpy_split
    f = sp.lambdify(d, exprs, modules=_modules(backend), cse=True)

    def mpmath_split(*args, _f=f):
        vals = _f(*args)
        return tuple(vals[:n]), tuple(vals[n:])

    return mpmath_split
