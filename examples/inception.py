"""An Inception-style network (Szegedy et al., 2014) on the bundled digits: each block runs
parallel 1x1, 1x1->3x3, 1x1->5x5 and 3x3-pool->1x1 branches over the same input and
concatenates their channels."""
import ember as keras


def inception_block(x, f1, f3_reduce, f3, f5_reduce, f5, pool_proj):
    conv = keras.layers.Conv2D
    b1 = conv(f1, 1, padding="same", activation="relu")(x)
    b3 = conv(f3_reduce, 1, padding="same", activation="relu")(x)
    b3 = conv(f3, 3, padding="same", activation="relu")(b3)
    b5 = conv(f5_reduce, 1, padding="same", activation="relu")(x)
    b5 = conv(f5, 5, padding="same", activation="relu")(b5)
    bp = keras.layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = conv(pool_proj, 1, padding="same", activation="relu")(bp)
    return keras.layers.Concatenate(axis=-1)([b1, b3, b5, bp])


def build():
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    x = inception_block(x, 8, 8, 16, 4, 8, 8)  # 8x8x40
    x = keras.layers.MaxPooling2D(2)(x)  # 4x4x40
    x = inception_block(x, 16, 16, 24, 4, 8, 8)  # 4x4x56
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="inception_small")


def main(epochs=20, verbose="auto", seed=1):
    """Trains the network and returns its held-out accuracy."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


if __name__ == "__main__":
    print(f"Inception-style held-out accuracy: {main():.4f}")
