"""LeNet-5 (LeCun et al., 1998) on the bundled handwritten digits.

The 8x8 digits are upsampled to the 32x32 input LeNet-5 was drawn for, then the classic
stack: 6 5x5 convolutions, average pooling, 16 5x5 convolutions, average pooling, and the
120-84-10 dense head, with tanh activations as in the paper.
"""
import ember as keras


def build():
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        keras.layers.UpSampling2D(size=4),  # 32x32
        keras.layers.Conv2D(6, 5, activation="tanh"),  # 28x28x6
        keras.layers.AveragePooling2D(2),  # 14x14x6
        keras.layers.Conv2D(16, 5, activation="tanh"),  # 10x10x16
        keras.layers.AveragePooling2D(2),  # 5x5x16
        keras.layers.Flatten(),
        keras.layers.Dense(120, activation="tanh"),
        keras.layers.Dense(84, activation="tanh"),
        keras.layers.Dense(10, activation="softmax"),
    ], name="lenet5")


def main(epochs=15, verbose="auto", seed=1):
    """Trains LeNet-5 and returns its held-out accuracy."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


if __name__ == "__main__":
    print(f"LeNet-5 held-out accuracy: {main():.4f}")
