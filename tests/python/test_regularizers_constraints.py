"""Regularizers and constraints: values against numpy, gradients, names and configs."""

import numpy as np
import pytest

import ember
from ember import constraints, regularizers

W = np.array([[3.0, -1.0], [4.0, 2.0], [0.0, -2.0]], dtype=np.float32)  # column norms 5 and 3
EPS = 1e-7


def val(x):
    return np.asarray(x)


def test_penalties_match_numpy():
    x = np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)
    assert float(val(regularizers.L1(0.3)(x))) == pytest.approx(0.3 * np.abs(x).sum(), rel=1e-5)
    assert float(val(regularizers.L2(0.2)(x))) == pytest.approx(0.2 * np.square(x).sum(), rel=1e-5)
    both = regularizers.L1L2(l1=0.1, l2=0.4)(x)
    assert float(val(both)) == pytest.approx(0.1 * np.abs(x).sum() + 0.4 * np.square(x).sum(), rel=1e-5)
    # Keras's documented example
    assert float(val(regularizers.L2(2.0)(np.ones((5, 5))))) == pytest.approx(50.0)
    # defaults: L1() and L2() are 0.01, L1L2() is zero, the "l1_l2" string is 0.01 each
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert float(val(regularizers.L1L2()(x))) == 0.0
    r = regularizers.get("l1_l2")
    assert (r.l1, r.l2) == (0.01, 0.01)


def test_penalty_gradient_through_gradient_tape():
    w = ember.Variable(W)
    with ember.GradientTape() as tape:
        loss = regularizers.L1L2(l1=0.5, l2=0.25)(w)
    g = val(tape.gradient(loss, w))
    np.testing.assert_allclose(g, 0.5 * np.sign(W) + 0.5 * W, rtol=1e-6)


def test_regularizer_names_configs_and_errors():
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert isinstance(regularizers.get("L2"), regularizers.L2)
    assert isinstance(regularizers.get("L1L2"), regularizers.L1L2)
    assert regularizers.get(None) is None
    r = regularizers.L1L2(l1=0.2, l2=0.3)
    assert r.get_config() == {"l1": 0.2, "l2": 0.3}
    again = regularizers.deserialize(regularizers.serialize(r))
    assert isinstance(again, regularizers.L1L2) and again.get_config() == r.get_config()

    def custom(x):
        return 0.0

    assert regularizers.get(custom) is custom and regularizers.native(custom) is None
    assert regularizers.native(r) is not None
    for bad in (-0.1, float("nan"), "x"):
        with pytest.raises(ValueError, match="l2"):
            regularizers.L2(bad)
    with pytest.raises(ValueError, match="l3"):
        regularizers.get("l3")


def norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def test_constraints_match_keras_formulas():
    n = norms(W, 0)
    np.testing.assert_allclose(
        val(constraints.MaxNorm(4.0)(W)), W * np.clip(n, 0, 4.0) / (EPS + n), rtol=1e-6
    )
    np.testing.assert_allclose(val(constraints.UnitNorm()(W)), W / (EPS + n), rtol=1e-6)
    mm = constraints.MinMaxNorm(min_value=3.5, max_value=4.0, rate=0.5)
    np.testing.assert_allclose(val(mm(W)), W * (0.5 * np.clip(n, 3.5, 4.0) + 0.5 * n) / (EPS + n), rtol=1e-6)
    np.testing.assert_allclose(val(constraints.NonNeg()(W)), np.maximum(W, 0))
    n1 = norms(W, 1)
    np.testing.assert_allclose(
        val(constraints.MaxNorm(2.0, axis=1)(W)), W * np.clip(n1, 0, 2) / (EPS + n1), rtol=1e-6
    )
    nall = norms(W, (0, 1))
    np.testing.assert_allclose(val(constraints.UnitNorm(axis=[0, 1])(W)), W / (EPS + nall), rtol=1e-6)
    # on a variable, as an optimizer uses it
    v = ember.Variable(W)
    v.assign(constraints.max_norm(1.0)(v))
    np.testing.assert_allclose(norms(v.numpy(), 0), [[1.0, 1.0]], rtol=1e-5)
    with pytest.raises(ValueError, match="MaxNorm"):
        constraints.MaxNorm(axis=3)(W)


def test_constraint_names_configs():
    for name, cls in [
        ("max_norm", constraints.MaxNorm),
        ("MaxNorm", constraints.MaxNorm),
        ("non_neg", constraints.NonNeg),
        ("unit_norm", constraints.UnitNorm),
        ("min_max_norm", constraints.MinMaxNorm),
    ]:
        assert isinstance(constraints.get(name), cls)
    c = constraints.MinMaxNorm(0.5, 2.0, rate=0.3, axis=1)
    assert c.get_config() == {"min_value": 0.5, "max_value": 2.0, "rate": 0.3, "axis": 1}
    again = constraints.deserialize(constraints.serialize(c))
    np.testing.assert_allclose(val(again(W)), val(c(W)))
    assert constraints.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert constraints.get(None) is None
    with pytest.raises(ValueError, match="maxnorm"):
        constraints.get("maxnorm")
