"""A convolutional denoising autoencoder on the bundled digits: strided convolutions encode
a noisy 8x8 digit to a 2x2x32 code, transposed convolutions decode it back, and the model
learns to output the clean digit. Returns the mean squared error of the denoised test
images next to that of the noisy ones."""
import numpy as np

import ember as keras


def build():
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)  # 4x4x16
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)  # 2x2x32
    x = keras.layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(x)  # 4x4
    x = keras.layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(x)  # 8x8
    outputs = keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="denoising_autoencoder")


def add_noise(x, rng, stddev=0.3):
    return np.clip(x + rng.normal(0.0, stddev, size=x.shape), 0.0, 1.0).astype("float32")


def main(epochs=40, verbose="auto", seed=1):
    """Trains the autoencoder; returns (denoised MSE, noisy MSE) on the held-out digits."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    (x_train, _), (x_test, _) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    noisy_train, noisy_test = add_noise(x_train, rng), add_noise(x_test, rng)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse")
    model.fit(noisy_train, x_train, batch_size=32, epochs=epochs, verbose=verbose)
    denoised = model.predict(noisy_test, verbose=0)
    return float(np.mean((denoised - x_test) ** 2)), float(np.mean((noisy_test - x_test) ** 2))


if __name__ == "__main__":
    denoised, noisy = main()
    print(f"test MSE: noisy {noisy:.4f}, denoised {denoised:.4f}")
