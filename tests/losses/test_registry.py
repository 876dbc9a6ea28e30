"""Loss objects: parsing, parameters, user expressions, and the symbolic facts the engine relies on."""

import pytest
import sympy

from asymptotics.losses import get_loss, loss_from_expression, loss_symbols, registered_losses
from asymptotics.validation import InvalidInputError


def test_registered_names_round_trip():
    for loss in registered_losses():
        assert get_loss(loss.name) == loss
        assert get_loss(loss) is loss
    assert get_loss("cross_entropy:T=1").name == "cross_entropy"
    assert get_loss("label_smoothing").name == "label_smoothing:eps=0.1"
    assert get_loss("focal:gamma=0.5").param_dict["gamma"] == sympy.Rational(1, 2)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("hinge", "unknown loss 'hinge'"),
        ("label_smoothing:eps=1", "eps must lie in [0, 1)"),
        ("label_smoothing:eps=-0.1", "eps must lie in [0, 1)"),
        ("focal:gamma=-1", "gamma must be >= 0"),
        ("cross_entropy:T=0", "T must be > 0"),
        ("cross_entropy:T=-2", "T must be > 0"),
        ("cross_entropy:T=abc", "must be a finite number"),
        ("focal:beta=2", "bad parameter"),
        ("focal:gamma=1,gamma=2", "given twice"),
        ("brier:x=1", "allowed: none"),
        ("", "a loss must be a name"),
    ],
)
def test_bad_loss_specs_are_refused(spec, message):
    with pytest.raises(
        InvalidInputError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")
    ):
        get_loss(spec)


@pytest.mark.parametrize(
    "expr,message",
    [
        ("-log(p[c]) + x", "contains x"),
        ("y[c]**2", "contains y"),
        ("-log(q[c])", "contains q"),
        ("3", "does not depend on the logits"),
        ("-log(p[c]) + sin(z[c])", "function sin"),
        ("-log(p[c]", "cannot read"),
    ],
)
def test_bad_user_expressions_are_refused(expr, message):
    with pytest.raises(InvalidInputError, match=message):
        loss_from_expression(expr)


def test_user_loss_from_sympy_and_string_agree_with_registry():
    ns = loss_symbols()
    p, c = ns["p"], ns["c"]
    focal = loss_from_expression(-((1 - p[c]) ** 2) * sympy.log(p[c]), name="my_focal")
    text = loss_from_expression("-(1 - p[c])**2*log(p[c])")
    ref = get_loss("focal:gamma=2")
    for K in (2, 3):
        for L in (focal, text):
            assert sympy.simplify(L.gap_form(K) - ref.gap_form(K)) == 0
    assert focal.family == "user" and focal.is_shift_invariant


def test_shift_invariance_is_decided_from_the_expression():
    for loss in registered_losses():
        info = loss.shift_invariance(full=True)
        assert info["invariant"] == (loss.name != "squared_logits"), loss.name
    info = get_loss("squared_logits").shift_invariance()
    z = sympy.IndexedBase("z", real=True)
    assert sympy.expand(info["sum_gradient"][2] - (z[1] + z[2] - 1)) == 0
    with pytest.raises(InvalidInputError, match="not shift invariant"):
        get_loss("squared_logits").require_centred()
    # a user loss that moves the mean logit
    with pytest.raises(InvalidInputError, match="not shift invariant"):
        loss_from_expression("-log(p[c]) + z[c]").require_centred()


def test_class_symmetry_is_checked():
    bad = loss_from_expression("-log(p[1])")  # ignores the label
    assert not bad.class_symmetry()["symmetric"]
    with pytest.raises(InvalidInputError, match="relabelling"):
        bad.require_centred()
    assert get_loss("brier").class_symmetry()["symmetric"]


def test_boundary_layer_classification():
    decays = {L.name: L.bulk_decay() for L in registered_losses() if L.is_shift_invariant}
    assert decays["cross_entropy"] == (1, 1)
    assert decays["cross_entropy:T=2"] == (sympy.Rational(1, 2), 1)
    assert decays["focal:gamma=2"] == (3, 1)  # (1 - p_c)^2 (-log p_c) ~ e^{-3 s}
    assert decays["brier"] == (2, 2)  # 2 sigma(-s)^2
    assert decays["margin:m=1"] == (1, sympy.E)
    assert decays["label_smoothing:eps=0.1"] is None  # the loss grows like eps s/2
    assert all(get_loss(n).reduces_to_binary(3) for n in decays if n != "label_smoothing:eps=0.1")
    assert not get_loss("label_smoothing:eps=0.1").reduces_to_binary(3)


def test_local_binary_losses():
    s = sympy.Symbol("s", real=True)
    sig = 1 / (1 + sympy.exp(-s))
    expected = {
        "cross_entropy": sympy.log(1 + sympy.exp(-s)),
        "brier": 2 * (1 - sig) ** 2,
        "margin:m=1": sympy.log(1 + sympy.exp(1 - s)),
        "focal:gamma=2": (1 - sig) ** 2 * sympy.log(1 + sympy.exp(-s)),
    }
    for name, ref in expected.items():
        lam = get_loss(name).local_binary()
        diff = sympy.lambdify(s, lam - ref)
        assert all(abs(diff(x)) < 1e-12 for x in (-3.0, -0.5, 0.0, 1.2, 4.0)), name
