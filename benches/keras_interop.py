"""ember -> Keras 3 interoperability check: models saved by ember load in Keras 3 and
predict the same numbers (and Keras can keep training them from ember's optimizer state).

Runs only where Keras 3 is importable (it exits 0 with a note otherwise):
``KERAS_BACKEND=torch PYTHONPATH=python /work/peers/bin/python benches/keras_interop.py``
"""
import os
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

try:
    import keras  # noqa: E402
except Exception as e:  # pragma: no cover - Keras is optional
    print(f"keras_interop: Keras is not importable ({type(e).__name__}: {e}); skipped")
    sys.exit(0)

import ember  # noqa: E402
from ember import layers as L  # noqa: E402

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def dense():
    m = ember.Sequential([ember.Input((6,)), L.Dense(8, activation="relu", kernel_regularizer="l2"),
                          L.Dense(8, activation="tanh", use_bias=False), L.Activation("sigmoid"),
                          L.LeakyReLU(0.2), L.ELU(0.5), L.ReLU(max_value=0.6), L.PReLU(), L.Dropout(0.3),
                          L.Dense(5, activation="gelu"), L.Identity(), L.Softmax()])
    return m, [rand(4, 6)]


def conv():
    m = ember.Sequential([ember.Input((10, 10, 3)), L.Conv2D(4, 3, padding="same", activation="relu"),
                          L.BatchNormalization(), L.MaxPooling2D(2), L.DepthwiseConv2D(3, depth_multiplier=2,
                                                                                        padding="same"),
                          L.SeparableConv2D(5, 3, padding="same"), L.Conv2DTranspose(3, 2, strides=2),
                          L.AveragePooling2D(2, strides=1), L.GlobalAveragePooling2D(), L.Dense(2)])
    return m, [rand(2, 10, 10, 3)]


def conv1d_3d():
    a = ember.Input((12, 3))
    x = L.Conv1D(4, 3, padding="causal", activation="relu")(a)
    x = L.SeparableConv1D(4, 3, padding="same")(x)
    x = L.DepthwiseConv1D(3)(x)
    x = L.Conv1DTranspose(3, 3, strides=2)(x)
    x = L.GlobalMaxPooling1D()(L.MaxPooling1D(2)(x))
    b = ember.Input((6, 6, 6, 2))
    y = L.Conv3DTranspose(2, 2, strides=2)(L.MaxPooling3D(2)(L.Conv3D(3, 3, padding="same")(b)))
    y = L.GlobalAveragePooling3D()(L.AveragePooling3D(2)(y))
    return ember.Model([a, b], [x, y]), [rand(2, 12, 3), rand(2, 6, 6, 6, 2)]


def normalization_reshaping():
    a = ember.Input((4, 6, 2))
    x = L.LayerNormalization()(a)
    x = L.GroupNormalization(groups=2)(x)
    x = L.UnitNormalization()(x)
    x = L.ZeroPadding2D(((1, 0), (0, 2)))(x)
    x = L.Cropping2D(((0, 1), (1, 1)))(x)
    x = L.UpSampling2D(2)(x)
    x = L.Permute((2, 1, 3))(x)
    x = L.Reshape((-1, 4))(x)
    x = L.Flatten()(L.UpSampling1D(2)(L.ZeroPadding1D(1)(L.Cropping1D((1, 2))(x))))
    return ember.Model(a, L.RepeatVector(2)(L.Dense(3)(x))), [rand(2, 4, 6, 2)]


def merging():
    a, b = ember.Input((4,), name="a"), ember.Input((4,), name="b")
    outs = [L.Add()([a, b]), L.Subtract()([a, b]), L.Multiply()([a, b]), L.Average()([a, b]),
            L.Maximum()([a, b]), L.Minimum()([a, b]), L.Concatenate()([a, b]), L.Dot(axes=1)([a, b])]
    return ember.Model([a, b], outs), [rand(3, 4), rand(3, 4)]


def nested():
    inner = ember.Sequential([ember.Input((5,)), L.Dense(4, activation="relu"), L.BatchNormalization()])
    i2 = ember.Input((4,))
    inner_f = ember.Model(i2, L.Dense(3)(i2))
    a = ember.Input((5,))
    x = inner(a)
    m = ember.Model(a, L.Add()([inner_f(x), inner_f(L.Dense(4)(x))]))
    return ember.Sequential([ember.Input((5,)), m, L.Dense(2)]), [rand(3, 5)]


def compiled():
    m = ember.Sequential([ember.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3)])
    m.compile(ember.optimizers.Adam(0.01), "mse", metrics=["mae"])
    x, y = rand(16, 6), rand(16, 3)
    m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return m, [x], y


def optimizer_states(d):
    """Every optimizer: ember trains, saves; Keras loads and takes one more step, as ember
    does: the weights must agree (this checks the order of the saved slot variables)."""
    failures = 0
    x, y = rand(16, 6), rand(16, 3)
    for name in sorted(ember.optimizers.ALL_OBJECTS_DICT):
        m = ember.Sequential([ember.Input((6,)), L.Dense(8, activation="relu"), L.Dense(3)])
        m.compile(ember.optimizers.get(name), "mse")
        m.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        path = os.path.join(d, f"opt_{name}.keras")
        m.save(path)
        k = keras.saving.load_model(path)
        m.train_on_batch(x[:8], y[:8])
        k.train_on_batch(x[:8], y[:8])
        err = max(float(np.max(np.abs(a - np.asarray(b)))) for a, b in zip(m.get_weights(), k.get_weights()))
        ok = err <= 1e-5
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} optimizer {name:<15} weights after one more step differ by {err:.2e}")
    return failures


def randomized(model):
    model.set_weights([rand(*w.shape) * 0.5 for w in model.get_weights()])
    return model


def recurrent():
    inp = ember.Input((7,), dtype="int32")
    x = L.Embedding(12, 5, mask_zero=True)(inp)
    x = L.LSTM(4, return_sequences=True)(x)
    x = L.GRU(3, return_sequences=True, go_backwards=True)(x)
    x = L.GRU(3, reset_after=False, return_sequences=True)(x)
    x = L.Bidirectional(L.SimpleRNN(2, return_sequences=True))(x)
    x = L.Bidirectional(L.LSTM(3), merge_mode="sum")(x)
    ids = RNG.integers(1, 12, size=(5, 7))
    ids[:, 5:] = 0
    return randomized(ember.Model(inp, L.Dense(2)(x))), [ids.astype("int32")]


def sequence_heads():
    inp = ember.Input((6, 4))
    seq, h, c = L.LSTM(3, return_sequences=True, return_state=True)(L.Masking()(inp))
    pooled = L.GlobalAveragePooling1D()(L.TimeDistributed(L.Dense(2, activation="tanh"))(seq))
    x = rand(3, 6, 4)
    x[0, 4:] = 0.0
    return randomized(ember.Model(inp, [pooled, h, c])), [x]


def attention():
    q, v = ember.Input((4, 6)), ember.Input((5, 6))
    a = L.Attention(use_scale=True)([q, v])
    b = L.AdditiveAttention()([q, v])
    c = L.MultiHeadAttention(num_heads=2, key_dim=3)(q, v)
    d = L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, use_bias=False)(q, q, use_causal_mask=True)
    return randomized(ember.Model([q, v], L.Concatenate()([a, b, c, d]))), [rand(3, 4, 6), rand(3, 5, 6)]


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        failures += optimizer_states(d)
        for make in (dense, conv, conv1d_3d, normalization_reshaping, merging, nested, compiled, recurrent,
                     sequence_heads, attention):
            made = make()
            model, xs = made[0], made[1]
            path = os.path.join(d, make.__name__ + ".keras")
            model.save(path)
            t = time.perf_counter()
            k = keras.saving.load_model(path)
            ours = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            theirs = k.predict(xs if len(xs) > 1 else xs[0], verbose=0)
            ours = ours if isinstance(ours, (list, tuple)) else [ours]
            theirs = theirs if isinstance(theirs, (list, tuple)) else [theirs]
            err = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in zip(ours, theirs))
            ok = len(ours) == len(theirs) and err <= 1e-5
            note = ""
            if len(made) == 3:  # one more step in both from the saved optimizer state
                y = made[2]
                model.train_on_batch(xs[0][:8], y[:8])
                k.train_on_batch(xs[0][:8], y[:8])
                werr = max(float(np.max(np.abs(a - np.asarray(b)))) for a, b in zip(model.get_weights(),
                                                                                  k.get_weights()))
                ok = ok and werr <= 1e-5 and int(k.optimizer.iterations) == int(model.optimizer.iterations)
                note = f", weights after one more step differ by {werr:.2e}"
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {make.__name__:<24} max |ember - keras| = {err:.2e}{note} "
                  f"(keras load {time.perf_counter() - t:.2f}s)")
    print("all models load in Keras 3 and agree within 1e-5" if not failures else f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
