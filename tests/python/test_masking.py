"""Keras masks end to end: Masking, TimeDistributed, propagation in the eager driver, the
functional API and the compiled graph, masked losses and pooling, merge masks, errors."""
import numpy as np
import pytest

import ember as keras
from ember import layers


def seq(batch=3, steps=5, features=4, seed=0):
    x = np.random.default_rng(seed).normal(size=(batch, steps, features)).astype(np.float32)
    x[0, 3:] = 0.0
    x[1, 1] = 0.0
    return x


def test_masking_zeroes_masked_steps_and_sets_the_mask():
    x = seq()
    x[2, 0] = 2.0
    y = layers.Masking(mask_value=2.0)(x)
    want = np.any(x != 2.0, axis=-1)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), want.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(y), x * want[..., None])
    assert layers.Masking(1.5).get_config()["mask_value"] == 1.5


def test_masks_flow_through_layers_that_support_them_and_stop_at_others():
    x = seq()
    m = layers.Masking()(x)
    for layer in (layers.Dense(3), layers.Activation("relu"), layers.Dropout(0.5), layers.LayerNormalization()):
        assert layer.supports_masking
        assert layer(m)._keras_mask is not None
    assert not layers.Flatten().supports_masking
    assert getattr(layers.Flatten()(m), "_keras_mask", None) is None


def test_masked_global_average_pooling_matches_keras_formula():
    x = seq()
    mask = np.any(x != 0, axis=-1).astype(np.float32)
    y = np.asarray(layers.GlobalAveragePooling1D()(layers.Masking()(x)))
    np.testing.assert_allclose(y, (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True), rtol=1e-5)
    # the max ignores masks, as Keras's GlobalMaxPooling1D does
    np.testing.assert_allclose(np.asarray(layers.GlobalMaxPooling1D()(layers.Masking()(x))), x.max(1))


def test_a_custom_layer_receives_the_mask_and_passes_it_on():
    seen = {}

    class Probe(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, inputs, mask=None):
            seen["mask"] = None if mask is None else np.asarray(mask)
            return inputs

    x = seq()
    out = Probe()(layers.Masking()(x))
    np.testing.assert_array_equal(seen["mask"], np.any(x != 0, -1))
    assert out._keras_mask is not None


def test_time_distributed_dense_matches_numpy_and_keeps_the_mask():
    x = seq()
    td = layers.TimeDistributed(layers.Dense(2))
    y = td(layers.Masking()(x))
    k, b = td.get_weights()
    np.testing.assert_allclose(np.asarray(y), x @ k + b, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), np.any(x != 0, -1))
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 2)
    with pytest.raises(ValueError, match="at least 3"):
        layers.TimeDistributed(layers.Dense(2))(np.zeros((2, 3), np.float32))


def test_time_distributed_conv2d_runs_in_the_compiled_graph():
    x = np.random.default_rng(2).normal(size=(4, 3, 6, 6, 1)).astype(np.float32)
    model = keras.Sequential([
        keras.Input((3, 6, 6, 1)),
        layers.TimeDistributed(layers.Conv2D(2, 3)),
        layers.TimeDistributed(layers.Flatten()),
    ])
    assert model._native_graph() is not None
    eager = np.asarray(model(x))
    np.testing.assert_allclose(model.predict(x, verbose=0), eager, rtol=1e-5, atol=1e-6)
    assert eager.shape == (4, 3, 4 * 4 * 2)


def test_functional_tensors_carry_masks_and_the_graph_honours_them():
    inp = keras.Input((5,), dtype="int64")
    h = layers.Embedding(10, 4, mask_zero=True)(inp)
    assert h._keras_mask is not None and h._keras_mask.shape == (None, 5)
    h = layers.TimeDistributed(layers.Dense(3))(h)
    assert h._keras_mask is not None
    out = layers.GlobalAveragePooling1D()(h)
    assert out._keras_mask is None
    model = keras.Model(inp, out)
    ids = np.array([[1, 2, 0, 0, 0], [4, 5, 6, 7, 0], [9, 0, 0, 0, 0]])
    e, k, b = model.get_weights()
    steps = e[ids] @ k + b
    mask = (ids != 0)[..., None]
    want = (steps * mask).sum(1) / mask.sum(1)
    np.testing.assert_allclose(np.asarray(model(ids)), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(ids, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_a_masked_sequence_loss_is_kerass_masked_mean():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.random.default_rng(3).normal(size=(2, 4, 2)).astype(np.float32)
    model = keras.Sequential([
        keras.Input((4,), dtype="int64"),
        layers.Embedding(6, 3, mask_zero=True),
        layers.Dense(2),
    ])
    model.compile(optimizer="sgd", loss="mse")
    pred = model.predict(ids, verbose=0)
    per_step = ((pred - y) ** 2).mean(-1)
    mask = ids != 0
    want = (per_step * mask).sum() / mask.sum()
    np.testing.assert_allclose(model.evaluate(ids, y, verbose=0), want, rtol=1e-5)
    # with (temporal) sample weights the mask multiplies them and the mean runs over valid steps
    sw = np.random.default_rng(5).uniform(0.5, 2.0, size=(2, 4)).astype(np.float32)
    want_w = (per_step * mask * sw).sum() / mask.sum()
    np.testing.assert_allclose(model.evaluate(ids, y, sample_weight=sw, verbose=0), want_w, rtol=1e-5)


def test_fit_with_masks_learns_a_padded_sequence_task():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(200, 6, 2)).astype(np.float32)
    lengths = rng.integers(2, 7, size=200)
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    # the target is the mean of feature 0 over the real steps: padding must be ignored
    y = np.array([x[i, :n, 0].mean() for i, n in enumerate(lengths)], np.float32)[:, None]
    model = keras.Sequential([
        keras.Input((6, 2)),
        layers.Masking(),
        layers.TimeDistributed(layers.Dense(1)),
        layers.GlobalAveragePooling1D(),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    model.fit(x, y, epochs=40, batch_size=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 1e-3


def test_merge_layers_combine_masks_as_keras():
    a = layers.Masking()(seq(seed=1))
    xb = seq(seed=2)
    xb[2, 4] = 0.0
    b = layers.Masking()(xb)
    ma, mb = np.asarray(a._keras_mask), np.asarray(b._keras_mask)
    np.testing.assert_array_equal(np.asarray(layers.Add()([a, b])._keras_mask), ma * mb)
    cat = layers.Concatenate(axis=1)([a, b])
    np.testing.assert_array_equal(np.asarray(cat._keras_mask), np.concatenate([ma, mb], 1))
    cat = layers.Concatenate()([a, np.zeros((3, 5, 2), np.float32)])
    np.testing.assert_array_equal(np.asarray(cat._keras_mask), np.ones((3, 5)))
    assert getattr(layers.Dot(axes=2)([a, b]), "_keras_mask", None) is None


def test_a_mask_that_does_not_match_is_a_value_error_naming_the_layer():
    x = seq()
    with pytest.raises(ValueError, match=r"gap.*\[3, 4\].*\[3, 5, 4\]"):
        layers.GlobalAveragePooling1D(name="gap")(x, mask=np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"td.*\[2, 5\]"):
        layers.TimeDistributed(layers.Dense(2), name="td")(x, mask=np.ones((2, 5), np.float32))


def test_eager_losses_weigh_steps_by_the_mask_of_y_pred():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.random.default_rng(6).normal(size=(2, 4, 2)).astype(np.float32)
    pred = layers.Dense(2)(layers.Embedding(6, 3, mask_zero=True)(ids))
    p = np.asarray(pred)
    mask = ids != 0
    want = (((p - y) ** 2).mean(-1) * mask).sum() / mask.sum()
    np.testing.assert_allclose(float(np.asarray(keras.losses.MeanSquaredError()(y, pred))), want, rtol=1e-5)
    unmasked = keras.losses.MeanSquaredError()(y, p)
    np.testing.assert_allclose(float(np.asarray(unmasked)), ((p - y) ** 2).mean(), rtol=1e-5)


def test_time_distributed_runs_a_python_layer_eagerly():
    class Double(keras.layers.Layer):
        def call(self, inputs):
            return keras.ops.multiply(inputs, 2.0)

    x = seq()
    y = layers.TimeDistributed(Double())(x)
    np.testing.assert_allclose(np.asarray(y), 2 * x)


def test_metrics_fold_the_mask_into_given_sample_weights_as_keras():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.random.default_rng(7).normal(size=(2, 4, 2)).astype(np.float32)
    model = keras.Sequential([
        keras.Input((4,), dtype="int64"),
        layers.Embedding(6, 3, mask_zero=True),
        layers.Dense(2),
    ])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    p = model.predict(ids, verbose=0)
    mae = np.abs(p - y).mean(-1)
    # without sample weights Keras's metrics do not see the mask
    logs = model.evaluate(ids, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["mae"], mae.mean(), rtol=1e-5)
    sw = np.random.default_rng(8).uniform(0.5, 2.0, size=(2, 4)).astype(np.float32)
    w = sw * (ids != 0)
    logs = model.evaluate(ids, y, sample_weight=sw, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["mae"], (mae * w).sum() / w.sum(), rtol=1e-5)
