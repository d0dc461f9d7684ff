"""Convolution layers and ops against numpy references written here from the definitions:
forward values, gradients (the references are linear in each argument, so their exact
gradients come from evaluating them on unit vectors), Keras weight names and shapes,
output shapes, configs, errors that name the layer, and a small model trained with fit."""

import numpy as np
import pytest

import ember
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.normal(size=shape).astype(np.float32)


# ---------------------------------------------------------------- numpy references


def axis_geometry(padding, n, k, s, d):
    """(output length, zeros before, zeros after) of one axis, as Keras pads."""
    k_eff = (k - 1) * d + 1
    if padding == "valid":
        return (n - k_eff) // s + 1, 0, 0
    out = -(-n // s)
    if padding == "causal":
        return out, k_eff - 1, 0
    total = max((out - 1) * s + k_eff - n, 0)
    return out, total // 2, total - total // 2


def ref_conv(x, w, strides=1, padding="valid", dilation=1):
    """Grouped N-d convolution, channels last: a sum over kernel taps of strided slices of
    the padded input times that tap's (in_per_group, filters) matrix, group by group."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    r = x.ndim - 2
    strides = (strides,) * r if np.isscalar(strides) else tuple(strides)
    dilation = (dilation,) * r if np.isscalar(dilation) else tuple(dilation)
    cin, cg, filters = x.shape[-1], w.shape[-2], w.shape[-1]
    groups = cin // cg
    geo = [axis_geometry(padding, x.shape[1 + i], w.shape[i], strides[i], dilation[i]) for i in range(r)]
    xp = np.pad(x, [(0, 0)] + [(lo, hi) for _, lo, hi in geo] + [(0, 0)])
    out = [g[0] for g in geo]
    y = np.zeros((x.shape[0], *out, filters))
    for tap in np.ndindex(*w.shape[:r]):
        sl = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, out, strides))
        patch = xp[(slice(None),) + sl].reshape(x.shape[0], *out, groups, cg)
        wt = w[tap].reshape(cg, groups, filters // groups)
        y += np.einsum("...gc,cgf->...gf", patch, wt).reshape(y.shape)
    return y


def ref_depthwise(x, w, strides=1, padding="valid", dilation=1):
    r = x.ndim - 2
    return ref_conv(x, np.reshape(w, w.shape[:r] + (1, w.shape[-2] * w.shape[-1])), strides, padding, dilation)


def ref_conv_transpose(x, w, strides=1, padding="valid", output_padding=None, dilation=1):
    """Transposed convolution by scattering each input value times the kernel to
    ``i * stride + tap * dilation``, then taking Keras's output window."""
    x, w = np.asarray(x, np.float64), np.asarray(w, np.float64)
    r = x.ndim - 2
    strides = (strides,) * r if np.isscalar(strides) else tuple(strides)
    dilation = (dilation,) * r if np.isscalar(dilation) else tuple(dilation)
    if output_padding is not None and np.isscalar(output_padding):
        output_padding = (output_padding,) * r
    sizes, crops = [], []
    for i in range(r):
        n, s, d = x.shape[1 + i], strides[i], dilation[i]
        k = (w.shape[i] - 1) * d + 1
        op = None if output_padding is None else output_padding[i]
        if padding == "valid":
            out, left = (n - 1) * s + k + (max(k, s) - k if op is None else op), k - 1
        else:
            pad_len = s + k - 2 if op is None else k + k % 2 - 2 + op
            out = n * s if op is None else (n - 1) * s + k % 2 + op
            left = min(pad_len // 2 + pad_len % 2, k - 1)
        sizes.append(out)
        crops.append(k - 1 - left)
    full = [(x.shape[1 + i] - 1) * strides[i] + (w.shape[i] - 1) * dilation[i] + 1 for i in range(r)]
    big = [max(f, c + o) for f, c, o in zip(full, crops, sizes)]
    y = np.zeros((x.shape[0], *big, w.shape[-2]))
    for tap in np.ndindex(*w.shape[:r]):
        sl = tuple(slice(t * d, t * d + (n - 1) * s + 1, s)
                   for t, d, n, s in zip(tap, dilation, x.shape[1:-1], strides))
        y[(slice(None),) + sl] += np.einsum("...c,fc->...f", x, w[tap])
    window = tuple(slice(c, c + o) for c, o in zip(crops, sizes))
    return y[(slice(None),) + window]


def exact_grad(f, a):
    """The gradient of a function linear in ``a`` (with a constant part): f(e_i) - f(0)."""
    a = np.asarray(a, np.float64)
    base = f(np.zeros_like(a))
    g = np.empty(a.size)
    for i in range(a.size):
        e = np.zeros(a.size)
        e[i] = 1.0
        g[i] = f(e.reshape(a.shape)) - base
    return g.reshape(a.shape)


def close(a, b, tol=1e-4):
    np.testing.assert_allclose(np.asarray(a, np.float64), b, rtol=tol, atol=tol)


# ---------------------------------------------------------------- forward values

CONV_CASES = [
    # (layer class, input shape, kwargs)
    (layers.Conv1D, (2, 9, 3), dict(filters=4, kernel_size=3)),
    (layers.Conv1D, (2, 9, 3), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    (layers.Conv1D, (2, 9, 2), dict(filters=3, kernel_size=3, padding="causal", dilation_rate=2)),
    (layers.Conv2D, (2, 6, 5, 3), dict(filters=4, kernel_size=3, padding="same")),
    (layers.Conv2D, (2, 7, 6, 2), dict(filters=3, kernel_size=(3, 2), strides=(2, 1))),
    (layers.Conv2D, (1, 8, 7, 2), dict(filters=2, kernel_size=3, padding="same", dilation_rate=(2, 3))),
    (layers.Conv2D, (2, 6, 6, 4), dict(filters=6, kernel_size=3, strides=2, padding="same", groups=2)),
    (layers.Conv2D, (2, 7, 7, 1), dict(filters=5, kernel_size=3, strides=2, padding="same")),
    (layers.Conv3D, (1, 4, 5, 4, 2), dict(filters=3, kernel_size=(2, 3, 2), strides=(1, 2, 1), padding="same")),
]


@pytest.mark.parametrize("cls,shape,kwargs", CONV_CASES)
def test_conv_layers_match_numpy(cls, shape, kwargs):
    layer = cls(**kwargs, activation="relu")
    x = rand(*shape)
    y = np.asarray(layer(x))
    w, b = layer.get_weights()
    cin = shape[-1]
    assert w.shape == tuple(layer.kernel_size) + (cin // layer.groups, kwargs["filters"])
    want = ref_conv(x, w, layer.strides, layer.padding, layer.dilation_rate) + b
    close(y, np.maximum(want, 0))
    assert tuple(y.shape) == layer.compute_output_shape(shape)
    assert layer._native is not None  # runs in compiled graphs


TRANSPOSE_CASES = [
    (layers.Conv1DTranspose, (2, 4, 3), dict(filters=2, kernel_size=3, strides=2)),
    (layers.Conv1DTranspose, (2, 4, 3), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    (layers.Conv1DTranspose, (2, 4, 2), dict(filters=3, kernel_size=3, strides=3, padding="same", output_padding=2)),
    (layers.Conv2DTranspose, (2, 3, 4, 2), dict(filters=2, kernel_size=3, strides=2, padding="same")),
    (layers.Conv2DTranspose, (1, 3, 3, 2), dict(filters=3, kernel_size=(2, 3), strides=(2, 3), output_padding=(1, 0))),
    (layers.Conv2DTranspose, (2, 3, 3, 2), dict(filters=2, kernel_size=4, strides=2, padding="same", output_padding=1)),
    (layers.Conv2DTranspose, (2, 5, 4, 2), dict(filters=2, kernel_size=3, padding="same", dilation_rate=2)),
    (layers.Conv3DTranspose, (1, 2, 3, 2, 2), dict(filters=3, kernel_size=2, strides=2, padding="same")),
]


@pytest.mark.parametrize("cls,shape,kwargs", TRANSPOSE_CASES)
def test_transposed_conv_layers_match_numpy(cls, shape, kwargs):
    layer = cls(**kwargs)
    x = rand(*shape)
    y = np.asarray(layer(x))
    w, b = layer.get_weights()
    assert w.shape == tuple(layer.kernel_size) + (kwargs["filters"], shape[-1])
    want = ref_conv_transpose(x, w, layer.strides, layer.padding, layer.output_padding, layer.dilation_rate) + b
    close(y, want)
    assert tuple(y.shape) == layer.compute_output_shape(shape)


def test_transposed_output_shapes_follow_keras():
    # the example of keras.layers.Conv2DTranspose's docstring
    x = np.zeros((4, 10, 8, 128), np.float32)
    assert tuple(layers.Conv2DTranspose(32, 2, 2, activation="relu")(x).shape) == (4, 20, 16, 32)
    assert layers.Conv1DTranspose(1, 3, strides=2).compute_output_shape((None, 5, 1)) == (None, 11, 1)
    assert layers.Conv1DTranspose(1, 3, strides=2, padding="same").compute_output_shape((None, 5, 1)) == (None, 10, 1)
    assert layers.Conv1DTranspose(1, 1, strides=3).compute_output_shape((None, 5, 1)) == (None, 15, 1)


@pytest.mark.parametrize("rank,kwargs", [
    (1, dict(kernel_size=3, padding="same", dilation_rate=2)),
    (2, dict(kernel_size=3, padding="same")),
    (2, dict(kernel_size=(3, 2), strides=2, depth_multiplier=3)),
])
def test_depthwise_and_separable_layers_match_numpy(rank, kwargs):
    x = rand(2, *([7] * rank), 3)
    cls = layers.DepthwiseConv1D if rank == 1 else layers.DepthwiseConv2D
    dw = cls(**kwargs)
    y = np.asarray(dw(x))
    k, b = dw.get_weights()
    dm = kwargs.get("depth_multiplier", 1)
    assert [v.name for v in dw.weights] == ["kernel", "bias"]
    assert k.shape == tuple(dw.kernel_size) + (3, dm) and b.shape == (3 * dm,)
    mid = ref_depthwise(x, k, dw.strides, dw.padding, dw.dilation_rate)
    close(y, mid + b)
    sep_cls = layers.SeparableConv1D if rank == 1 else layers.SeparableConv2D
    sep = sep_cls(filters=4, **kwargs)
    y = np.asarray(sep(x))
    dk, pk, b = sep.get_weights()
    assert [v.name for v in sep.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert pk.shape == (1,) * rank + (3 * dm, 4)
    mid = ref_depthwise(x, dk, sep.strides, sep.padding, sep.dilation_rate)
    close(y, ref_conv(mid, pk) + b)
    assert tuple(y.shape) == sep.compute_output_shape(x.shape)


def test_channels_first_inputs_are_transposed_around_the_kernel():
    x = rand(2, 6, 5, 3)
    last = layers.Conv2D(4, 3, strides=2, padding="same")
    first = layers.Conv2D(4, 3, strides=2, padding="same", data_format="channels_first")
    y_last = np.asarray(last(x))
    first(np.transpose(x, (0, 3, 1, 2)))
    first.set_weights(last.get_weights())
    y_first = np.asarray(first(np.transpose(x, (0, 3, 1, 2))))
    close(np.transpose(y_first, (0, 2, 3, 1)), y_last)
    assert first.compute_output_shape((None, 3, 6, 5)) == (None, 4, 3, 3)
    t = layers.Conv2DTranspose(2, 3, strides=2, data_format="channels_first")
    assert tuple(t(np.transpose(x, (0, 3, 1, 2))).shape) == (2, 2, 13, 11)


# ---------------------------------------------------------------- ops


def test_ops_match_numpy_and_infer_groups():
    x = rand(2, 7, 6, 4)
    w = rand(3, 3, 2, 6)  # 2 groups
    close(ops.conv(x, w, strides=2, padding="same"), ref_conv(x, w, 2, "same"))
    wt = rand(3, 3, 5, 4)
    close(ops.conv_transpose(x, wt, 2, padding="same"), ref_conv_transpose(x, wt, 2, "same"))
    close(ops.conv_transpose(x, wt, 2, output_padding=1), ref_conv_transpose(x, wt, 2, "valid", 1))
    dk = rand(3, 3, 4, 2)
    close(ops.depthwise_conv(x, dk, dilation_rate=2), ref_depthwise(x, dk, 1, "valid", 2))
    pk = rand(1, 1, 8, 3)
    close(ops.separable_conv(x, dk, pk, padding="same"), ref_conv(ref_depthwise(x, dk, 1, "same"), pk))
    xf = np.transpose(x, (0, 3, 1, 2))
    yf = ops.conv(xf, w, padding="same", data_format="channels_first")
    close(np.transpose(np.asarray(yf), (0, 2, 3, 1)), ref_conv(x, w, 1, "same"))
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, w, padding="causal")
    with pytest.raises(ValueError, match="strides"):
        ops.conv(x, w, strides=0)


# ---------------------------------------------------------------- gradients


def tape_grads(layer, x, seed):
    """d sum(layer(x) * seed) / d(x, *weights) through ember's tape."""
    xt = ember.Variable(x)
    with ember.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt.value)
        loss = ops.sum(y * seed)
    return [np.asarray(g) for g in tape.gradient(loss, [xt] + layer.trainable_weights)]


GRAD_CASES = [
    (layers.Conv1D(3, 3, padding="causal", dilation_rate=2), (2, 7, 2), "conv"),
    (layers.Conv2D(4, 3, strides=2, padding="same"), (2, 5, 6, 2), "conv"),
    (layers.Conv2D(4, (2, 3), groups=2, dilation_rate=(2, 1)), (1, 6, 5, 4), "conv"),
    (layers.Conv2D(3, 3, padding="same"), (2, 5, 5, 1), "conv"),
    (layers.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1), (2, 3, 3, 3), "transpose"),
    (layers.Conv1DTranspose(2, 4, strides=3), (2, 4, 2), "transpose"),
    (layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"), (2, 4, 5, 3), "depthwise"),
]


@pytest.mark.parametrize("layer,shape,kind", GRAD_CASES)
def test_gradients_match_the_reference_exactly(layer, shape, kind):
    x = rand(*shape)
    y = np.asarray(layer(x))
    seed = rand(*y.shape)
    w, b = layer.get_weights()
    s, p, d = layer.strides, layer.padding, layer.dilation_rate

    def forward(x, w, b):
        if kind == "conv":
            return ref_conv(x, w, s, p, d) + b
        if kind == "transpose":
            return ref_conv_transpose(x, w, s, p, layer.output_padding, d) + b
        return ref_depthwise(x, w, s, p, d) + b

    gx, gw, gb = tape_grads(layer, x, seed)
    close(gx, exact_grad(lambda v: np.sum(forward(v, w, b) * seed), x), 1e-3)
    close(gw, exact_grad(lambda v: np.sum(forward(x, v, b) * seed), w), 1e-3)
    close(gb, exact_grad(lambda v: np.sum(forward(x, w, v) * seed), b), 1e-3)


def test_separable_gradients_match_the_reference():
    layer = layers.SeparableConv2D(3, 3, depth_multiplier=2, padding="same")
    x = rand(2, 4, 4, 2)
    seed = rand(*np.asarray(layer(x)).shape)
    dk, pk, b = layer.get_weights()

    def forward(x, dk, pk, b):
        return ref_conv(ref_depthwise(x, dk, 1, "same"), pk) + b

    gx, gdk, gpk, gb = tape_grads(layer, x, seed)
    close(gx, exact_grad(lambda v: np.sum(forward(v, dk, pk, b) * seed), x), 1e-3)
    close(gdk, exact_grad(lambda v: np.sum(forward(x, v, pk, b) * seed), dk), 1e-3)
    close(gpk, exact_grad(lambda v: np.sum(forward(x, dk, v, b) * seed), pk), 1e-3)
    close(gb, exact_grad(lambda v: np.sum(forward(x, dk, pk, v) * seed), b), 1e-3)


def test_relu_activation_gradient_goes_through_the_mask():
    layer = layers.Conv2D(2, 3, activation="relu")
    x = rand(2, 5, 5, 2)
    y = np.asarray(layer(x))
    w, b = layer.get_weights()
    pre = ref_conv(x, w) + b
    close(y, np.maximum(pre, 0))
    seed = rand(*y.shape)
    gx, gw, gb = tape_grads(layer, x, seed)
    masked = seed * (pre > 0)
    close(gb, masked.sum(axis=(0, 1, 2)), 1e-3)
    close(gw, exact_grad(lambda v: np.sum(ref_conv(x, v) * masked), w), 1e-3)


# ---------------------------------------------------------------- weights, configs, aliases


def test_weights_config_round_trip_and_aliases():
    assert layers.Convolution2D is layers.Conv2D and layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    cases = [
        layers.Conv1D(4, 3, padding="causal", groups=2, name="c1", use_bias=False),
        layers.Conv2D(8, (3, 2), strides=(2, 1), kernel_regularizer="l2", bias_initializer="ones"),
        layers.Conv3D(2, 2, dilation_rate=2, activation="tanh"),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1),
        layers.DepthwiseConv2D(3, depth_multiplier=2, depthwise_constraint="non_neg"),
        layers.SeparableConv1D(5, 3, depth_multiplier=2, pointwise_regularizer="l1"),
    ]
    for layer in cases:
        config = layer.get_config()
        again = type(layer).from_config(config)
        assert again.get_config() == config
    c = layers.Conv2D(8, 3).get_config()
    assert c["kernel_size"] == (3, 3) and c["strides"] == (1, 1) and c["padding"] == "valid"
    assert c["data_format"] == "channels_last" and c["groups"] == 1 and c["activation"] == "linear"
    conv = layers.Conv2D(6, 3, groups=3)
    conv(rand(1, 4, 4, 3))
    assert [v.name for v in conv.weights] == ["kernel", "bias"]
    assert tuple(conv.kernel.shape) == (3, 3, 1, 6) and conv.count_params() == 9 * 6 + 6
    np.testing.assert_array_equal(conv.get_weights()[1], np.zeros(6))
    limit = np.sqrt(6 / (9 * 1 + 9 * 6))  # glorot_uniform over the receptive field
    assert np.abs(conv.get_weights()[0]).max() <= limit
    t = layers.Conv2DTranspose(5, 3)
    t(rand(1, 4, 4, 2))
    assert tuple(t.kernel.shape) == (3, 3, 5, 2) and tuple(t.bias.shape) == (5,)


def test_regularizers_constraints_and_python_activations():
    layer = layers.Conv2D(2, 3, kernel_regularizer=ember.regularizers.L2(0.5), kernel_constraint="non_neg")
    x = rand(1, 4, 4, 1)
    layer(x)
    w = layer.get_weights()[0]
    (penalty,) = layer.losses
    close(penalty, 0.5 * np.sum(w.astype(np.float64) ** 2), 1e-4)
    eager = layers.Conv2D(2, 3, activation=lambda t: t * 2.0)
    y = np.asarray(eager(x))
    assert eager._native is None  # a Python activation keeps the layer on the eager driver
    w, b = eager.get_weights()
    close(y, 2 * (ref_conv(x, w) + b))


# ---------------------------------------------------------------- errors


def test_bad_inputs_raise_errors_naming_the_layer():
    conv = layers.Conv2D(4, 3, name="my_conv")
    with pytest.raises(ValueError, match=r"my_conv.*ndim=4.*\(2, 5, 5\)"):
        conv(rand(2, 5, 5))
    conv(rand(2, 5, 5, 3))
    with pytest.raises(ValueError, match=r"my_conv.*axis -1 of input shape to have value 3.*\[2, 5, 5, 2\]"):
        conv(rand(2, 5, 5, 2))
    with pytest.raises(ValueError, match=r"my_conv.*larger than.*\[2, 2, 5, 3\]"):
        conv(rand(2, 2, 5, 3))
    with pytest.raises(ValueError, match=r"small.*larger than the padded input"):
        layers.Conv2D(4, 5, name="small")(rand(1, 3, 8, 2))
    with pytest.raises(ValueError, match=r"grouped.*divisible by the number of groups.*groups=2.*3 channels"):
        layers.Conv2D(4, 3, groups=2, name="grouped")(rand(1, 5, 5, 3))
    with pytest.raises(ValueError, match="filters must be evenly divisible"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with `dilation_rate > 1`"):
        layers.Conv2D(4, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(4, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(4, 3, padding="causal")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(4, (3, 0))
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="depth_multiplier"):
        layers.DepthwiseConv2D(3, depth_multiplier=0)
    t = layers.Conv1DTranspose(2, 3, name="up")
    t(rand(1, 4, 3))
    with pytest.raises(ValueError, match=r"up.*ndim=3"):
        t(rand(1, 4, 4, 3))
    with pytest.raises(ValueError, match=r"up.*value 3"):
        t(rand(1, 4, 2))
    # symbolic inputs are checked when the layer is applied
    with pytest.raises(ValueError, match=r"sym.*ndim=4"):
        layers.Conv2D(2, 3, name="sym")(ember.Input(shape=(8, 3)))


# ---------------------------------------------------------------- training


def bars(n, seed):
    """8x8 images holding one horizontal (class 0) or vertical (class 1) bar, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    x = rng.normal(scale=0.3, size=(n, 8, 8, 1)).astype(np.float32)
    pos = rng.integers(1, 7, size=n)
    for i in range(n):
        if y[i] == 0:
            x[i, pos[i], 1:7, 0] += 1.5
        else:
            x[i, 1:7, pos[i], 0] += 1.5
    return x, y.astype(np.int64)


def test_a_small_conv_model_learns_with_fit():
    ember.utils.set_random_seed(3)
    x, y = bars(512, 0)
    model = ember.Sequential([
        ember.Input(shape=(8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.Conv2D(4, 3, strides=2, activation="relu"),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=ember.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert model._uses_graph_driver()
    assert model.output_shape == (None, 2)
    model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    xt, yt = bars(256, 1)
    _, acc = model.evaluate(xt, yt, verbose=0)
    assert acc >= 0.95
