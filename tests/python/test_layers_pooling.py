"""Pooling and spatial reshaping layers and ops against numpy references (TensorFlow's
padding rules): forward values, gradients (the reference's analytic gradient, finite
differences for bilinear upsampling), output shapes as Keras computes them, config round
trips, compiled models, and errors that name the layer and the shapes."""

import itertools

import numpy as np
import pytest

import ember
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


def distinct(*shape):
    """Values without ties (so every window has one maximum)."""
    n = int(np.prod(shape))
    return (RNG.permutation(n).astype(np.float32) / n - 0.5).reshape(shape)


def np_pool(x, pool, strides, padding, mode, channels_first=False, weights=None):
    """Channels-last N-d pooling in numpy; returns the output and the gradient of
    ``sum(output * weights)`` (max: to the first maximum of each window)."""
    if channels_first:
        perm = (0,) + tuple(range(2, x.ndim)) + (1,)
        y, g = np_pool(
            x.transpose(perm), pool, strides, padding, mode,
            weights=None if weights is None else weights.transpose(perm),
        )
        back = (0, x.ndim - 1) + tuple(range(1, x.ndim - 1))
        return y.transpose(back), g.transpose(back)
    spatial = x.shape[1:-1]
    if padding == "valid":
        out = [(n - k) // s + 1 for n, k, s in zip(spatial, pool, strides)]
        before = [0] * len(spatial)
    else:
        out = [-(-n // s) for n, s in zip(spatial, strides)]
        before = [max((o - 1) * s + k - n, 0) // 2 for o, s, k, n in zip(out, strides, pool, spatial)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]), np.float32)
    w = np.ones_like(y) if weights is None else weights
    g = np.zeros_like(x)
    for pos in itertools.product(*(range(o) for o in out)):
        cells = []
        for k in itertools.product(*(range(p) for p in pool)):
            idx = [o * s - b + kk for o, s, b, kk in zip(pos, strides, before, k)]
            if all(0 <= i < n for i, n in zip(idx, spatial)):
                cells.append(tuple(idx))
        vals = np.stack([x[(slice(None),) + c] for c in cells], axis=1)  # (batch, cells, channels)
        wp = w[(slice(None),) + pos]
        if mode == "max":
            first = vals.argmax(axis=1)  # the first maximum
            y[(slice(None),) + pos] = vals.max(axis=1)
            for j, c in enumerate(cells):
                g[(slice(None),) + c] += np.where(first == j, wp, 0)
        else:
            y[(slice(None),) + pos] = vals.mean(axis=1)
            for c in cells:
                g[(slice(None),) + c] += wp / len(cells)
    return y, g


def grad_of_weighted_sum(fn, x, w):
    xt = ember.Tensor(x)
    with ember.GradientTape() as tape:
        xw = tape.watch(xt)
        y = fn(xw)
        loss = ops.sum(y * ember.Tensor(w))
    return np.asarray(y), np.asarray(tape.gradient(loss, xw))


def roundtrip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    return again


POOL_CASES = [
    # layer class, input shape, pool_size, strides
    (layers.MaxPooling1D, (2, 9, 3), 2, None),
    (layers.MaxPooling1D, (2, 9, 3), 3, 2),
    (layers.AveragePooling1D, (2, 9, 3), 4, 3),
    (layers.MaxPooling2D, (2, 7, 6, 3), (2, 2), None),
    (layers.MaxPooling2D, (2, 7, 6, 3), (3, 2), (2, 1)),
    (layers.AveragePooling2D, (2, 7, 6, 3), (2, 2), None),
    (layers.AveragePooling2D, (2, 7, 6, 3), (3, 3), (2, 2)),
    (layers.MaxPooling3D, (1, 4, 5, 3, 2), (2, 2, 2), None),
    (layers.AveragePooling3D, (1, 4, 5, 3, 2), (3, 2, 2), (1, 2, 1)),
]


@pytest.mark.parametrize("cls, shape, pool, strides", POOL_CASES)
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling_layers_match_numpy(cls, shape, pool, strides, padding, data_format):
    layer = cls(pool_size=pool, strides=strides, padding=padding, data_format=data_format)
    rank = len(shape) - 2
    pool_t = (pool,) * rank if isinstance(pool, int) else pool
    strides_t = pool_t if strides is None else ((strides,) * rank if isinstance(strides, int) else strides)
    assert layer.pool_size == pool_t and layer.strides == strides_t
    if data_format == "channels_first":
        shape = (shape[0], shape[-1]) + shape[1:-1]
    x = distinct(*shape)
    mode = "max" if "Max" in cls.__name__ else "average"
    ref_y, _ = np_pool(x, pool_t, strides_t, padding, mode, data_format == "channels_first")
    w = rand(*ref_y.shape)
    _, ref_g = np_pool(x, pool_t, strides_t, padding, mode, data_format == "channels_first", w)
    y, g = grad_of_weighted_sum(layer, x, w)
    np.testing.assert_allclose(y, ref_y, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, ref_g, rtol=1e-5, atol=1e-6)
    in_shape = (None,) + shape[1:]
    assert layer.compute_output_shape(in_shape) == (None,) + ref_y.shape[1:]
    assert layer._native is not None
    roundtrip(layer)


def test_keras_examples_and_same_padding_semantics():
    x = np.arange(1, 10, dtype=np.float32).reshape(1, 3, 3, 1)
    y = layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="valid")(x)
    np.testing.assert_array_equal(np.asarray(y)[0, ..., 0], [[5, 6], [8, 9]])
    y = layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same")(x)
    np.testing.assert_array_equal(np.asarray(y)[0, ..., 0], [[5, 6, 6], [8, 9, 9], [8, 9, 9]])
    x = np.arange(1, 13, dtype=np.float32).reshape(1, 3, 4, 1)
    y = layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))(x)
    np.testing.assert_array_equal(np.asarray(y)[0, ..., 0], [[6, 8]])
    # "same" average pooling divides by the valid elements only (a constant stays constant)
    y = layers.AveragePooling2D(3, strides=2, padding="same")(np.ones((1, 5, 5, 2), np.float32))
    np.testing.assert_allclose(np.asarray(y), np.ones((1, 3, 3, 2)), rtol=1e-6)
    y = layers.AveragePooling1D(2, padding="same")(np.arange(1, 6, dtype=np.float32).reshape(1, 5, 1))
    np.testing.assert_allclose(np.asarray(y)[0, :, 0], [1.5, 3.5, 5.0])
    # ties: the gradient goes to the first maximum of the window
    x = np.array([1, 3, 3, 3, 0, 3], np.float32).reshape(1, 2, 3, 1)
    _, g = grad_of_weighted_sum(layers.MaxPooling2D((2, 3)), x, np.ones((1, 1, 1, 1), np.float32))
    np.testing.assert_array_equal(g.ravel(), [0, 1, 0, 0, 0, 0])


def test_ops_max_pool_and_average_pool():
    x = distinct(2, 6, 5, 3)
    for fn, mode in ((ops.max_pool, "max"), (ops.average_pool, "average")):
        ref, _ = np_pool(x, (2, 3), (2, 1), "same", mode)
        np.testing.assert_allclose(np.asarray(fn(x, (2, 3), strides=(2, 1), padding="SAME")), ref, rtol=1e-6)
        ref, _ = np_pool(x, (3, 3), (3, 3), "valid", mode)
        np.testing.assert_allclose(np.asarray(fn(x, 3)), ref, rtol=1e-6)
        xf = x.transpose(0, 3, 1, 2)
        ref, _ = np_pool(xf, (2, 2), (1, 1), "valid", mode, channels_first=True)
        out = fn(ember.Tensor(xf), 2, strides=1, data_format="channels_first")
        np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-6)
    with pytest.raises(ValueError, match="rank 3"):
        ops.max_pool(rand(4, 4), 2)
    with pytest.raises(ValueError, match="pool_size"):
        ops.average_pool(rand(1, 4, 4, 1), (2, 2, 2))
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool(rand(1, 4, 4, 1), 2, padding="full")
    with pytest.raises(ValueError, match=r"max_pool.*\[1, 4, 4, 1\]"):
        ops.max_pool(rand(1, 4, 4, 1), 5)


@pytest.mark.parametrize(
    "cls, rank, mode",
    [
        (layers.GlobalMaxPooling1D, 1, "max"),
        (layers.GlobalMaxPooling2D, 2, "max"),
        (layers.GlobalMaxPooling3D, 3, "max"),
        (layers.GlobalAveragePooling1D, 1, "mean"),
        (layers.GlobalAveragePooling2D, 2, "mean"),
        (layers.GlobalAveragePooling3D, 3, "mean"),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, rank, mode, data_format, keepdims):
    shape = (2,) + (3, 4, 2)[:rank] + (5,)
    if data_format == "channels_first":
        shape = (2, 5) + shape[1:-1]
    x = distinct(*shape)
    axes = tuple(range(2, rank + 2)) if data_format == "channels_first" else tuple(range(1, rank + 1))
    layer = cls(data_format=data_format, keepdims=keepdims)
    ref = getattr(np, mode)(x, axis=axes, keepdims=keepdims)
    w = rand(*ref.shape)
    y, g = grad_of_weighted_sum(layer, x, w)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
    wk = w if keepdims else np.expand_dims(w, axes)
    if mode == "mean":
        ref_g = np.broadcast_to(wk / np.prod([shape[a] for a in axes]), x.shape)
    else:
        ref_g = np.where(x == np.max(x, axis=axes, keepdims=True), wk, 0)
    np.testing.assert_allclose(g, ref_g, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
    assert roundtrip(layer).keepdims == keepdims


def test_global_average_pooling_1d_honours_an_explicit_mask():
    x = rand(2, 4, 3)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0]], np.float32)
    y = np.asarray(layers.GlobalAveragePooling1D()(x, mask=mask))
    want = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(y, want, rtol=1e-5)
    yf = np.asarray(layers.GlobalAveragePooling1D(data_format="channels_first", keepdims=True)(
        x.transpose(0, 2, 1), mask=mask
    ))
    np.testing.assert_allclose(yf[..., 0], want, rtol=1e-5)


def test_aliases_are_the_keras_names():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.MaxPooling1D().pool_size == (2,) and layers.MaxPooling3D().strides == (2, 2, 2)
    cfg = layers.AveragePooling2D(name="p").get_config()
    assert cfg == {
        "name": "p", "trainable": True, "dtype": "float32",
        "pool_size": (2, 2), "padding": "valid", "strides": (2, 2), "data_format": "channels_last",
    }


# ---------------------------------------------------------------- padding, cropping, upsampling


def spatial_axes(rank, data_format):
    return tuple(range(2, rank + 2)) if data_format == "channels_first" else tuple(range(1, rank + 1))


@pytest.mark.parametrize(
    "layer, rank, pads",
    [
        (lambda df: layers.ZeroPadding1D(2), 1, ((2, 2),)),
        (lambda df: layers.ZeroPadding1D((0, 3), data_format=df), 1, ((0, 3),)),
        (lambda df: layers.ZeroPadding2D(data_format=df), 2, ((1, 1), (1, 1))),
        (lambda df: layers.ZeroPadding2D((1, 2), data_format=df), 2, ((1, 1), (2, 2))),
        (lambda df: layers.ZeroPadding2D(((0, 1), (2, 0)), data_format=df), 2, ((0, 1), (2, 0))),
        (lambda df: layers.ZeroPadding3D(1, data_format=df), 3, ((1, 1),) * 3),
        (lambda df: layers.ZeroPadding3D(((0, 1), (1, 0), (2, 1)), data_format=df), 3, ((0, 1), (1, 0), (2, 1))),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding(layer, rank, pads, data_format):
    layer = layer(data_format)
    data_format = layer.data_format
    shape = (2,) + (3, 4, 2)[:rank] + (3,) if data_format == "channels_last" else (2, 3) + (3, 4, 2)[:rank]
    x = rand(*shape)
    width = [(0, 0)] * len(shape)
    for a, p in zip(spatial_axes(rank, data_format), pads):
        width[a] = p
    ref = np.pad(x, width)
    w = rand(*ref.shape)
    y, g = grad_of_weighted_sum(layer, x, w)
    np.testing.assert_array_equal(y, ref)
    np.testing.assert_array_equal(g, w[tuple(slice(b, b + n) for n, (b, _) in zip(shape, width))])
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
    roundtrip(layer)


@pytest.mark.parametrize(
    "layer, rank, crops",
    [
        (lambda df: layers.Cropping1D(), 1, ((1, 1),)),
        (lambda df: layers.Cropping1D((0, 2)), 1, ((0, 2),)),
        (lambda df: layers.Cropping2D(1, data_format=df), 2, ((1, 1), (1, 1))),
        (lambda df: layers.Cropping2D(((0, 1), (2, 0)), data_format=df), 2, ((0, 1), (2, 0))),
        (lambda df: layers.Cropping3D((1, 0, 1), data_format=df), 3, ((1, 1), (0, 0), (1, 1))),
    ],
)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping(layer, rank, crops, data_format):
    layer = layer(data_format)
    data_format = layer.data_format
    spatial = (5, 6, 4)[:rank]
    shape = (2,) + spatial + (3,) if data_format == "channels_last" else (2, 3) + spatial
    x = rand(*shape)
    index = [slice(None)] * len(shape)
    for a, (b, e) in zip(spatial_axes(rank, data_format), crops):
        index[a] = slice(b, shape[a] - e)
    ref = x[tuple(index)]
    w = rand(*ref.shape)
    y, g = grad_of_weighted_sum(layer, x, w)
    np.testing.assert_array_equal(y, ref)
    want_g = np.zeros_like(x)
    want_g[tuple(index)] = w
    np.testing.assert_array_equal(g, want_g)
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
    roundtrip(layer)


def np_resize_linear(x, axis, size):
    """Half-pixel linear interpolation along ``axis`` (TF's bilinear resize, no antialias)."""
    n = x.shape[axis]
    at = (np.arange(size) + 0.5) * n / size - 0.5
    lo = np.floor(at)
    frac = (at - lo).astype(np.float32)
    lo_i = np.clip(lo, 0, n - 1).astype(int)
    hi_i = np.clip(np.ceil(at), 0, n - 1).astype(int)
    shape = [1] * x.ndim
    shape[axis] = size
    frac = frac.reshape(shape)
    a, b = np.take(x, lo_i, axis=axis), np.take(x, hi_i, axis=axis)
    return a + (b - a) * frac


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling_nearest(data_format):
    for layer, rank, size in (
        (layers.UpSampling1D(3), 1, (3,)),
        (layers.UpSampling2D((2, 3), data_format=data_format), 2, (2, 3)),
        (layers.UpSampling3D((1, 2, 2), data_format=data_format), 3, (1, 2, 2)),
    ):
        df = layer.data_format
        spatial = (3, 2, 2)[:rank]
        shape = (2,) + spatial + (3,) if df == "channels_last" else (2, 3) + spatial
        x = rand(*shape)
        ref = x
        for a, f in zip(spatial_axes(rank, df), size):
            ref = np.repeat(ref, f, axis=a)
        w = rand(*ref.shape)
        y, g = grad_of_weighted_sum(layer, x, w)
        np.testing.assert_array_equal(y, ref)
        want_g = w
        for a, f in zip(spatial_axes(rank, df), size):
            want_g = want_g.reshape(want_g.shape[:a] + (want_g.shape[a] // f, f) + want_g.shape[a + 1:]).sum(a + 1)
        np.testing.assert_allclose(g, want_g, rtol=1e-5, atol=1e-6)
        assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + ref.shape[1:]
        roundtrip(layer)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_up_sampling_bilinear(data_format):
    layer = layers.UpSampling2D((2, 3), data_format=data_format, interpolation="bilinear")
    x = rand(2, 3, 4, 2) if data_format == "channels_last" else rand(2, 2, 3, 4)
    h, wa = spatial_axes(2, data_format)
    ref = np_resize_linear(np_resize_linear(x, h, x.shape[h] * 2), wa, x.shape[wa] * 3)
    np.testing.assert_allclose(np.asarray(layer(x)), ref, rtol=1e-5, atol=1e-6)
    # the documented 2x2 -> 4x4 result of TF's half-pixel bilinear resize
    sq = np.array([[1, 2], [3, 4]], np.float32).reshape(1, 2, 2, 1)
    y = np.asarray(layers.UpSampling2D(interpolation="BILINEAR")(sq))[0, ..., 0]
    np.testing.assert_allclose(
        y, [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, 2.75, 3.25, 3.5], [3, 3.25, 3.75, 4]], rtol=1e-6
    )
    # gradients against central differences of the weighted sum
    w = rand(*ref.shape)
    _, g = grad_of_weighted_sum(layer, x, w)
    eps, num = 1e-2, np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        num[i] = ((np.asarray(layer(xp)) * w).sum() - (np.asarray(layer(xm)) * w).sum()) / (2 * eps)
    np.testing.assert_allclose(g, num, rtol=1e-2, atol=1e-2)
    assert roundtrip(layer).interpolation == "bilinear"


def test_symbolic_shapes_and_a_compiled_model():
    inp = ember.Input(shape=(8, 8, 2))
    h = layers.ZeroPadding2D(1)(inp)
    assert h.shape == (None, 10, 10, 2)
    h = layers.MaxPooling2D()(h)
    h = layers.UpSampling2D(interpolation="bilinear")(h)
    h = layers.Cropping2D(((1, 1), (0, 2)))(h)
    assert h.shape == (None, 8, 8, 2)
    h = layers.AveragePooling2D(3, strides=2, padding="same")(h)
    h = layers.GlobalMaxPooling2D()(h)
    out = layers.Dense(2)(h)
    model = ember.Model(inp, out)
    model.compile(optimizer="adam", loss="mse")
    assert model._uses_graph_driver()
    x, y = rand(16, 8, 8, 2), rand(16, 2)
    before = model.predict(x, verbose=0)
    np.testing.assert_allclose(before, np.asarray(model(x)), rtol=1e-5, atol=1e-6)
    hist = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    seq = ember.Sequential([ember.Input((6, 3)), layers.MaxPooling1D(), layers.UpSampling1D(), layers.Flatten()])
    np.testing.assert_array_equal(seq.predict(np.ones((2, 6, 3), np.float32), verbose=0), np.ones((2, 18)))


# ---------------------------------------------------------------- bad input


def test_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r'"pool".*ndim=4.*\(2, 8, 3\)'):
        layers.MaxPooling2D(name="pool").compute_output_shape((2, 8, 3))
    with pytest.raises(ValueError, match=r'"pool2".*ndim=4.*\[2, 8, 3\]'):
        layers.MaxPooling2D(name="pool2")(rand(2, 8, 3))
    with pytest.raises(ValueError, match=r'"gap".*ndim=3'):
        layers.GlobalAveragePooling1D(name="gap")(rand(2, 3, 4, 5))
    # a "valid" window larger than the input
    with pytest.raises(ValueError, match=r'MaxPooling2D layer "big".*\[1, 2, 5, 1\].*pool_size=\[3, 3\]'):
        layers.MaxPooling2D(3, name="big")(rand(1, 2, 5, 1))
    with pytest.raises(ValueError, match="zero or negative"):
        layers.AveragePooling1D(4).compute_output_shape((None, 3, 2))
    assert layers.MaxPooling2D(3, padding="same").compute_output_shape((None, 2, 5, 1)) == (None, 1, 2, 1)
    # cropping more than the input has
    with pytest.raises(ValueError, match=r'Cropping2D layer "crop".*\[2, 4, 4, 1\]'):
        layers.Cropping2D(((2, 2), (0, 0)), name="crop")(rand(2, 4, 4, 1))
    with pytest.raises(ValueError, match=r"cropping.*\(None, 3, 2\)"):
        layers.Cropping1D((2, 1)).compute_output_shape((None, 3, 2))
    with pytest.raises(ValueError, match=r'"zp".*ndim=5'):
        layers.ZeroPadding3D(name="zp")(rand(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r'"up".*ndim=4'):
        layers.UpSampling2D(name="up")(rand(2, 3, 4))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: layers.MaxPooling2D(0), r"pool_size.*value > 0"),
        (lambda: layers.MaxPooling2D((2, 2, 2)), "pool_size.*tuple of 2"),
        (lambda: layers.AveragePooling1D(2, strides=-1), "strides"),
        (lambda: layers.MaxPooling1D(2, padding="full"), "padding"),
        (lambda: layers.MaxPooling2D(data_format="channels_middle"), "data_format"),
        (lambda: layers.GlobalMaxPooling2D(data_format="nhwc"), "data_format"),
        (lambda: layers.ZeroPadding2D(-1), "negative"),
        (lambda: layers.ZeroPadding2D((1, 2, 3)), "2 elements"),
        (lambda: layers.ZeroPadding3D(((1, 1), (1, -1), (0, 0))), r"2nd entry of padding.*>= 0"),
        (lambda: layers.Cropping2D(-2), "negative"),
        (lambda: layers.Cropping1D((1, 2, 3)), "cropping"),
        (lambda: layers.UpSampling1D(0), "positive integer"),
        (lambda: layers.UpSampling2D((2, 0)), "size"),
        (lambda: layers.UpSampling2D(interpolation="cubic-ish"), "interpolation"),
    ],
)
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_unsupported_interpolation_says_so():
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.UpSampling2D(interpolation="bicubic")


def test_default_names_follow_keras():
    assert layers.MaxPooling2D().name.startswith("max_pooling2d")
    assert layers.GlobalAveragePooling1D().name.startswith("global_average_pooling1d")
    assert layers.UpSampling2D().name.startswith("up_sampling2d")
    assert layers.ReLU().name.startswith("re_lu")
