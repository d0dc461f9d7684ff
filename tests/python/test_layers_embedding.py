"""Embedding: numpy references, gradients, masks, bad ids, config and training."""
import numpy as np
import pytest

import ember as keras
from ember import layers


def test_lookup_matches_numpy_and_has_the_keras_weight():
    layer = layers.Embedding(7, 3)
    (w,) = layer.get_weights()
    assert w.shape == (7, 3) and np.all(np.abs(w) <= 0.05)  # "uniform": U(-0.05, 0.05)
    ids = np.array([[1, 6, 0], [2, 2, 5]])
    y = np.asarray(layer(ids))
    np.testing.assert_array_equal(y, w[ids])
    np.testing.assert_array_equal(np.asarray(layer(ids.astype(np.float32))), w[ids])
    assert layer.compute_output_shape((None, 3)) == (None, 3, 3)


def test_gradient_is_a_scatter_add_of_the_output_gradient():
    layer = layers.Embedding(5, 2)
    ids = np.array([[1, 1, 4], [0, 1, 3]])
    g = np.random.default_rng(0).normal(size=(2, 3, 2)).astype(np.float32)
    with keras.GradientTape() as tape:
        loss = keras.ops.sum(keras.ops.multiply(layer(ids), g))
    (dw,) = tape.gradient(loss, layer.trainable_weights)
    want = np.zeros((5, 2), np.float32)
    np.add.at(want, ids.reshape(-1), g.reshape(-1, 2))
    np.testing.assert_allclose(np.asarray(dw), want, rtol=1e-6)


def test_mask_zero_gives_the_mask_of_nonzero_ids():
    layer = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[3, 0, 1], [0, 0, 2]])
    assert layer.supports_masking and not layers.Embedding(5, 2).supports_masking
    y = layer(ids)
    np.testing.assert_array_equal(np.asarray(y._keras_mask), (ids != 0).astype(np.float32))
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(ids, None)), ids != 0)
    assert layers.Embedding(5, 2).compute_mask(ids, None) is None


@pytest.mark.parametrize("bad", [5, -1, 1.5])
def test_out_of_range_ids_raise_a_value_error(bad):
    layer = layers.Embedding(5, 2, name="tok")
    with pytest.raises(ValueError, match=r"tok.*input_dim=5"):
        layer(np.array([[1, bad]]))


def test_bad_arguments_and_weights():
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 2)
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(3, -1)
    w = np.arange(6, dtype=np.float32).reshape(3, 2)
    layer = layers.Embedding(3, 2, weights=[w], input_length=4)
    np.testing.assert_array_equal(np.asarray(layer(np.array([[2]]))), w[None, [2]])
    config = layer.get_config()
    assert config["input_dim"] == 3 and config["mask_zero"] is False
    assert layers.Embedding.from_config(config).output_dim == 2


def test_a_bag_of_embeddings_classifier_learns_in_the_compiled_graph():
    rng = np.random.default_rng(1)
    ids = rng.integers(1, 20, size=(256, 6))
    ids[:, 3:] *= rng.integers(0, 2, size=(256, 3))  # padding zeros
    y = (ids == 7).any(axis=1).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6,), dtype="int64"),
        layers.Embedding(20, 8, mask_zero=True),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ])
    assert model._native_graph() is not None
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(ids, y, epochs=30, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.95
