"""SimpleRNN regression, as in the classic texts: random sequences in, one number out.

Each sample is a sequence of 10 numbers drawn uniformly from [0, 1); the target is their
mean. A SimpleRNN of 16 units reads the sequence and a Dense layer maps its last state to
the prediction; trained with mean squared error and Adam.
"""
import numpy as np

import ember as keras


def make_data(n, steps=10, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(n, steps, 1)).astype("float32")
    return x, x.mean(axis=(1, 2))[:, None].astype("float32")


def build(steps=10):
    return keras.Sequential([
        keras.Input(shape=(steps, 1)),
        keras.layers.SimpleRNN(16),
        keras.layers.Dense(1),
    ], name="simple_rnn_regression")


def main(epochs=30, verbose="auto", seed=1):
    """Trains the model and returns (its test MSE, the MSE of always predicting 0.5)."""
    keras.utils.set_random_seed(seed)
    x_train, y_train = make_data(2000, seed=seed)
    x_test, y_test = make_data(500, seed=seed + 1)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=verbose)
    mse = model.evaluate(x_test, y_test, verbose=0)
    baseline = float(np.mean((y_test - 0.5) ** 2))
    return mse, baseline


if __name__ == "__main__":
    mse, baseline = main()
    print(f"SimpleRNN test MSE {mse:.5f} (predicting the prior mean: {baseline:.5f})")
