"""An MLP classifier on two interleaved spirals, trained with each classic optimizer."""
import numpy as np

import ember as keras

OPTIMIZERS = {
    "SGD": lambda: keras.optimizers.SGD(learning_rate=0.1),
    "SGD+momentum": lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
    "Adam": lambda: keras.optimizers.Adam(learning_rate=1e-2),
    "Adagrad": lambda: keras.optimizers.Adagrad(learning_rate=0.1),
    "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=3e-3),
}


def spirals(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.25, 3.0, size=n) * np.pi
    label = rng.integers(0, 2, size=n)
    r = t / np.pi
    angle = t + label * np.pi
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1) + rng.normal(scale=0.05, size=(n, 2))
    return x.astype("float32"), label.astype("int64")


def train(name, epochs=60, verbose=0):
    keras.utils.set_random_seed(0)
    x, y = spirals(2000, 0)
    x_test, y_test = spirals(500, 1)
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(64, activation="tanh"),
        keras.layers.Dense(64, activation="tanh"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    model.compile(optimizer=OPTIMIZERS[name](), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def main(epochs=60, verbose=0):
    results = {name: train(name, epochs, verbose) for name in OPTIMIZERS}
    for name, acc in results.items():
        print(f"{name:13s} test accuracy {acc:.3f}")
    return results


if __name__ == "__main__":
    main()
