"""Stein's lemma as a rewrite rule on unevaluated Gaussian expectations.

For a centred Gaussian vector ``v`` with covariance ``C`` and a smooth ``f``::

    E[v_i f(v)] = sum_j C_ij E[ d f / d v_j ]

:func:`stein_integrand` applies the rule to every term of an integrand that carries a Gaussian
component as a factor (through sums and with powers ``v_i^n f = v_i (v_i^{n-1} f)``);
:func:`stein_rewrite` does it inside every :class:`GaussianExpectation` of an expression. The
derivative :func:`total_derivative` follows the dependence through the logits and the softmax,
``d p_k / d z_l = p_k (delta_kl - p_l)``, when the law carries a logit representation
``z_k = rep(y, xi)``.

The rule needs ``f`` differentiable in ``v``: the label ``c = argmax_k y_k`` is not, so Stein's
lemma in ``y`` is refused when the integrand involves the label (or the law is conditioned on it).

>>> v = sympy.Symbol('v', real=True)
>>> from asymptotics.symbolic.expectation import CorrelatedGaussian, GaussianExpectation
>>> E = GaussianExpectation(v * sympy.tanh(v), CorrelatedGaussian([v], [[1]]))
>>> stein_rewrite(E)
⟨1 - tanh(v)**2⟩
"""

from __future__ import annotations

import sympy
from sympy import Add, Indexed, Mul, S, Sum

from asymptotics.symbolic.expectation import (
    CorrelatedGaussian,
    GaussianExpectation,
    IndexedGaussian,
)
from asymptotics.symbolic.softmax import collapse_sums
from asymptotics.validation import InvalidInputError

__all__ = ["total_derivative", "stein_integrand", "stein_rewrite"]


def total_derivative(f, v, measure) -> sympy.Expr:
    """``d f / d v`` for a Gaussian component ``v``, including the path through the logits.

    With the logit representation ``z_l = rep_l`` of an :class:`IndexedGaussian` law,
    ``d f/d v = partial f/partial v + sum_l (partial f/partial z_l)(d rep_l/d v)``, and the softmax
    atoms differentiate as ``d p_k/d z_l = p_k (delta_kl - p_l)``.

    >>> from sympy import IndexedBase, Lambda, sqrt
    >>> from asymptotics.symbolic.softmax import Softmax, class_indices, num_classes_symbol
    >>> K = num_classes_symbol(); k, l = class_indices('k l'); S = Softmax(K)
    >>> y, xi = IndexedBase('y'), IndexedBase('xi'); D, Dl = sympy.symbols('D Delta', positive=True)
    >>> mu = IndexedGaussian.standard([y, xi], K, logits=(S.logits, Lambda(l, D * y[l] + sqrt(Dl) * xi[l])))
    >>> sympy.factor_terms(total_derivative(S.prob(k), xi[k], mu))
    sqrt(Delta)*(1 - p[k])*p[k]
    """
    out = sympy.diff(f, v)
    logits = getattr(measure, "logits", ())
    if logits:
        z, rep = logits
        l = sympy.Dummy("l", integer=True, positive=True)
        dz = sympy.diff(rep(l), v)
        if dz != 0 and (f.has(z) or _has_softmax(f)):
            through = Sum(sympy.diff(f, z[l]) * dz, (l, 1, measure.dim))
            out = out + collapse_sums(through)
    return collapse_sums(out)


def _has_softmax(f):
    from asymptotics.symbolic.softmax import SoftmaxProbability

    return f.has(SoftmaxProbability)


def _is_component(a, measure, variables):
    if isinstance(measure, IndexedGaussian):
        return isinstance(a, Indexed) and a.base in variables
    return a in variables


def _partners(v, measure):
    """Pairs ``(Cov(v, w), w)`` over the components ``w`` correlated with ``v`` (sum pending)."""
    if isinstance(measure, IndexedGaussian):
        out = []
        for b in measure.bases:
            j = sympy.Dummy("j", integer=True, positive=True)
            cov = measure.covariance(v, b[j])
            if cov != 0:
                out.append((cov, b[j], j))
        return out
    return [(measure.covariance(v, w), w, None) for w in measure.variables if measure.covariance(v, w) != 0]


def _check_smooth(v, rest, measure):
    if isinstance(measure, IndexedGaussian) and measure.label:
        c, ybase = measure.label
        if v.base == ybase and (rest.has(c) or v.has(c) or measure.conditioned != 0):
            raise InvalidInputError(
                f"Stein's lemma in {ybase} is not applicable: the label {c} = argmax {ybase} "
                "is not differentiable"
            )
    if isinstance(measure, CorrelatedGaussian) and measure.condition is not S.true:
        for w in measure.condition.free_symbols:
            if measure.covariance(v, w) != 0:
                raise InvalidInputError(
                    f"Stein's lemma in {v} is not applicable: the conditioning event depends on it"
                )


def _stein_term(term, measure, variables):
    factors = Mul.make_args(term)
    for idx, fac in enumerate(factors):
        base, expo = fac.as_base_exp()
        if _is_component(base, measure, variables) and expo.is_Integer and expo > 0:
            rest = Mul(*(factors[:idx] + factors[idx + 1 :])) * base ** (expo - 1)
            _check_smooth(base, rest, measure)
            total = S.Zero
            for cov, w, j in _partners(base, measure):
                piece = cov * total_derivative(rest, w, measure)
                if j is not None:
                    piece = collapse_sums(Sum(piece, (j, 1, measure.dim)))
                total += piece
            return total
    # no Gaussian factor at top level: look inside a class sum with constant prefactor
    sums = [f for f in factors if isinstance(f, Sum)]
    if len(sums) == 1 and not measure.is_random(Mul(*[f for f in factors if f is not sums[0]])):
        s = sums[0]
        const = Mul(*[f for f in factors if f is not s])
        return const * Sum(stein_integrand(s.function, measure, variables), *s.limits)
    return term


def stein_integrand(f, measure, variables=None) -> sympy.Expr:
    """Rewrite an integrand with Stein's lemma; equal to ``f`` in expectation under ``measure``.

    ``variables``: the Gaussian vectors (IndexedBases) or scalars to integrate by parts in;
    default all of them except the vector that defines the label. Terms free of those variables
    are returned unchanged; a term is rewritten once (apply again for higher moments).

    >>> v, w = sympy.symbols('v w', real=True)
    >>> mu = CorrelatedGaussian([v, w], [[1, sympy.Rational(1, 2)], [sympy.Rational(1, 2), 2]])
    >>> stein_integrand(v * sympy.sin(v + w), mu, [v])
    3*cos(v + w)/2
    """
    if variables is None:
        if isinstance(measure, IndexedGaussian):
            label_base = measure.label[1] if measure.label else None
            variables = [b for b in measure.bases if b != label_base]
        else:
            variables = list(measure.variables)
    variables = list(variables)
    out = [_stein_term(t, measure, variables) for t in Add.make_args(sympy.expand(f, deep=False))]
    return Add(*out)


def stein_rewrite(expr, variables=None) -> sympy.Expr:
    """Apply :func:`stein_integrand` inside every expectation of ``expr``.

    >>> v = sympy.Symbol('v', real=True)
    >>> E = GaussianExpectation(v**3, CorrelatedGaussian([v], [[2]]))
    >>> stein_rewrite(E)
    ⟨4*v⟩
    """
    return sympy.sympify(expr).replace(
        lambda a: isinstance(a, GaussianExpectation),
        lambda a: GaussianExpectation(stein_integrand(a.integrand, a.measure, variables), a.measure),
    )
