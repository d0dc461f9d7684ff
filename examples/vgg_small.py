"""A small VGG-style network (Simonyan & Zisserman, 2014) on the bundled digits: blocks of
two 3x3 convolutions and a 2x2 max pooling, channels doubling per block, then a dense head
with dropout. The 8x8 digits are upsampled to 16x16 so that two blocks fit."""
import ember as keras


def vgg_block(x, filters):
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return keras.layers.MaxPooling2D(2)(x)


def build():
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.UpSampling2D(size=2)(inputs)  # 16x16
    x = vgg_block(x, 16)  # 8x8x16
    x = vgg_block(x, 32)  # 4x4x32
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(64, activation="relu")(x)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="vgg_small")


def main(epochs=12, verbose="auto", seed=1):
    """Trains the network and returns its held-out accuracy."""
    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    model = build()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_split=0.1, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


if __name__ == "__main__":
    print(f"VGG-style held-out accuracy: {main():.4f}")
