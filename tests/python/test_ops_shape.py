"""Reductions, shape ops and indexing of ember.ops against numpy references: odd shapes,
non-contiguous inputs, negative axes, empty dimensions, gradients and bad inputs."""
import numpy as np
import pytest

import ember
from ember import ops

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(a, b, tol=1e-5):
    a = np.asarray(a)
    assert a.shape == np.shape(b), (a.shape, np.shape(b))
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def inputs():
    """(ember input, numpy equivalent) pairs: contiguous, transposed, sliced, an ember view."""
    x = rand(3, 5, 7)
    t = ember.Tensor(rand(7, 5, 3))
    return [
        (x, x),
        (x.transpose(2, 0, 1), x.transpose(2, 0, 1)),
        (ops.transpose(t), np.asarray(t).transpose()),
        (t[1::2, ::-1], np.asarray(t)[1::2, ::-1]),
    ]


AXES = [None, 0, -1, (0, 2), (-1, 0, 1)]


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std"])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(name, axis, keepdims):
    for xe, xn in inputs():
        out = getattr(ops, name)(xe, axis=axis, keepdims=keepdims)
        close(out, getattr(np, name)(xn, axis=axis, keepdims=keepdims), 1e-4)


@pytest.mark.parametrize("axis", AXES)
def test_logsumexp(axis):
    x = rand(4, 3, 5) * 30
    m = np.max(x, axis=axis, keepdims=True)
    ref = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    close(ops.logsumexp(x, axis=axis, keepdims=True), ref, 1e-4)
    close(ops.logsumexp(x, axis=axis), np.squeeze(ref, axis=axis), 1e-4)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_arg_reductions(axis, keepdims):
    x = np.round(rand(4, 6), 1)
    x[1, 2] = x[1, 4] = 9.0  # ties resolve to the first
    for name in ["argmax", "argmin"]:
        out = getattr(ops, name)(x.T, axis=axis, keepdims=keepdims)
        assert out.dtype == "int64"
        np.testing.assert_array_equal(out, getattr(np, name)(x.T, axis=axis, keepdims=keepdims))


def test_reductions_on_integers_and_bools():
    a = np.arange(12).reshape(3, 4)
    out = ops.sum(a, axis=1)
    assert out.dtype == "int64"
    np.testing.assert_array_equal(out, a.sum(axis=1))
    np.testing.assert_array_equal(ops.max(a, axis=0), a.max(axis=0))
    close(ops.mean(a), a.mean())
    b = np.array([[True, False], [False, False]])
    np.testing.assert_array_equal(ops.any(b, axis=1), [1, 0])
    c = np.array([[1.0, 2.0], [0.0, 3.0]])
    np.testing.assert_array_equal(ops.all(c, axis=0, keepdims=True), [[0, 1]])
    np.testing.assert_array_equal(ops.any(np.zeros((2, 0))), 0)
    np.testing.assert_array_equal(ops.all(np.zeros((2, 0))), 1)


def test_empty_and_initial():
    e = np.zeros((0, 3), np.float32)
    close(ops.sum(e, axis=0), e.sum(axis=0))
    close(ops.prod(e, axis=0), e.prod(axis=0))
    close(ops.max(e, axis=1), e.max(axis=1))
    close(ops.max(e, axis=0, initial=-2.0), np.max(e, axis=0, initial=-2.0))
    x = rand(3, 4)
    close(ops.min(x, axis=1, initial=-0.5), np.min(x, axis=1, initial=-0.5))
    with pytest.raises(ValueError, match=r"max.*\[0, 3\]"):
        ops.max(e, axis=0)
    with pytest.raises(ValueError, match="argmax"):
        ops.argmax(e, axis=0)


def test_tensor_methods():
    x = rand(3, 4, 2)
    t = ember.Tensor(x)
    close(t.T, x.T)
    close(t.reshape(4, -1), x.reshape(4, -1))
    close(t.reshape((2, 12)), x.reshape(2, 12))
    close(t.transpose(), x.transpose())
    close(t.transpose(1, 0, 2), x.transpose(1, 0, 2))
    close(t.transpose((2, 0, 1)), x.transpose(2, 0, 1))
    close(t.sum(axis=(0, -1), keepdims=True), x.sum(axis=(0, -1), keepdims=True))
    close(t.mean(axis=1), x.mean(axis=1))
    close(t.max(), x.max())
    close(t.min(axis=-1), x.min(axis=-1))


def test_views_and_shape_ops():
    x = rand(2, 3, 4)
    views = [(x, x), (ember.Tensor(x)[:, ::2], x[:, ::2]), (x.transpose(1, 2, 0), x.transpose(1, 2, 0))]
    for xe, xn in views:
        close(ops.reshape(xe, (-1,)), xn.reshape(-1))
        close(ops.reshape(xe, (xn.shape[0], -1)), xn.reshape(xn.shape[0], -1))
        close(ops.transpose(xe), xn.transpose())
        close(ops.transpose(xe, (1, -1, 0)), np.transpose(xn, (1, -1, 0)))
        close(ops.swapaxes(xe, 0, -1), np.swapaxes(xn, 0, -1))
        close(ops.moveaxis(xe, [0, 1], [-1, 0]), np.moveaxis(xn, [0, 1], [-1, 0]))
        close(ops.expand_dims(xe, (0, -1)), np.expand_dims(xn, (0, -1)))
        close(ops.expand_dims(xe, 1), np.expand_dims(xn, 1))
        close(ops.ravel(xe), xn.ravel())
        close(ops.flip(xe), np.flip(xn))
        close(ops.flip(xe, axis=(0, -1)), np.flip(xn, axis=(0, -1)))
    y = rand(1, 3, 1, 2)
    close(ops.squeeze(y), np.squeeze(y))
    close(ops.squeeze(y, axis=-2), np.squeeze(y, axis=-2))
    close(ops.squeeze(y, axis=(0, 2)), np.squeeze(y, axis=(0, 2)))
    b = rand(3, 1)
    close(ops.broadcast_to(b[::-1], (2, 3, 5)), np.broadcast_to(b[::-1], (2, 3, 5)))
    close(ops.broadcast_to(np.zeros((0, 1)), (0, 4)), np.zeros((0, 4)))
    z = np.zeros((2, 0, 3), np.float32)
    close(ops.reshape(z, (3, 0, 2)), z.reshape(3, 0, 2))
    with pytest.raises(ValueError, match="reshape"):
        ops.reshape(z, (0, -1))
    close(ops.transpose(z), z.T)


def test_concatenate_stack_split():
    a, b, c = rand(2, 3), rand(2, 1), rand(2, 0)
    close(ops.concatenate([a, b, c], axis=-1), np.concatenate([a, b, c], axis=-1))
    close(ops.concatenate((a.T, b.T), axis=0), np.concatenate((a.T, b.T), axis=0))
    close(ops.concatenate([a, np.arange(3)[None]]), np.concatenate([a, np.arange(3)[None]]))
    for axis in [0, 1, -1, 2]:
        close(ops.stack([a, a * 2, a.T.T], axis=axis), np.stack([a, a * 2, a], axis=axis))
    x = rand(4, 6, 5)
    for spec, axis in [(2, 0), (3, 1), ([1, 4], -1), ([3, -1, 10, 1], 1), ([], 0)]:
        got = ops.split(x, spec, axis=axis)
        ref = np.split(x, spec, axis=axis)
        assert len(got) == len(ref)
        for g, r in zip(got, ref):
            close(g, r)
    for got, ref in zip(ops.unstack(x, axis=1), [x[:, i] for i in range(6)]):
        close(got, ref)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take(axis):
    x = rand(4, 5, 3)
    xt = x.transpose(2, 1, 0)
    n = xt.size if axis is None else xt.shape[axis]
    idx = np.array([[0, n - 1, -1], [-n, 1, 1]])
    close(ops.take(xt, idx, axis=axis), np.take(xt, idx, axis=axis))
    close(ops.take(xt, [], axis=axis), np.take(xt, np.array([], np.int64), axis=axis))
    close(ops.take(xt, 2, axis=axis), np.take(xt, 2, axis=axis))


def test_take_along_axis():
    x = rand(4, 5)
    for axis in [0, 1, -1]:
        idx = np.argsort(x, axis=axis)
        close(ops.take_along_axis(x, idx, axis=axis), np.take_along_axis(x, idx, axis=axis))
    idx = np.array([[2, 0, 1, 3, 3]])
    close(ops.take_along_axis(x, idx, axis=0), np.take_along_axis(x, idx, axis=0))
    close(ops.take_along_axis(x, np.array([[-1], [0], [3], [1]]), axis=1),
          np.take_along_axis(x, np.array([[4], [0], [3], [1]]), axis=1))
    close(ops.take_along_axis(x, np.array([19, 0, -1]), axis=None), x.ravel()[[19, 0, 19]])


def test_one_hot():
    labels = np.array([[0, 3], [2, 5]])
    ref = np.eye(4, dtype=np.float32)[np.clip(labels, 0, 3)] * (labels < 4)[..., None]
    out = ops.one_hot(labels, 4)
    assert out.dtype == "float32"
    close(out, ref)
    close(ops.one_hot(labels, 4, axis=0), np.moveaxis(ref, -1, 0))
    close(ops.one_hot([-1, 1], 2), [[0, 0], [0, 1]])
    assert ops.one_hot([1], 3, dtype="int64").dtype == "int64"


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap"])
def test_pad_matches_numpy(mode):
    x = rand(3, 4)
    for width in [((1, 2), (0, 3)), ((5, 7), (9, 2)), 2, ((1, 0),), [[0, 0], [3, 3]]]:
        close(ops.pad(x.T, width, mode=mode), np.pad(x.T, width, mode=mode))
    y = rand(1, 2)
    close(ops.pad(y, ((3, 3), (0, 0)), mode=mode), np.pad(y, ((3, 3), (0, 0)), mode=mode))


def test_pad_constant_values_and_errors():
    x = rand(2, 3)
    close(ops.pad(x, 1, constant_values=-3.0), np.pad(x, 1, constant_values=-3.0))
    close(ops.pad(np.zeros((0, 2)), ((1, 1), (0, 0))), np.pad(np.zeros((0, 2)), ((1, 1), (0, 0))))
    with pytest.raises(ValueError, match="constant_values"):
        ops.pad(x, 1, mode="edge", constant_values=1.0)
    with pytest.raises(ValueError, match="pad.*mode"):
        ops.pad(x, 1, mode="median")
    with pytest.raises(ValueError, match=r"pad.*\(2, 2\)"):
        ops.pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(ValueError, match="non-negative"):
        ops.pad(x, -1)
    with pytest.raises(ValueError, match=r"pad.*empty axis 0.*\[0, 2\]"):
        ops.pad(np.zeros((0, 2)), 1, mode="reflect")


def test_tile_repeat_slice():
    x = rand(2, 3)
    for reps in [2, (2, 1), (1, 2, 3), (0, 2)]:
        close(ops.tile(x.T, reps), np.tile(x.T, reps))
    close(ops.tile(np.arange(3), (2, 2)), np.tile(np.arange(3), (2, 2)))
    for reps, axis in [(2, None), (3, 0), ([1, 0, 2], -1), (0, 1)]:
        close(ops.repeat(x, reps, axis=axis), np.repeat(x, reps, axis=axis))
    y = rand(4, 5, 6)
    close(ops.slice(y, (1, 0, 2), (2, 5, 3)), y[1:3, 0:5, 2:5])
    close(ops.slice(y, [3, 2, 0], [-1, -1, 1]), y[3:, 2:, 0:1])


KEYS = [
    (1,), (-1,), (slice(None, None, -1),), (slice(1, None, 2), -2), (Ellipsis, 1), (None, 0, None),
    (0, Ellipsis, slice(None, None, -2), None), (slice(10, -10, -3),), (slice(-2, 1, -1), slice(None), 0),
    (slice(5, 1),), ([0, 2, -1],), (slice(None), [3, 3, 0]), (0, slice(None), [1, 0]),
    (slice(None), 1, [[0, 1], [2, 3]]), ([1, 0], 2), (None, 0, [1, 2]), (0, None, [1, 2]),
    (Ellipsis, [4, 0]), (np.array([True, False, True]),), (slice(None), np.array([1, 1, 3])),
    (np.int64(2), slice(None, None, -1)),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_matches_numpy(key):
    x = rand(3, 4, 5)
    strided = ember.Tensor(x.transpose(0, 2, 1).copy()).transpose(0, 2, 1)
    for base, ref in [(ember.Tensor(x), x), (strided, x)]:
        key_e = key[0] if len(key) == 1 else key
        close(base[key_e], ref[key_e])


def test_getitem_masks_and_errors():
    x = rand(3, 4)
    t = ember.Tensor(x)
    close(t[x > 0], x[x > 0])
    close(t[np.array([True, False, True])], x[np.array([True, False, True])])
    close(t[ember.Tensor(np.array([2, 0]))], x[[2, 0]])
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3"):
        t[3]
    with pytest.raises(IndexError, match="index -6 is out of bounds for axis 1 with size 4"):
        t[0, -6]
    with pytest.raises(IndexError, match="index 4 is out of bounds for axis 1 with size 4"):
        t[:, [0, 4]]
    with pytest.raises(IndexError, match="too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="single ellipsis"):
        t[..., 0, ...]
    with pytest.raises(IndexError, match="valid indices"):
        t[1.5]
    with pytest.raises(IndexError, match="boolean index"):
        t[np.array([True, False])]
    with pytest.raises(ValueError, match="step"):
        t[::0]
    close(t[:: 2**62], x[:: 2**62])
    close(t[0, :: -(2**62)], x[0, :: -(2**62)])
    with pytest.raises(ValueError, match="one integer-array"):
        t[[0, 1], [0, 1]]
    with pytest.raises(ValueError, match="one integer-array"):
        t[np.array([True, False, True]), [0, 1]]


def tape_grad(f, x):
    v = ember.Variable(x)
    with ember.GradientTape() as tape:
        y = f(v)
    return np.asarray(tape.gradient(y, v))


def test_gradients_against_numpy():
    x = rand(3, 4)
    w = rand(3, 4)
    close(tape_grad(lambda v: ops.sum(ops.mean(v, axis=1) * w[:, 0]), x), np.repeat(w[:, :1] / 4, 4, axis=1))
    # max: gradient to the arg-max, split between ties
    xt = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], np.float32)
    close(tape_grad(lambda v: ops.sum(ops.max(v, axis=1)), xt), [[0, 0.5, 0.5], [1, 0, 0]])
    # var: 2 (x - mean) / n
    close(tape_grad(lambda v: ops.sum(ops.var(v, axis=0)), x), 2 * (x - x.mean(0)) / 3, 1e-4)
    # logsumexp: softmax
    e = np.exp(x - x.max(1, keepdims=True))
    close(tape_grad(lambda v: ops.sum(ops.logsumexp(v, axis=-1)), x), e / e.sum(1, keepdims=True), 1e-5)
    # indexing scatters (and accumulates repeated picks) into zeros of the input shape
    g = tape_grad(lambda v: ops.sum(v.value[::-1, [0, 0, 3]] * 2.0), x)
    ref = np.zeros_like(x)
    ref[:, 0] = 4.0
    ref[:, 3] = 2.0
    close(g, ref)
    g = tape_grad(lambda v: ops.sum(ops.take(v, [5, 5, -1]) * 1.0), x)
    ref = np.zeros(12, np.float32)
    ref[5], ref[11] = 2.0, 1.0
    close(g, ref.reshape(3, 4))
    # concatenate and pad route each gradient back to its input
    g = tape_grad(lambda v: ops.sum(ops.pad(ops.concatenate([v, v], axis=0), 1, mode="reflect") * 1.0), x)
    ref = np.zeros((6, 4), np.float32)
    rows, cols = (np.pad(np.arange(n), 1, mode="reflect") for n in (6, 4))
    np.add.at(ref, np.ix_(rows, cols), 1)
    close(g, ref[:3] + ref[3:])
    close(tape_grad(lambda v: ops.sum(ops.prod(v, axis=0)), np.array([[2.0, 0.0], [3.0, 5.0]], np.float32)),
          [[3.0, 5.0], [2.0, 0.0]])


def test_bad_inputs_name_op_and_shapes():
    x = rand(2, 3)
    cases = [
        (lambda: ops.reshape(x, (4, -1)), ValueError, r"reshape.*\[2, 3\]"),
        (lambda: ops.reshape(x, (-1, -1)), ValueError, "reshape"),
        (lambda: ops.transpose(x, (0,)), ValueError, r"transpose.*\[2, 3\]"),
        (lambda: ops.squeeze(x, 0), ValueError, r"squeeze.*\[2, 3\]"),
        (lambda: ops.expand_dims(x, 5), ValueError, "expand_dims"),
        (lambda: ops.broadcast_to(x, (3, 3)), ValueError, r"broadcast_to.*\[2, 3\].*\[3, 3\]"),
        (lambda: ops.concatenate([x, rand(3, 2)], axis=1), ValueError, r"concatenate.*\[3, 2\]"),
        (lambda: ops.concatenate([]), ValueError, "concatenate"),
        (lambda: ops.stack([x, x.T]), ValueError, r"stack.*\[3, 2\]"),
        (lambda: ops.split(x, 2, axis=1), ValueError, r"split.*\[2, 3\]"),
        (lambda: ops.take(x, [6]), IndexError, "take: index 6 is out of bounds for axis 0 with size 6"),
        (lambda: ops.take(x, [0.5]), TypeError, "take.*int64"),
        (lambda: ops.take_along_axis(x, np.array([0]), axis=0), ValueError, r"take_along_axis.*\[2, 3\]"),
        (lambda: ops.take_along_axis(x, np.array([[5, 0, 0]]), axis=0), IndexError, "take_along_axis"),
        (lambda: ops.repeat(x, [1, 2], axis=1), ValueError, r"repeat.*\[2, 3\]"),
        (lambda: ops.tile(x, -1), ValueError, "tile"),
        (lambda: ops.slice(x, (1, 1), (2, 2)), ValueError, r"slice.*\[2, 3\]"),
        (lambda: ops.sum(x, axis=2), ValueError, "sum: axis 2 is out of range"),
        (lambda: ops.mean(x, axis=(0, 0)), ValueError, "mean: repeated axis"),
        (lambda: ops.max(x, axis="a"), TypeError, "max: axis"),
        (lambda: ops.argmax(x, axis=-3), ValueError, "argmax"),
        (lambda: ops.one_hot([1], -2), ValueError, "one_hot"),
        (lambda: ops.one_hot([1], 2, sparse=True), ValueError, "sparse"),
        (lambda: ops.tile(x, (2**62, 2)), ValueError, "tile.*too large"),
        (lambda: ops.pad(x, 2**62), ValueError, "pad.*too large"),
        (lambda: ops.reshape(x, (2**62, 2**62)), ValueError, "reshape"),
    ]
    for f, exc, pattern in cases:
        with pytest.raises(exc, match=pattern):
            f()
