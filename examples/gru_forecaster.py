"""A GRU time-series forecaster on a generated signal.

The signal is a sum of three sines of different periods plus Gaussian noise. From each
window of 40 past values the model predicts the next value; it is compared with the naive
forecast that repeats the last value seen.
"""
import numpy as np

import ember as keras


def make_signal(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    s = np.sin(2 * np.pi * t / 37) + 0.5 * np.sin(2 * np.pi * t / 11 + 1.0) + 0.3 * np.sin(2 * np.pi * t / 5.3)
    return (s + 0.1 * rng.normal(size=n)).astype("float32")


def windows(signal, length):
    idx = np.arange(len(signal) - length)[:, None] + np.arange(length)
    return signal[idx][..., None], signal[length:][:, None]


def build(length=40):
    return keras.Sequential([
        keras.Input(shape=(length, 1)),
        keras.layers.GRU(32),
        keras.layers.Dense(1),
    ], name="gru_forecaster")


def main(epochs=12, verbose="auto", seed=1, length=40):
    """Trains the forecaster; returns (its test MSE, the last-value baseline's test MSE)."""
    keras.utils.set_random_seed(seed)
    signal = make_signal(3000, seed=seed)
    x, y = windows(signal, length)
    split = 2400
    model = build(length)
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="mse")
    model.fit(x[:split], y[:split], batch_size=32, epochs=epochs, verbose=verbose)
    mse = model.evaluate(x[split:], y[split:], verbose=0)
    naive = float(np.mean((x[split:, -1, 0] - y[split:, 0]) ** 2))
    return mse, naive


if __name__ == "__main__":
    mse, naive = main()
    print(f"GRU test MSE {mse:.4f}; last-value baseline {naive:.4f} ({naive / mse:.1f}x worse)")
