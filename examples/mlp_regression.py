"""An MLP regressor trained with Adam and MSE on y = sin(x0) + x1^2 / 2."""
import numpy as np

import ember as keras


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=(n, 2)).astype("float32")
    y = (np.sin(x[:, 0]) + 0.5 * x[:, 1] ** 2).astype("float32")[:, None]
    return x, y


def main(epochs=100, verbose=0):
    keras.utils.set_random_seed(0)
    x, y = make_data(2000, 0)
    x_test, y_test = make_data(500, 1)
    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=64, epochs=epochs, validation_split=0.1, verbose=verbose)
    mse, mae = model.evaluate(x_test, y_test, verbose=0)
    print(f"test MSE {mse:.4f}, MAE {mae:.4f} (target variance {float(np.var(y_test)):.3f})")
    return mse


if __name__ == "__main__":
    main(verbose=1)
