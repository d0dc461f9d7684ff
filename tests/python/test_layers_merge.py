"""Merge layers against numpy: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate and Dot, their functional forms, gradients, symbolic shapes and errors."""
import numpy as np
import pytest

import ember as em
from ember import layers

RNG = np.random.default_rng(0)


def arr(*shape):
    return RNG.normal(size=shape).astype("float32")


ELEMENTWISE = [
    (layers.Add, layers.add, lambda xs: sum(xs)),
    (layers.Multiply, layers.multiply, lambda xs: np.prod(np.broadcast_arrays(*xs), axis=0)),
    (layers.Average, layers.average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, layers.maximum, lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs))),
    (layers.Minimum, layers.minimum, lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs))),
]


@pytest.mark.parametrize("cls,fn,ref", ELEMENTWISE)
def test_elementwise_merges_match_numpy(cls, fn, ref):
    xs = [arr(3, 4), arr(3, 4), arr(3, 4)]
    np.testing.assert_allclose(np.asarray(cls()(xs)), ref(xs), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(np.asarray(fn(xs[:2])), ref(xs[:2]), rtol=1e-6, atol=1e-6)
    # broadcasting over size-1 axes, and a lower-rank input gets its axes after the batch axis
    ys = [arr(3, 2, 4), arr(3, 1, 4), arr(3, 4)]
    want = ref([ys[0], ys[1], ys[2][:, None, :]])
    np.testing.assert_allclose(np.asarray(cls()(ys)), want, rtol=1e-6, atol=1e-6)


def test_subtract_is_the_difference_of_two():
    a, b = arr(5, 3), arr(5, 3)
    np.testing.assert_allclose(np.asarray(layers.Subtract()([a, b])), a - b, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(layers.subtract([a, b])), a - b, rtol=1e-6)
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([a, b, a])
    with pytest.raises(ValueError, match="exactly 2"):
        layers.Subtract()([em.Input((3,)), em.Input((3,)), em.Input((3,))])


@pytest.mark.parametrize("axis", [-1, 1, 2, 0])
def test_concatenate_matches_numpy_on_any_axis(axis):
    shapes = [[2, 3, 4], [2, 3, 4]]
    for s in shapes[1:]:
        s[axis] = 5
    xs = [arr(*s) for s in shapes]
    np.testing.assert_array_equal(np.asarray(layers.Concatenate(axis=axis)(xs)), np.concatenate(xs, axis=axis))
    np.testing.assert_array_equal(np.asarray(layers.concatenate(xs, axis=axis)), np.concatenate(xs, axis=axis))


def batch_dot(x, y, a0, a1):
    """Keras's batch_dot in numpy: contract x's axis a0 with y's axis a1, per sample."""
    out = np.stack([np.tensordot(x[i], y[i], axes=(a0 - 1, a1 - 1)) for i in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


@pytest.mark.parametrize(
    "sx,sy,axes",
    [((4, 3), (4, 3), 1), ((4, 3), (4, 3), -1), ((4, 3, 5), (4, 6, 5), (2, 2)), ((4, 5), (4, 3, 5), (1, 2)),
     ((4, 5, 3), (4, 5), (1, 1)), ((4, 2, 3, 5), (4, 5, 2), (-1, 1))],
)
def test_dot_matches_batch_dot(sx, sy, axes):
    x, y = arr(*sx), arr(*sy)
    pair = (axes, axes) if isinstance(axes, int) else axes
    a0, a1 = pair[0] % x.ndim, pair[1] % y.ndim
    np.testing.assert_allclose(np.asarray(layers.Dot(axes=axes)([x, y])), batch_dot(x, y, a0, a1), rtol=1e-5, atol=1e-5)
    xn = x / np.maximum(np.linalg.norm(x, axis=a0, keepdims=True), 1e-7)
    yn = y / np.maximum(np.linalg.norm(y, axis=a1, keepdims=True), 1e-7)
    got = layers.dot([x, y], axes=axes, normalize=True)
    np.testing.assert_allclose(np.asarray(got), batch_dot(xn, yn, a0, a1), rtol=1e-5, atol=1e-5)
    sym = layers.Dot(axes=axes)([em.Input(sx[1:]), em.Input(sy[1:])])
    assert sym.shape == (None,) + batch_dot(x, y, a0, a1).shape[1:]


def test_dot_of_vectors_is_cosine_with_normalize():
    x, y = arr(6, 8), arr(6, 8)
    cos = (x * y).sum(1) / np.linalg.norm(x, axis=1) / np.linalg.norm(y, axis=1)
    np.testing.assert_allclose(np.asarray(layers.Dot(axes=1, normalize=True)([x, y]))[:, 0], cos, rtol=1e-5)


def test_gradients_match_numpy():
    a0, b0, c0 = arr(3, 4), arr(3, 4), arr(3, 4)
    a, b, c = em.Variable(a0), em.Variable(b0), em.Variable(c0)
    w = arr(3, 4)
    cases = [
        (layers.Add(), [1, 1, 1]),
        (layers.Average(), [1 / 3] * 3),
        (layers.Multiply(), [b0 * c0, a0 * c0, a0 * b0]),
        (layers.Maximum(), [(a0 >= b0) & (a0 >= c0), (b0 > a0) & (b0 >= c0), (c0 > a0) & (c0 > b0)]),
    ]
    for layer, dy in cases:
        with em.GradientTape() as tape:
            loss = em.ops.sum(layer([a, b, c]) * w)
        grads = tape.gradient(loss, [a, b, c])
        for g, d in zip(grads, dy):
            np.testing.assert_allclose(np.asarray(g), w * np.asarray(d, dtype="float32"), rtol=1e-5, err_msg=layer.name)
    # Dot on (3, 4) . (3, 4): d/da sum(w_i * <a_i, b_i>) = w_i * b_i
    wd = arr(3, 1)
    with em.GradientTape() as tape:
        loss = em.ops.sum(layers.Dot(axes=1)([a, b]) * wd)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(np.asarray(ga), wd * b0, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gb), wd * a0, rtol=1e-5)
    # Concatenate routes each slice of the gradient back to its input
    wc = arr(3, 8)
    with em.GradientTape() as tape:
        loss = em.ops.sum(layers.Concatenate()([a, b]) * wc)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_array_equal(np.asarray(ga), wc[:, :4])
    np.testing.assert_array_equal(np.asarray(gb), wc[:, 4:])


def test_symbolic_shapes_follow_keras():
    a, b = em.Input((None, 4)), em.Input((1, 4))
    assert layers.Add()([a, b]).shape == (None, None, 4)
    assert layers.Multiply()([em.Input((3, 4)), em.Input((4,))]).shape == (None, 3, 4)
    assert layers.Concatenate(axis=1)([em.Input((2, 4)), em.Input((3, 4))]).shape == (None, 5, 4)
    assert layers.Concatenate(axis=1)([a, em.Input((3, 4))]).shape == (None, None, 4)
    assert layers.Dot(axes=(1, 1))([em.Input((3,)), em.Input((3,))]).shape == (None, 1)
    assert layers.Add()([a, b]).dtype == "float32"


def test_merge_model_runs_in_the_core_graph_and_matches_eager():
    a, b = em.Input((4,)), em.Input((4,))
    h = layers.Dense(6, name="h")(a)
    g = layers.Dense(6, name="g")(b)
    outs = [layers.add([h, g]), layers.subtract([h, g]), layers.multiply([h, g]), layers.average([h, g]),
            layers.maximum([h, g]), layers.minimum([h, g]), layers.concatenate([h, g]), layers.dot([h, g], axes=1)]
    model = em.Model([a, b], outs)
    assert model._native_graph() is not None
    x = [arr(7, 4), arr(7, 4)]
    graph = model.predict(x, verbose=0)
    eager = model(x)
    for p, e in zip(graph, eager):
        np.testing.assert_allclose(p, np.asarray(e), rtol=1e-6)
    hv, gv = (np.asarray(model.get_layer(n)(v)) for n, v in (("h", x[0]), ("g", x[1])))
    np.testing.assert_allclose(graph[0], hv + gv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(graph[7][:, 0], (hv * gv).sum(1), rtol=1e-5, atol=1e-5)


def test_config_round_trip():
    for layer in [layers.Add(name="s"), layers.Concatenate(axis=1), layers.Dot(axes=(1, 2), normalize=True)]:
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    assert layers.Dot(axes=(1, 2)).get_config()["axes"] == (1, 2)
    assert layers.Concatenate(axis=2).get_config()["axis"] == 2


def test_incompatible_shapes_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'bad_add'.*incompatible shapes.*\(3,\) and \(4,\)"):
        layers.Add(name="bad_add")([em.Input((3,)), em.Input((4,))])
    with pytest.raises(ValueError, match=r"bad_add2.*incompatible.*\[2, 3\]"):
        layers.Add(name="bad_add2")([arr(2, 3), arr(2, 4)])
    with pytest.raises(ValueError, match=r"'cat'.*matching shapes.*\(None, 3, 4\), \(None, 2, 5\)"):
        layers.Concatenate(name="cat")([em.Input((3, 4)), em.Input((2, 5))])
    with pytest.raises(ValueError, match=r"cat2.*matching shapes.*\[2, 3\], \[2, 4, 1\]"):
        layers.Concatenate(name="cat2")([arr(2, 3), arr(2, 4, 1)])
    with pytest.raises(ValueError, match=r"'dd'.*axis values 3 \(at axis 1\) != 5.*\(None, 3\), \(None, 5\)"):
        layers.Dot(axes=1, name="dd")([em.Input((3,)), em.Input((5,))])
    with pytest.raises(ValueError, match=r"dd2.*3 \(at axis 1\) != 5.*\[2, 5\]"):
        layers.Dot(axes=1, name="dd2")([arr(2, 3), arr(2, 5)])
    with pytest.raises(ValueError, match="batch sizes"):
        layers.Maximum()([arr(2, 3), arr(3, 3)])
    with pytest.raises(ValueError, match="axis 0"):
        layers.Dot(axes=0)([em.Input((3,)), em.Input((3,))])
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(arr(2, 3))
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Add()(em.Input((3,)))
    with pytest.raises(ValueError, match="2 inputs"):
        layers.Dot(axes=1)([em.Input((3,))] * 3)
    with pytest.raises(TypeError, match="axes"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="two elements"):
        layers.Dot(axes=(1, 1, 1))
