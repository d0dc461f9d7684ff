"""Preprocessing and augmentation layers and ember.ops.image against numpy references:
half-pixel resizing, flips, crops, quarter-turn rotations, shifts and zooms, the contrast and
brightness formulas, Normalization.adapt statistics; inference behaviour, seeds, configs,
gradients, compiled models, and errors that name the layer."""

import numpy as np
import pytest

import ember
from ember import layers, ops

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.uniform(0, 1, size=shape).astype(np.float32)


def out(layer, x, **kwargs):
    return np.asarray(layer(x, **kwargs))


def roundtrip(layer):
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    return again


def np_resize(x, oh, ow, method="bilinear"):
    """Half-pixel resize of (n, h, w, c) images (TF/jax semantics, no antialiasing)."""
    _, h, w, _ = x.shape

    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * n_in / n_out
        if method == "nearest":
            i = np.minimum(np.floor(src).astype(int), n_in - 1)
            return i, i, np.zeros(n_out)
        lo = np.floor(src - 0.5)
        frac = src - 0.5 - lo
        return np.clip(lo, 0, n_in - 1).astype(int), np.clip(lo + 1, 0, n_in - 1).astype(int), frac

    y0, y1, fy = axis(h, oh)
    x0, x1, fx = axis(w, ow)
    fy, fx = fy[None, :, None, None], fx[None, None, :, None]
    rows0, rows1 = x[:, y0], x[:, y1]
    top = rows0[:, :, x0] * (1 - fx) + rows0[:, :, x1] * fx
    bottom = rows1[:, :, x0] * (1 - fx) + rows1[:, :, x1] * fx
    return top * (1 - fy) + bottom * fy


def np_smart_resize(x, th, tw):
    """Keras's largest centered window of the target aspect ratio, resized bilinearly."""
    _, h, w, _ = x.shape
    ch = max(min(h, int(w * th / tw)), 1)
    cw = max(min(w, int(h * tw / th)), 1)
    top, left = (h - ch) // 2, (w - cw) // 2
    return np_resize(x[:, top:top + ch, left:left + cw], th, tw)


def shift(x, dy, dx, fill=0.0):
    """out[y, x] = in[y - dy, x - dx], ``fill`` outside."""
    n, h, w, c = x.shape
    y = np.full_like(x, fill)
    ys, xs = slice(max(dy, 0), h + min(dy, 0)), slice(max(dx, 0), w + min(dx, 0))
    yi, xi = slice(max(-dy, 0), h + min(-dy, 0)), slice(max(-dx, 0), w + min(-dx, 0))
    y[:, ys, xs] = x[:, yi, xi]
    return y


# ---------------------------------------------------------------- ops.image


@pytest.mark.parametrize("method", ["bilinear", "nearest"])
@pytest.mark.parametrize("size", [(7, 9), (3, 2), (5, 12)])
def test_resize_matches_numpy_half_pixel(method, size):
    x = rand(2, 5, 6, 3)
    y = np.asarray(ops.image.resize(x, size, interpolation=method))
    np.testing.assert_allclose(y, np_resize(x, *size, method), rtol=1e-5, atol=1e-6)
    single = np.asarray(ops.image.resize(x[0], size, interpolation=method))
    np.testing.assert_allclose(single, y[0], rtol=1e-6, atol=1e-7)
    first = np.asarray(ops.image.resize(x.transpose(0, 3, 1, 2), size, interpolation=method,
                                        data_format="channels_first"))
    np.testing.assert_allclose(first, y.transpose(0, 3, 1, 2), rtol=1e-6, atol=1e-7)


def test_resize_aspect_ratio_options():
    x = rand(2, 4, 8, 1)
    crop = np.asarray(ops.image.resize(x, (6, 6), crop_to_aspect_ratio=True))
    np.testing.assert_allclose(crop, np_smart_resize(x, 6, 6), rtol=1e-5, atol=1e-6)
    pad = np.asarray(ops.image.resize(x, (8, 8), pad_to_aspect_ratio=True, fill_value=2.0, interpolation="nearest"))
    np.testing.assert_array_equal(pad, np.pad(x, ((0, 0), (2, 2), (0, 0), (0, 0)), constant_values=2.0))
    with pytest.raises(ValueError, match="antialias"):
        ops.image.resize(x, (2, 2), antialias=True)
    np.testing.assert_array_equal(np.asarray(ops.image.resize(x, (8, 16), antialias=True)),
                                  np.asarray(ops.image.resize(x, (8, 16))))


def test_affine_transform_shifts_and_fill_modes():
    x = rand(2, 6, 7, 2)
    transform = np.array([[1, 0, -2, 0, 1, 1, 0, 0], [1, 0, 3, 0, 1, -2, 0, 0]], np.float32)
    y = np.asarray(ops.image.affine_transform(x, transform, fill_value=0.5))
    np.testing.assert_array_equal(y[0], shift(x[:1], -1, 2, 0.5)[0])
    np.testing.assert_array_equal(y[1], shift(x[1:], 2, -3, 0.5)[0])
    row = np.arange(1, 5, dtype=np.float32).reshape(1, 4, 1)
    left3 = [1, 0, -3, 0, 1, 0, 0, 0]
    expected = {"constant": [0, 0, 0, 1], "nearest": [1, 1, 1, 1], "wrap": [2, 3, 4, 1], "reflect": [3, 2, 1, 1]}
    for mode, want in expected.items():
        got = np.asarray(ops.image.affine_transform(row, left3, interpolation="nearest", fill_mode=mode))
        np.testing.assert_array_equal(got.ravel(), want, err_msg=mode)


def test_crop_and_pad_images():
    x = rand(2, 6, 7, 3)
    np.testing.assert_array_equal(np.asarray(ops.image.crop_images(x, 1, 2, target_height=3, target_width=4)),
                                  x[:, 1:4, 2:6])
    np.testing.assert_array_equal(np.asarray(ops.image.crop_images(x[0], 1, 2, 1, 3)), x[0, 1:5, 2:4])
    np.testing.assert_array_equal(np.asarray(ops.image.pad_images(x, 1, 2, target_height=9, target_width=10)),
                                  np.pad(x, ((0, 0), (1, 2), (2, 1), (0, 0))))
    with pytest.raises(ValueError, match="target_height must be >= 0"):
        ops.image.crop_images(x, 2, 0, bottom_cropping=5, right_cropping=0)
    with pytest.raises(ValueError, match="exactly two"):
        ops.image.crop_images(x, 1, 1)


# ---------------------------------------------------------------- deterministic layers


def test_rescaling_formula_and_config():
    x = rand(2, 3, 3, 3) * 255
    np.testing.assert_allclose(out(layers.Rescaling(1 / 127.5, offset=-1), x), x / 127.5 - 1, rtol=1e-5, atol=1e-5)
    per_channel = layers.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, -1.0])
    np.testing.assert_allclose(out(per_channel, x), x * [1, 2, 3] + [0, 1, -1], rtol=1e-6)
    assert roundtrip(per_channel).get_config()["scale"] == [1.0, 2.0, 3.0]
    assert out(layers.Rescaling(0.5), np.arange(4).reshape(1, 2, 2, 1)).dtype == np.float32  # ints become floats


def test_resizing_layer():
    x = rand(2, 5, 8, 3)
    layer = layers.Resizing(4, 6)
    np.testing.assert_allclose(out(layer, x), np_resize(x, 4, 6), rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 5, 8, 3)) == (None, 4, 6, 3)
    crop = layers.Resizing(4, 4, crop_to_aspect_ratio=True)
    np.testing.assert_allclose(out(crop, x), np_smart_resize(x, 4, 4), rtol=1e-5, atol=1e-6)
    near = layers.Resizing(10, 16, interpolation="nearest")
    np.testing.assert_array_equal(out(near, x), x.repeat(2, axis=1).repeat(2, axis=2))
    assert roundtrip(layers.Resizing(3, 4, pad_to_aspect_ratio=True, fill_value=1.0)).height == 3


def test_center_crop():
    x = rand(2, 7, 9, 3)
    np.testing.assert_array_equal(out(layers.CenterCrop(3, 4), x), x[:, 2:5, 2:6])
    np.testing.assert_array_equal(out(layers.CenterCrop(3, 4), x[0]), x[0, 2:5, 2:6])
    np.testing.assert_allclose(out(layers.CenterCrop(10, 4), x), np_smart_resize(x, 10, 4), rtol=1e-5, atol=1e-6)
    assert layers.CenterCrop(3, 4).compute_output_shape((None, 7, 9, 3)) == (None, 3, 4, 3)
    roundtrip(layers.CenterCrop(3, 4))


def test_normalization_adapt_matches_numpy():
    x = rand(50, 4, 3) * 10 - 3
    for axis, reduce in [(-1, (0, 1)), (None, (0, 1, 2)), ((1, 2), (0,))]:
        layer = layers.Normalization(axis=axis)
        layer.adapt(x)
        mean, var, count = layer.get_weights()
        np.testing.assert_allclose(mean, x.mean(axis=reduce), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(var, x.var(axis=reduce), rtol=1e-5, atol=1e-5)
        keep = tuple(1 if d in reduce else s for d, s in enumerate(x.shape))
        expect = (x - x.mean(axis=reduce).reshape(keep)) / np.sqrt(x.var(axis=reduce)).reshape(keep)
        np.testing.assert_allclose(out(layer, x), expect, rtol=1e-4, atol=1e-4)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == [] and count.shape == ()
    batched = layers.Normalization()
    batched.adapt([x[:20], x[20:35], x[35:]])  # batches combine into the same statistics
    np.testing.assert_allclose(batched.get_weights()[0], x.mean(axis=(0, 1)), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(batched.get_weights()[1], x.var(axis=(0, 1)), rtol=1e-5, atol=1e-5)
    inverse = layers.Normalization(invert=True)
    inverse.adapt(x)
    np.testing.assert_allclose(out(inverse, out(batched, x)), x, rtol=1e-4, atol=1e-4)


def test_normalization_given_statistics_and_config():
    layer = layers.Normalization(mean=3.0, variance=2.0)
    x = np.array([[1.0], [2.0], [3.0]], np.float32)
    np.testing.assert_allclose(out(layer, x), (x - 3) / np.sqrt(2), rtol=1e-6)
    assert layer.weights == []
    per_feature = layers.Normalization(axis=-1, mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    x = rand(3, 2)
    np.testing.assert_allclose(out(per_feature, x), x * [2, 3] + [1, 2], rtol=1e-6)
    again = roundtrip(per_feature)
    assert again.get_config()["mean"] == [1.0, 2.0] and again.axis == (-1,)
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)


# ---------------------------------------------------------------- random layers


def test_random_flip_flips_whole_images():
    x = rand(16, 4, 5, 2)
    for mode, flipped in [("horizontal", x[:, :, ::-1]), ("vertical", x[:, ::-1]),
                          ("horizontal_and_vertical", x[:, ::-1, ::-1])]:
        y = out(layers.RandomFlip(mode, seed=3), x, training=True)
        same = np.all(y == x, axis=(1, 2, 3))
        flip = np.all(y == flipped, axis=(1, 2, 3))
        assert np.all(same | flip) and same.any() and flip.any(), mode
    single = out(layers.RandomFlip("horizontal", seed=1), x[0], training=True)
    assert np.array_equal(single, x[0]) or np.array_equal(single, x[0, :, ::-1])


@pytest.mark.parametrize("factor,k", [(0.25, 1), (-0.25, -1), (0.5, 2)])
def test_random_rotation_quarter_turns_are_rot90(factor, k):
    x = rand(3, 6, 6, 2)
    layer = layers.RandomRotation((factor, factor), interpolation="nearest", fill_mode="constant")
    np.testing.assert_array_equal(out(layer, x, training=True), np.rot90(x, k, axes=(1, 2)))
    bilinear = layers.RandomRotation((factor, factor), fill_mode="constant")
    np.testing.assert_allclose(out(bilinear, x, training=True), np.rot90(x, k, axes=(1, 2)), atol=1e-5)


def test_random_translation_shifts_by_the_factor():
    x = rand(2, 8, 12, 3)
    down = layers.RandomTranslation((0.25, 0.25), (-0.25, -0.25), fill_mode="constant", fill_value=0.5)
    np.testing.assert_allclose(out(down, x, training=True), shift(x, 2, -3, 0.5), atol=1e-6)
    wrap = layers.RandomTranslation((0.5, 0.5), 0.0, fill_mode="wrap", interpolation="nearest")
    np.testing.assert_array_equal(out(wrap, x, training=True), np.roll(x, 4, axis=1))
    reflect = layers.RandomTranslation(0.0, (0.25, 0.25), interpolation="nearest")  # Keras's default fill
    expect = np.concatenate([x[:, :, 2::-1], x[:, :, :-3]], axis=2)
    np.testing.assert_array_equal(out(reflect, x, training=True), expect)


def test_random_zoom_about_the_center():
    x = rand(2, 5, 5, 1)
    zoom_out = layers.RandomZoom((1.0, 1.0), fill_mode="constant", interpolation="nearest")  # zoom 2
    expect = np.zeros_like(x)
    expect[:, 1:4, 1:4] = x[:, ::2, ::2]
    np.testing.assert_array_equal(out(zoom_out, x, training=True), expect)
    aspect = layers.RandomZoom((1.0, 1.0), width_factor=(0.0, 0.0), fill_mode="constant", interpolation="nearest")
    expect = np.zeros_like(x)
    expect[:, 1:4] = x[:, ::2]
    np.testing.assert_array_equal(out(aspect, x, training=True), expect)


def test_random_crop_training_and_inference():
    x = rand(2, 8, 10, 3)
    layer = layers.RandomCrop(5, 6, seed=4)
    y = out(layer, x, training=True)
    windows = [(t, lft) for t in range(4) for lft in range(5) if np.array_equal(y, x[:, t:t + 5, lft:lft + 6])]
    assert len(windows) == 1  # one window, the same for the whole batch
    np.testing.assert_allclose(out(layer, x, training=False), np_smart_resize(x, 5, 6), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out(layer, x[:, :4], training=True), np_smart_resize(x[:, :4], 5, 6),
                               rtol=1e-5, atol=1e-6)  # too small: resized even in training
    assert layer.compute_output_shape((None, 8, 10, 3)) == (None, 5, 6, 3)


def test_random_contrast_formula():
    x = rand(4, 5, 6, 3) * 255
    layer = layers.RandomContrast((0.5, 0.5), value_range=(0, 255), seed=2)
    y = out(layer, x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    centered = x - mean
    inside = (y > 0) & (y < 255)  # the drawn factor, by least squares where nothing was clipped
    f = np.sum((y - mean) * centered * inside, axis=(1, 2, 3)) / np.sum(centered ** 2 * inside, axis=(1, 2, 3))
    assert np.all((f >= 0.5 - 1e-4) & (f <= 1.5 + 1e-4)) and np.ptp(f) > 0
    expect = np.clip(centered * f[:, None, None, None] + mean, 0, 255)
    np.testing.assert_allclose(y, expect, rtol=1e-4, atol=1e-2)


def test_random_brightness_formula():
    x = rand(6, 3, 4, 3)
    layer = layers.RandomBrightness(0.2, value_range=(0, 1), seed=9)
    y = out(layer, x, training=True)
    unclipped = (y > 0) & (y < 1)
    delta = np.array([np.median((y - x)[i][unclipped[i]]) for i in range(6)])
    assert np.all(np.abs(delta) <= 0.2 + 1e-6) and np.ptp(delta) > 0
    np.testing.assert_allclose(y, np.clip(x + delta[:, None, None, None], 0, 1), atol=1e-6)
    assert layer.get_config()["factor"] == [-0.2, 0.2]


RANDOM_LAYERS = [
    lambda: layers.RandomFlip(),
    lambda: layers.RandomRotation(0.2),
    lambda: layers.RandomTranslation(0.2, 0.3),
    lambda: layers.RandomZoom(0.3),
    lambda: layers.RandomContrast(0.5),
    lambda: layers.RandomBrightness(0.3),
]


@pytest.mark.parametrize("make", RANDOM_LAYERS)
def test_random_layers_are_identity_at_inference(make):
    x = rand(16, 6, 6, 3) * 255
    layer = make()
    np.testing.assert_array_equal(out(layer, x, training=False), x)
    assert not np.array_equal(out(layer, x, training=True), x)
    assert not np.array_equal(out(layer, x), x)  # a direct call trains, as in Keras 3
    model = ember.Sequential([ember.Input((6, 6, 3)), make()])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


@pytest.mark.parametrize("make", RANDOM_LAYERS + [lambda: layers.RandomCrop(4, 4)])
def test_seeds_reproduce(make):
    x = rand(4, 6, 6, 3) * 255
    a, b = make(), make()
    config = a.get_config()
    config.update(seed=11, name="a")
    first, second = type(a).from_config(config), type(a).from_config({**config, "name": "b"})
    y = out(first, x, training=True)
    np.testing.assert_array_equal(y, out(second, x, training=True))
    ember.utils.set_random_seed(5)
    ya = out(a, x, training=True)
    ember.utils.set_random_seed(5)
    np.testing.assert_array_equal(ya, out(b, x, training=True))


@pytest.mark.parametrize("make", RANDOM_LAYERS + [
    lambda: layers.RandomCrop(4, 4, seed=1),
    lambda: layers.RandomZoom((-0.2, 0.1), width_factor=0.2, fill_mode="wrap", interpolation="nearest", seed=3),
    lambda: layers.RandomTranslation((-0.1, 0.2), 0.1, fill_value=2.0, data_format="channels_last"),
])
def test_config_round_trip(make):
    layer = make()
    again = roundtrip(layer)
    assert type(again) is type(layer)


# ---------------------------------------------------------------- models and gradients


def test_gradients_flow_to_the_images():
    x = ember.Tensor(rand(2, 4, 5, 3))
    for layer in [layers.Resizing(6, 7), layers.Rescaling(2.0), layers.CenterCrop(2, 3),
                  layers.Normalization(mean=0.5, variance=4.0)]:
        with ember.GradientTape() as tape:
            xw = tape.watch(x)
            y = layer(xw)
            loss = ops.sum(y)
        g = np.asarray(tape.gradient(loss, xw))
        assert g.shape == (2, 4, 5, 3)
        if isinstance(layer, layers.Resizing):
            # each output pixel's bilinear weights sum to 1
            np.testing.assert_allclose(g.sum(), 2 * 6 * 7 * 3, rtol=1e-5)
        if isinstance(layer, layers.CenterCrop):
            np.testing.assert_array_equal(g[:, 1:3, 1:4], 1.0)
            assert g.sum() == 2 * 2 * 3 * 3
    with ember.GradientTape() as tape:
        xw = tape.watch(x)
        loss = ops.sum(layers.RandomFlip(seed=1)(xw, training=True) * np.arange(5, dtype=np.float32)[:, None])
    g = np.asarray(tape.gradient(loss, xw))
    assert set(np.unique(g[..., 0])) <= set(range(5))


def test_compiled_model_trains_with_augmentation():
    x = rand(64, 8, 8, 1)
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype(np.float32)
    norm = layers.Normalization(axis=None)
    norm.adapt(x)
    model = ember.Sequential([
        ember.Input((8, 8, 1)),
        layers.Rescaling(2.0, offset=-1.0),
        norm,
        layers.RandomFlip(seed=1),
        layers.RandomTranslation(0.1, 0.1, seed=2),
        layers.RandomCrop(6, 6, seed=3),
        layers.Resizing(4, 4),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    assert model._graph.native_graph() is not None  # every layer runs in the Rust graph
    model.compile(optimizer=ember.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (64, 1)


# ---------------------------------------------------------------- bad input


def test_wrong_rank_names_the_layer():
    for layer in [layers.RandomFlip(name="flipper"), layers.Resizing(2, 2, name="flipper"),
                  layers.CenterCrop(2, 2, name="flipper"), layers.RandomZoom(0.1, name="flipper")]:
        with pytest.raises(ValueError, match=r'flipper.*rank 3.*\(5, 4\)|flipper.*rank 3.*\[5, 4\]'):
            layer(rand(5, 4), training=True)
    with pytest.raises(ValueError, match="rank 3"):
        ops.image.resize(rand(4, 4), (2, 2))
    norm = layers.Normalization()
    norm.adapt(rand(10, 3))
    with pytest.raises(ValueError, match="normalization"):
        norm(rand(10, 4))


@pytest.mark.parametrize("make,match", [
    (lambda: layers.RandomRotation(1.5), "factor"),
    (lambda: layers.RandomRotation((0.1, 0.2, 0.3)), "factor"),
    (lambda: layers.RandomRotation("a lot"), "factor"),
    (lambda: layers.RandomTranslation(0.1, -1.2), "width_factor"),
    (lambda: layers.RandomZoom((0.1, 2.0)), "height_factor"),
    (lambda: layers.RandomContrast(-0.1), "factor"),
    (lambda: layers.RandomContrast(1.5), "factor"),
    (lambda: layers.RandomBrightness((0.5, 1.1)), "factor"),
    (lambda: layers.RandomBrightness(0.1, value_range=(0, 1, 2)), "value_range"),
    (lambda: layers.RandomFlip("diagonal"), "mode"),
    (lambda: layers.Resizing(0, 4), "height"),
    (lambda: layers.RandomCrop(4, -1), "width"),
    (lambda: layers.Resizing(4, 4, interpolation="cubic"), "interpolation"),
    (lambda: layers.RandomFlip(seed=-1), "seed"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_interpolation_and_fill_names():
    with pytest.raises(NotImplementedError, match="interpolation"):
        layers.RandomRotation(0.1, interpolation="bicubic")
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomZoom(0.1, fill_mode="edge")
    with pytest.raises(NotImplementedError, match="bicubic"):
        layers.Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(rand(4, 4, 1), (2, 2), interpolation="cubic")
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.affine_transform(rand(4, 4, 1), [1, 0, 0, 0, 1, 0, 0, 0], fill_mode="edge")


def test_crop_larger_than_the_image():
    x = rand(1, 4, 4, 1)
    with pytest.raises(ValueError, match="top_cropping must be >= 0"):
        ops.image.crop_images(x, target_height=6, target_width=4, bottom_cropping=0, right_cropping=0)
    with pytest.raises(ValueError, match="target_width must be >= 0"):
        ops.image.crop_images(x, 0, 3, bottom_cropping=0, right_cropping=2)
    with pytest.raises(ValueError, match="transform"):
        ops.image.affine_transform(x, np.ones((3, 8), np.float32))
