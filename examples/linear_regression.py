"""Linear regression with SGD: recovers y = x . [1, 2, 3] + 2 from noisy samples.

A single Dense unit is exactly w . x + b, so after training its kernel and bias are the
true coefficients.
"""
import numpy as np

import ember as keras


def main(epochs=60, verbose=0):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 3)).astype("float32")
    y = x @ np.array([1.0, 2.0, 3.0], dtype="float32") + 2.0 + rng.normal(scale=0.01, size=1000).astype("float32")
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse")
    model.fit(x, y[:, None], batch_size=32, epochs=epochs, verbose=verbose)
    w, b = model.get_weights()
    print("learned w =", w.ravel().round(3), "b =", b.round(3))
    return w.ravel(), float(b[0])


if __name__ == "__main__":
    main(verbose=1)
