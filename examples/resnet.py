"""A small ResNet (He et al., 2015) on the bundled digits, with both kinds of shortcut:
identity shortcuts where a block keeps the shape, and projection shortcuts (a strided 1x1
convolution with batch normalization) where it halves the resolution and widens."""
import ember as keras


def residual_block(x, filters, stride=1):
    shortcut = x
    y = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Activation("relu")(y)
    y = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = keras.layers.BatchNormalization()(y)
    if stride != 1 or x.shape[-1] != filters:  # projection shortcut
        shortcut = keras.layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = keras.layers.BatchNormalization()(shortcut)
    y = keras.layers.Add()([y, shortcut])
    return keras.layers.Activation("relu")(y)


def build():
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    x = residual_block(x, 16)  # identity shortcut, 8x8x16
    x = residual_block(x, 32, stride=2)  # projection shortcut, 4x4x32
    x = residual_block(x, 32)  # identity shortcut
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet_small")


def main(epochs=15, verbose="auto", seed=1):
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
    print(f"ResNet held-out accuracy: {main():.4f}")
