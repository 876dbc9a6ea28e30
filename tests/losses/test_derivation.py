"""The closure derived for any loss: cross-entropy reproduces the original derivation exactly, and every
loss's derived integrands equal the direct differentiation used by the numeric layer."""

import json
import random
from pathlib import Path

import mpmath
import pytest
import sympy

from asymptotics.losses import registered_losses
from asymptotics.losses.derivation import (
    derive_loss_closure,
    explicit_moments,
    loss_closure_latex,
    loss_flow_latex,
)
from asymptotics.losses.integrands import loss_integrands
from asymptotics.symbolic.closure import closure_symbols, derive_closure, flow_latex
from asymptotics.symbolic.softmax import num_classes_symbol
from asymptotics.validation import InvalidInputError

REFERENCE = json.loads((Path(__file__).parent / "data" / "reference_cross_entropy.json").read_text())


@pytest.mark.parametrize("K", [None, 2, 3])
def test_cross_entropy_closure_is_identical_to_the_original_derivation(K):
    generic = derive_loss_closure("cross_entropy", K)
    original = derive_closure(num_classes_symbol() if K is None else K, binary=False)
    key = str(num_classes_symbol()) if K is None else str(K)
    for name in ("D", "Delta"):
        assert generic.flow[name] == original.flow[name]
        assert sympy.srepr(generic.flow[name]) == REFERENCE["symbolic"][key]["flow"][name]
    for name in ("drift", "restoring", "noise", "eps_g"):
        assert generic.moments()[name] == original.moments()[name]
        assert sympy.srepr(generic.moments()[name]) == REFERENCE["symbolic"][key]["moments"][name]
    assert generic.observables["cross_entropy"] == original.observables["loss"]
    assert generic.observables["loss"] == original.observables["loss"]


def test_flow_latex_of_cross_entropy_matches():
    # same equations (the generic printer does not factor out eta/(K-1))
    for K in (2, 3):
        text = loss_flow_latex("cross_entropy", K)
        assert r"\left\langle \sum_{k=1}^{%d} \left(y_{c} - y_{k}\right) p_{k} \right\rangle" % K in text
        assert (
            r"\left\langle \sum_{k=1}^{%d} \left(y_{c} - y_{k}\right) p_{k} \right\rangle" % K
            in flow_latex(K)
        )


def _gap_substitution(K):
    s = closure_symbols(K)
    d = sympy.symbols(" ".join(f"d_{j}" for j in range(1, K)), real=True)
    d = d if isinstance(d, tuple) else (d,)
    g = sympy.symbols(" ".join(f"g_{j}" for j in range(1, K)), real=True)
    g = g if isinstance(g, tuple) else (g,)
    sub = {
        s.z[1]: 0,
        **{s.z[j + 1]: -d[j - 1] for j in range(1, K)},
        **{s.y[j + 1]: s.y[1] - g[j - 1] for j in range(1, K)},
    }
    return s, d, g, sub


@pytest.mark.parametrize(
    "loss", [L for L in registered_losses() if L.name != "squared_logits"], ids=lambda L: L.name
)
def test_derived_integrands_equal_direct_differentiation(loss):
    """Stein's lemma (derivation) against d/dd_j of the gap form (numeric layer), K = 2, 3, at 30 digits."""
    rng = random.Random(11)
    for K in (2, 3):
        derived = explicit_moments(loss, K)
        direct = loss_integrands(loss, K)
        s, d, g, sub = _gap_substitution(K)
        for name in ("drift", "restoring", "noise", "loss", "cross_entropy"):
            fa = sympy.lambdify(d + g + (s.y[1],), derived[name].xreplace(sub), "mpmath")
            fb = sympy.lambdify(d + g, direct[name], "mpmath")
            with mpmath.workdps(30):
                for _ in range(4):
                    pt = [mpmath.mpf(rng.uniform(-3, 3)) for _ in d] + [
                        mpmath.mpf(rng.uniform(0, 2)) for _ in g
                    ]
                    assert abs(fa(*pt, mpmath.mpf("0.7")) - fb(*pt)) < mpmath.mpf(10) ** -25, (K, name)


def test_restoring_is_the_trace_of_the_loss_hessian():
    # for focal loss (symbolic K) the restoring term contains no student noise and is not p_k(1 - p_k)
    cl = derive_loss_closure("focal:gamma=2")
    s = closure_symbols(num_classes_symbol())
    assert not cl.flow_parts["restoring"].integrand.has(s.xi)
    assert cl.flow_parts["restoring"] != derive_loss_closure("cross_entropy").flow_parts["restoring"]


def test_non_shift_invariant_loss_is_refused_with_the_sum_of_the_error_signal():
    with pytest.raises(InvalidInputError, match=r"sum_k e_k = .* does not vanish"):
        derive_loss_closure("squared_logits")


def test_latex_of_every_step():
    text = loss_closure_latex("brier", 3)
    assert text.count(r"\paragraph") == 4 and r"\begin{align*}" in text
    assert "Step 2: shift invariance" in text
