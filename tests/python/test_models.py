"""Sequential/Model construction, the training API, and the two drivers agreeing."""
import threading
import time

import numpy as np
import pytest

import ember as em
from ember import layers


def blobs(n=600, seed=0, classes=3, dim=4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(classes, dim))
    y = rng.integers(0, classes, size=n)
    x = centers[y] + rng.normal(size=(n, dim))
    return x.astype("float32"), y.astype("int64")


def mlp(dim=4, classes=3):
    return em.Sequential([
        em.Input(shape=(dim,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(classes, activation="softmax"),
    ])


def test_sequential_construction_and_weights():
    m = em.Sequential()
    m.add(em.Input(shape=(4,)))
    m.add(layers.Dense(8, activation="relu", name="hidden"))
    m.add(layers.Dense(2))
    assert [w.shape for w in m.get_weights()] == [(4, 8), (8,), (8, 2), (2,)]
    assert m.get_layer("hidden") is m.layers[0]
    assert m.output_shape == (None, 2)
    assert m.count_params() == 4 * 8 + 8 + 8 * 2 + 2
    new = [np.full(w.shape, i, dtype="float32") for i, w in enumerate(m.get_weights())]
    m.set_weights(new)
    for a, b in zip(m.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expected a list of 4"):
        m.set_weights(new[:3])


def test_deferred_build_and_call_on_arrays():
    m = em.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not m.built
    out = m(np.ones((5, 7), dtype="float32"))
    assert tuple(out.shape) == (5, 1)
    assert m.built and m.layers[0].get_weights()[0].shape == (7, 3)


def test_summary_lists_layers_and_params(capsys):
    mlp().summary()
    out = capsys.readouterr().out
    assert "Dense" in out and "Total params: 131" in out and "(None, 16)" in out


def test_fit_learns_and_returns_history():
    x, y = blobs()
    m = mlp()
    m.compile(optimizer=em.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = m.fit(x, y, epochs=15, batch_size=32, validation_split=0.2, verbose=0)
    assert set(hist.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert hist.history["val_accuracy"][-1] >= 0.95
    loss, acc = m.evaluate(x, y, verbose=0)
    assert acc >= 0.95
    assert m.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == pytest.approx(acc)
    p = m.predict(x, verbose=0)
    assert p.shape == (len(x), 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert np.mean(np.argmax(p, 1) == y) == pytest.approx(acc, abs=1e-6)


def test_graph_and_eager_drivers_agree():
    x, y = blobs(256)
    results = []
    for eager in (False, True):
        em.utils.set_random_seed(7)
        m = mlp()
        m.compile(optimizer=em.optimizers.SGD(0.1, momentum=0.9), loss="sparse_categorical_crossentropy",
                  run_eagerly=eager)
        assert m._uses_graph_driver() is (not eager)
        m.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
        results.append(m.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_on_batch_methods():
    x, y = blobs(64)
    m = mlp()
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    before = m.test_on_batch(x, y)
    for _ in range(20):
        m.train_on_batch(x, y)
    after = m.test_on_batch(x, y, return_dict=True)
    assert after["loss"] < before[0]
    assert m.predict_on_batch(x).shape == (64, 3)


def test_validation_data_and_sample_weight_scale_the_loss():
    x, y = blobs(128)
    m = mlp()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = m.fit(x, y, validation_data=(x[:32], y[:32]), epochs=1, verbose=0)
    assert "val_loss" in h.history
    plain = m.evaluate(x, y, verbose=0)
    doubled = m.evaluate(x, y, sample_weight=np.full(len(x), 2.0, "float32"), verbose=0)
    assert doubled == pytest.approx(2 * plain, rel=1e-5)


def test_class_weight_changes_training():
    x, y = blobs(200)
    finals = []
    for cw in (None, {0: 5.0, 1: 1.0, 2: 1.0}):
        em.utils.set_random_seed(3)
        m = mlp()
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        m.fit(x, y, epochs=1, class_weight=cw, shuffle=False, verbose=0)
        finals.append(m.get_weights()[0])
    assert not np.allclose(finals[0], finals[1])


def test_frozen_layer_does_not_change():
    x, y = blobs(128)
    m = mlp()
    m.layers[0].trainable = False
    frozen = m.layers[0].get_weights()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert len(m.trainable_weights) == 2 and len(m.non_trainable_weights) == 2
    m.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(frozen, m.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


class Scale(layers.Layer):
    """A user-defined layer: y = x * w (per feature)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.w


def test_custom_layer_trains_through_the_eager_driver():
    x, y = blobs(256)
    m = em.Sequential([em.Input(shape=(4,)), Scale(), layers.Dense(3, activation="softmax")])
    m.compile(optimizer=em.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert not m._uses_graph_driver()
    w0 = m.layers[0].get_weights()[0].copy()
    h = m.fit(x, y, epochs=10, verbose=0)
    assert not np.allclose(w0, m.layers[0].get_weights()[0])
    assert h.history["accuracy"][-1] > 0.9


def test_overridden_train_step_works_with_fit_and_callbacks():
    seen = []

    class Custom(em.Model):
        def train_step(self, data):
            x, y = data
            with em.GradientTape() as tape:
                pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            seen.append(1)
            return {"loss": loss}

    inp = em.Input(shape=(4,))
    out = layers.Dense(3, activation="softmax")(layers.Dense(8, activation="relu")(inp))
    m = Custom(inp, out)
    x, y = blobs(96)
    m.compile(optimizer=em.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    epochs = []
    cb = em.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: epochs.append(logs["loss"]))
    m.fit(x, y, epochs=3, batch_size=32, callbacks=[cb], verbose=0)
    assert len(seen) == 9 and len(epochs) == 3 and epochs[-1] < epochs[0]


def test_stop_training_from_a_callback():
    x, y = blobs(64)
    m = mlp()
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    class StopAfterTwo(em.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    h = m.fit(x, y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert len(h.history["loss"]) == 2


def test_fit_releases_the_gil():
    x, y = blobs(20000, dim=64)
    m = em.Sequential([em.Input(shape=(64,)), layers.Dense(256, activation="relu"), layers.Dense(3)])
    m.compile(optimizer="adam", loss=em.losses.SparseCategoricalCrossentropy(from_logits=True))
    done = threading.Event()
    t = threading.Thread(target=lambda: (m.fit(x, y, epochs=2, verbose=0), done.set()))
    ticks = 0
    start = time.time()
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    elapsed = time.time() - start
    # while fit runs in the core, this thread keeps being scheduled (~1 tick per ms)
    assert ticks > 0.3 * elapsed * 1000, (ticks, elapsed)
