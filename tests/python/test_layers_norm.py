"""Normalization ops and layers and SpatialDropout against numpy references (forward and
gradients), BatchNormalization's moving statistics and frozen mode in both drivers, configs,
errors that name the layer and shapes, and a BatchNormalization model trained with fit."""

import numpy as np
import pytest

import ember as em
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape, loc=0.0, scale=1.0):
    return (RNG.normal(size=shape) * scale + loc).astype(np.float32)


def numeric_grad(f, x, eps=1e-4):
    """Central differences of the float64 numpy function ``f`` at ``x``."""
    x = np.asarray(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (f(xp) - f(xm)) / (2 * eps)
    return g


def grads(fn, *arrays):
    """``fn(*tensors)`` and the gradients of ``sum(fn(...) * w)`` for a fixed ``w``."""
    ts = [em.Variable(a) for a in arrays]
    with em.GradientTape() as tape:
        y = fn(*ts)
        w = np.linspace(0.5, 1.5, int(np.prod(y.shape)), dtype=np.float32).reshape(tuple(y.shape))
        loss = ops.sum(y * w)
    return np.asarray(y), [None if g is None else np.asarray(g) for g in tape.gradient(loss, ts)], w.astype(np.float64)


def roundtrip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    return again


def bn_ref(x, axis, gamma, beta, eps=1e-3, mean=None, var=None):
    red = tuple(d for d in range(x.ndim) if d != axis % x.ndim)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    if mean is None:
        mean, var = x.mean(axis=red), x.var(axis=red)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * gamma.reshape(shape) + beta.reshape(
        shape
    )


def ln_ref(x, axes, gamma=None, beta=None, eps=1e-3, rms_scaling=False):
    axes = tuple(a % x.ndim for a in axes)
    shape = [x.shape[d] if d in axes else 1 for d in range(x.ndim)]
    var = x.var(axis=axes, keepdims=True)
    y = x / np.sqrt(var + eps) if rms_scaling else (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma.reshape(shape)
    if beta is not None:
        y = y + beta.reshape(shape)
    return y


# ---------------------------------------------------------------- ops


def test_moments_match_numpy_with_gradients():
    x = rand(3, 4, 5, loc=2.0)
    m, v = ops.moments(x, axes=[0, 2])
    np.testing.assert_allclose(np.asarray(m), x.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(v), x.var(axis=(0, 2)), rtol=1e-5)
    mk, vk = ops.moments(x, axes=-1, keepdims=True)
    assert tuple(mk.shape) == (3, 4, 1) and tuple(vk.shape) == (3, 4, 1)
    # keras.ops.moments docstring example
    m, v = ops.moments(np.array([0, 1, 2, 3, 100], dtype="float32"), axes=[0])
    np.testing.assert_allclose([float(np.asarray(m)), float(np.asarray(v))], [21.2, 1553.36], rtol=1e-5)
    _, (g,), w = grads(lambda t: ops.add(*ops.moments(t, axes=[1])), x)
    want = numeric_grad(lambda a: np.sum((a.mean(axis=1) + a.var(axis=1)) * w), x)
    np.testing.assert_allclose(g, want, rtol=1e-4, atol=1e-4)


def test_batch_normalization_op_matches_numpy_with_gradients():
    x, mean, var = rand(4, 3, 2), rand(3), rand(3, loc=2.0, scale=0.3)
    offset, scale = rand(3), rand(3, loc=1.0)
    y, gs, w = grads(lambda *t: ops.batch_normalization(t[0], t[1], t[2], axis=1, offset=t[3], scale=t[4]),
                     x, mean, var, offset, scale)
    args = [a.astype(np.float64) for a in (x, mean, var, offset, scale)]
    np.testing.assert_allclose(y, bn_ref(args[0], 1, args[4], args[3], mean=args[1], var=args[2]), rtol=1e-5,
                               atol=1e-6)
    for i in range(5):
        def f(a, i=i):
            vs = list(args)
            vs[i] = a
            return np.sum(bn_ref(vs[0], 1, vs[4], vs[3], mean=vs[1], var=vs[2]) * w)

        np.testing.assert_allclose(gs[i], numeric_grad(f, args[i]), rtol=1e-3, atol=1e-3)
    # the keras.ops docstring example: no offset or scale
    x = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], dtype="float32")
    y = ops.batch_normalization(x, mean=[0.4, 0.5, 0.6], variance=[0.67, 0.67, 0.67], axis=-1)
    np.testing.assert_allclose(np.asarray(y)[0], [-0.36624] * 3, rtol=1e-4)
    with pytest.raises(ValueError, match=r"batch_normalization.*mean.*\(2,\)|batch_normalization.*mean.*\[2\]"):
        ops.batch_normalization(x, mean=[0.0, 0.0], variance=[1.0, 1.0, 1.0], axis=-1)


@pytest.mark.parametrize("rms_scaling", [False, True])
def test_layer_normalization_op_matches_numpy_with_gradients(rms_scaling):
    x, gamma, beta = rand(2, 3, 4, loc=1.0), rand(3, 4, loc=1.0), rand(3, 4)
    y, (gx, gg, gb), w = grads(
        lambda a, g, b: ops.layer_normalization(a, g, b, axis=[1, 2], epsilon=1e-3, rms_scaling=rms_scaling),
        x, gamma, beta,
    )
    x64, g64, b64 = (a.astype(np.float64) for a in (x, gamma, beta))
    bias = None if rms_scaling else b64  # Keras's rms_scaling ignores beta

    def ref(a=x64, g=g64, b=bias):
        return ln_ref(a, (1, 2), g, b, rms_scaling=rms_scaling)

    np.testing.assert_allclose(y, ref(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: np.sum(ref(a=a) * w), x64), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gg, numeric_grad(lambda g: np.sum(ref(g=g) * w), g64), rtol=1e-3, atol=1e-3)
    if rms_scaling:
        assert gb is None
    else:
        np.testing.assert_allclose(gb, numeric_grad(lambda b: np.sum(ref(b=b) * w), b64), rtol=1e-3, atol=1e-3)


def test_rms_normalization_and_normalize_match_numpy_with_gradients():
    x = rand(3, 5, loc=0.5)
    x64 = x.astype(np.float64)

    def rms(a, s=1.0):
        return a / np.sqrt(np.mean(a * a, axis=-1, keepdims=True) + 1e-7) * s

    scale = rand(5, loc=1.0)
    y, (gx, gs), w = grads(lambda a, s: ops.rms_normalization(a, s), x, scale)
    np.testing.assert_allclose(y, rms(x64, scale), rtol=1e-5)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: np.sum(rms(a, scale) * w), x64), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gs, numeric_grad(lambda s: np.sum(rms(x64, s) * w), scale), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(np.asarray(ops.rms_normalization(x, 2.0)), 2 * rms(x64), rtol=1e-5)

    def l2(a, axis=-1):
        return a / np.maximum(np.sqrt(np.sum(a * a, axis=axis, keepdims=True)), 1e-7)

    y, (gx,), w = grads(lambda a: ops.normalize(a, axis=0), x)
    np.testing.assert_allclose(y, l2(x64, 0), rtol=1e-5)
    np.testing.assert_allclose(gx, numeric_grad(lambda a: np.sum(l2(a, 0) * w), x64), rtol=1e-3, atol=1e-3)
    # keras.ops.normalize docstring example, and the order-3 norm
    y = ops.normalize(np.array([[1, 2, 3], [4, 5, 6]], dtype="float32"))
    np.testing.assert_allclose(np.asarray(y)[0], [0.26726124, 0.5345225, 0.8017837], rtol=1e-6)
    y3 = np.asarray(ops.normalize(x, order=3))
    np.testing.assert_allclose(y3, x / np.sum(np.abs(x) ** 3, axis=-1, keepdims=True) ** (1 / 3), rtol=1e-5)
    with pytest.raises(ValueError, match="order"):
        ops.normalize(x, order=0)


# ---------------------------------------------------------------- BatchNormalization


def test_batch_norm_weights_and_config_follow_keras():
    bn = layers.BatchNormalization(name="bn")
    bn(rand(4, 3))
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.shape for w in bn.get_weights()] == [(3,)] * 4
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    np.testing.assert_array_equal(np.stack(bn.get_weights()), [[1] * 3, [0] * 3, [0] * 3, [1] * 3])
    cfg = bn.get_config()
    assert (cfg["axis"], cfg["momentum"], cfg["epsilon"], cfg["center"], cfg["scale"]) == (-1, 0.99, 1e-3, True, True)
    again = roundtrip(layers.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-5, center=False,
                                                gamma_regularizer="l2", moving_variance_initializer="zeros"))
    again(rand(2, 3, 4))
    assert [w.name for w in again.weights] == ["gamma", "moving_mean", "moving_variance"]
    np.testing.assert_array_equal(again.moving_variance.numpy(), np.zeros(3))
    assert len(again.losses) == 1  # the gamma regularizer
    nb = layers.BatchNormalization(scale=False, center=False)
    nb(rand(2, 5))
    assert [w.name for w in nb.weights] == ["moving_mean", "moving_variance"]
    assert layers.BatchNormalization().compute_output_shape((None, 7)) == (None, 7)


def test_batch_norm_training_statistics_and_inference():
    bn = layers.BatchNormalization(axis=1, momentum=0.8)
    x0 = rand(6, 3, 4)
    bn(x0)
    gamma, beta = rand(3, loc=1.0), rand(3)
    bn.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    mm, mv = np.zeros(3), np.ones(3)
    for step in range(4):
        x = rand(6, 3, 4, loc=step, scale=1 + step)
        y = np.asarray(bn(x, training=True))
        np.testing.assert_allclose(y, bn_ref(x.astype(np.float64), 1, gamma, beta), rtol=1e-4, atol=1e-4)
        mm = mm * 0.8 + x.mean(axis=(0, 2)) * 0.2
        mv = mv * 0.8 + x.var(axis=(0, 2)) * 0.2
        np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(bn.moving_variance.numpy(), mv, rtol=1e-5, atol=1e-6)
    x = rand(5, 3, 4)
    for kwargs in ({}, {"training": False}):  # inference is the default
        y = np.asarray(bn(x, **kwargs))
        np.testing.assert_allclose(y, bn_ref(x, 1, gamma, beta, mean=mm, var=mv), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradients_match_numpy(training):
    bn = layers.BatchNormalization(momentum=0.5)
    x = rand(5, 2, 3, loc=1.0)
    bn(x)
    gamma, beta, mm, mv = rand(3, loc=1.0), rand(3), rand(3), rand(3, loc=2.0, scale=0.2)
    bn.set_weights([gamma, beta, mm, mv])
    xv = em.Variable(x)
    with em.GradientTape() as tape:
        y = bn(xv, training=training)
        w = np.linspace(-1, 1, y.shape[0] * 6, dtype=np.float32).reshape(5, 2, 3)
        loss = ops.sum(y * w)
    gx, gg, gb = (np.asarray(g) for g in tape.gradient(loss, [xv, bn.gamma, bn.beta]))
    stats = {} if training else {"mean": mm.astype(np.float64), "var": mv.astype(np.float64)}

    def f(a=x, g=gamma, b=beta):
        return np.sum(bn_ref(np.asarray(a, np.float64), -1, g, b, **stats) * w)

    np.testing.assert_allclose(gx, numeric_grad(lambda a: f(a=a), x), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gg, numeric_grad(lambda g: f(g=g), gamma), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gb, numeric_grad(lambda b: f(b=b), beta), rtol=1e-3, atol=1e-3)


def test_frozen_batch_norm_runs_in_inference_mode_eagerly():
    bn = layers.BatchNormalization()
    x = rand(8, 4, loc=3.0, scale=2.0)
    bn(x, training=True)
    stats = [w.copy() for w in bn.get_weights()]
    inference = np.asarray(bn(x, training=False))
    bn.trainable = False
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4
    np.testing.assert_array_equal(np.asarray(bn(x, training=True)), inference)
    for a, b in zip(stats, bn.get_weights()):
        np.testing.assert_array_equal(a, b)
    bn.trainable = True
    assert not np.allclose(np.asarray(bn(x, training=True)), inference)
    # frozen before it was built
    fb = layers.BatchNormalization(trainable=False)
    np.testing.assert_allclose(np.asarray(fb(x, training=True)), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(fb.moving_mean.numpy(), np.zeros(4))


def blobs(n=512, seed=0, classes=3, dim=6, loc=40.0, scale=25.0):
    """Gaussian blobs, badly scaled and offset (the case batch normalization is for)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    x = (centers[y] + rng.normal(size=(n, dim))) * scale + loc
    return x.astype("float32"), y.astype("int64")


def bn_model(momentum=0.9):
    return em.Sequential([
        em.Input(shape=(6,)),
        layers.Dense(16),
        layers.BatchNormalization(momentum=momentum),
        layers.Activation("relu"),
        layers.Dense(3, activation="softmax"),
    ])


def test_graph_and_eager_drivers_update_moving_statistics_alike():
    x, y = blobs(128)
    results = []
    for eager in (False, True):
        em.utils.set_random_seed(3)
        m = bn_model()
        m.compile(optimizer=em.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", run_eagerly=eager)
        assert m._uses_graph_driver() is (not eager)
        before = m.layers[1].moving_mean.numpy().copy()
        m.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
        assert not np.allclose(m.layers[1].moving_mean.numpy(), before)
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("eager", [False, True])
def test_frozen_batch_norm_in_fit(eager):
    x, y = blobs(128)
    m = bn_model()
    m.compile(optimizer=em.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", run_eagerly=eager)
    m.fit(x, y, epochs=1, batch_size=32, verbose=0)
    bn = m.layers[1]
    bn.trainable = False
    frozen = [w.copy() for w in bn.get_weights()]
    m.compile(optimizer=em.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy", run_eagerly=eager)
    assert m._uses_graph_driver() is (not eager)
    dense_before = m.layers[0].get_weights()[0].copy()
    m.fit(x, y, epochs=1, batch_size=32, verbose=0)
    for a, b in zip(frozen, bn.get_weights()):
        np.testing.assert_array_equal(a, b)  # neither gamma/beta nor the moving statistics move
    assert not np.allclose(dense_before, m.layers[0].get_weights()[0])
    # a frozen BN normalizes training batches with the moving statistics: training and
    # inference outputs agree
    np.testing.assert_allclose(np.asarray(m(x[:16], training=True)), np.asarray(m(x[:16])), rtol=1e-5)


def test_freezing_a_model_freezes_its_batch_norm():
    x, _ = blobs(64)
    m = bn_model()
    m(x[:8], training=True)
    m.trainable = False
    assert m.layers[1].trainable is False and m.trainable_weights == []
    stats = m.layers[1].moving_mean.numpy().copy()
    np.testing.assert_allclose(np.asarray(m(x, training=True)), np.asarray(m(x)), rtol=1e-5)
    np.testing.assert_array_equal(m.layers[1].moving_mean.numpy(), stats)


def test_batch_norm_model_trains_with_fit():
    """Dense -> BatchNormalization -> ReLU -> Dense on badly scaled blobs (inputs ~ 40 +- 60):
    at least 90% held-out accuracy after 8 epochs, evaluated with the moving statistics."""
    em.utils.set_random_seed(0)
    x, y = blobs(900, seed=1)
    m = bn_model()
    m.compile(optimizer=em.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    m.fit(x[:700], y[:700], epochs=8, batch_size=32, verbose=0)
    _, acc = m.evaluate(x[700:], y[700:], verbose=0)
    assert acc >= 0.9, acc


# ---------------------------------------------------------------- other layers


def test_layer_normalization_layer():
    ln = layers.LayerNormalization(axis=[1, 2], epsilon=1e-3)
    x = rand(2, 3, 4, loc=2.0)
    ln(x)
    assert [w.name for w in ln.weights] == ["gamma", "beta"] and tuple(ln.gamma.shape) == (3, 4)
    gamma, beta = rand(3, 4, loc=1.0), rand(3, 4)
    ln.set_weights([gamma, beta])
    np.testing.assert_allclose(np.asarray(ln(x)), ln_ref(x, (1, 2), gamma, beta), rtol=1e-4, atol=1e-5)
    cfg = roundtrip(ln).get_config()
    assert cfg["axis"] == [1, 2] and cfg["epsilon"] == 1e-3 and cfg["rms_scaling"] is False
    rms = layers.LayerNormalization(rms_scaling=True)
    rms(x)
    assert [w.name for w in rms.weights] == ["gamma"]
    np.testing.assert_allclose(np.asarray(rms(x)), ln_ref(x, (-1,), rms_scaling=True), rtol=1e-4, atol=1e-5)
    plain = layers.LayerNormalization(center=False, scale=False)
    np.testing.assert_allclose(np.asarray(plain(x)), ln_ref(x, (-1,)), rtol=1e-4, atol=1e-5)
    assert plain.weights == [] and plain.get_config()["axis"] == [-1]  # Keras lists the axis once built


def test_group_normalization_layer():
    x = rand(2, 3, 3, 6, loc=1.0)
    gn = layers.GroupNormalization(groups=3)
    gn(x)
    assert [w.name for w in gn.weights] == ["gamma", "beta"] and [w.shape for w in gn.get_weights()] == [(6,)] * 2
    gamma, beta = rand(6, loc=1.0), rand(6)
    gn.set_weights([gamma, beta])
    xg = x.reshape(2, 3, 3, 3, 2)
    mean = xg.mean(axis=(1, 2, 4), keepdims=True)
    var = xg.var(axis=(1, 2, 4), keepdims=True)
    want = ((xg - mean) / np.sqrt(var + 1e-3)).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(np.asarray(gn(x)), want, rtol=1e-4, atol=1e-5)
    # groups=-1: instance normalization; channels on axis 1
    inst = layers.GroupNormalization(groups=-1, axis=1, center=False, scale=False)
    xc = rand(2, 4, 5)
    want = (xc - xc.mean(axis=2, keepdims=True)) / np.sqrt(xc.var(axis=2, keepdims=True) + 1e-3)
    np.testing.assert_allclose(np.asarray(inst(xc)), want, rtol=1e-4, atol=1e-5)
    assert inst.get_config()["groups"] == 4
    cfg = roundtrip(layers.GroupNormalization(groups=2, epsilon=1e-5, beta_initializer="ones")).get_config()
    assert (cfg["groups"], cfg["axis"], cfg["epsilon"]) == (2, -1, 1e-5)


def test_unit_normalization_layer():
    un = layers.UnitNormalization()
    y = np.asarray(un(np.arange(6, dtype="float32").reshape(2, 3)))
    np.testing.assert_allclose(np.sum(y[0] ** 2), 1.0, rtol=1e-6)  # the Keras docstring example
    x = rand(3, 4, 5)
    y = np.asarray(layers.UnitNormalization(axis=[1, 2])(x))
    np.testing.assert_allclose(y, x / np.sqrt(np.sum(x * x, axis=(1, 2), keepdims=True)), rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(un(np.zeros((2, 3), "float32"))), np.zeros((2, 3)))
    assert roundtrip(layers.UnitNormalization(axis=[1, 2])).get_config()["axis"] == [1, 2]
    with pytest.raises(TypeError, match="axis"):
        layers.UnitNormalization(axis="x")


@pytest.mark.parametrize("cls, shape, channel_axes", [
    (layers.SpatialDropout1D, (6, 7, 16), (0, 2)),
    (layers.SpatialDropout2D, (6, 4, 5, 16), (0, 3)),
    (layers.SpatialDropout3D, (6, 2, 3, 4, 16), (0, 4)),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, channel_axes):
    layer = cls(0.4, seed=5)
    x = np.ones(shape, "float32")
    np.testing.assert_array_equal(np.asarray(layer(x)), x)  # inference: the identity
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    other = tuple(d for d in range(len(shape)) if d not in channel_axes)
    assert np.all(y.min(axis=other) == y.max(axis=other)), "one draw per sample and channel"
    kept = y.max(axis=other) > 0
    assert 0.3 < kept.mean() < 0.9
    again = cls(0.4, seed=5)
    np.testing.assert_array_equal(np.asarray(again(x, training=True)), y)  # the seed fixes the masks
    cfg = roundtrip(layer).get_config()
    assert cfg["rate"] == 0.4 and cfg["seed"] == 5


def test_spatial_dropout_channels_first_and_errors():
    layer = layers.SpatialDropout2D(0.5, data_format="channels_first", seed=1)
    assert layer.get_config()["data_format"] == "channels_first"
    y = np.asarray(layer(np.ones((4, 8, 3, 3), "float32"), training=True))
    assert np.all(y.min(axis=(2, 3)) == y.max(axis=(2, 3)))
    with pytest.raises(ValueError, match="data_format"):
        layers.SpatialDropout2D(0.5, data_format="channels_middle")
    with pytest.raises(ValueError, match="rate"):
        layers.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match=r"spatial.*ndim=4.*\[2, 3\]"):
        layers.SpatialDropout2D(0.5, name="spatial")(np.ones((2, 3), "float32"), training=True)


# ---------------------------------------------------------------- bad input


def test_axis_out_of_range_names_the_layer_and_shape():
    x = rand(2, 3)
    for layer in (layers.BatchNormalization(axis=2, name="bn_a"), layers.LayerNormalization(axis=[1, 3], name="ln_a"),
                  layers.GroupNormalization(groups=1, axis=-3, name="gn_a"),
                  layers.UnitNormalization(axis=5, name="un_a")):
        with pytest.raises(ValueError, match=rf"{layer.name}.*out of bounds.*\(2, 3\)"):
            layer(x)
    with pytest.raises(ValueError, match=r"bn_s.*out of bounds.*\(None, 4\)"):
        layers.BatchNormalization(axis=-3, name="bn_s")(em.Input(shape=(4,)))


def test_groups_must_divide_the_channels():
    with pytest.raises(ValueError, match=r"gn_b.*groups \(4\).*channels \(6\).*\(2, 5, 6\)"):
        layers.GroupNormalization(groups=4, name="gn_b")(rand(2, 5, 6))
    with pytest.raises(ValueError, match=r"groups \(8\).*channels \(6\)"):
        layers.GroupNormalization(groups=8)(rand(2, 6))


def test_inputs_with_another_feature_size_than_built():
    bn = layers.BatchNormalization(name="bn_c")
    bn(rand(2, 4))
    with pytest.raises(ValueError, match=r"bn_c.*axis 1.*value 4.*\[2, 5\]"):
        bn(rand(2, 5), training=True)
    with pytest.raises(ValueError, match=r"bn_c.*ndim=2.*\[2, 3, 4\]"):
        bn(rand(2, 3, 4))
    ln = layers.LayerNormalization(name="ln_c")
    ln(rand(2, 4))
    with pytest.raises(ValueError, match=r"ln_c.*\[4\].*\[3, 5\]"):
        ln(rand(3, 5))
    gn = layers.GroupNormalization(groups=2, name="gn_c")
    gn(rand(2, 4))
    with pytest.raises(ValueError, match=r"gn_c.*value 4.*\[2, 6\]"):
        gn(rand(2, 6))
