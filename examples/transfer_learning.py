"""Transfer learning on the bundled digits (the recipe of the Keras transfer-learning guide).

Task A: recognise the digit (10 classes) -- plenty of labelled images.
Task B: tell odd from even digits -- only 50 labelled images, none of them seen in task A.

1. Pre-train a small network on task A.
2. Freeze it (``base.trainable = False``), put a new head on its features
   (``Model(base.input, head(base.layers[-2].output))``) and train the head on task B.
3. Unfreeze the base (BatchNormalization stays frozen, in inference mode, as the guide
   advises), recompile with a low learning rate and fine-tune the whole model.

The same model trained from scratch on the 50 images of task B does clearly worse: the
features learned for task A (which digit it is) make task B almost linear.

(Splitting the digits instead -- pre-train on 0-4, new head for 5-9 -- does not show a gain
here: on 8x8 digits a network trained from scratch on a few images of 5-9 does as well.)
"""
import numpy as np

import ember as keras
from ember import layers


def load(n_few=50, seed=0):
    """(task A train), (task B few labelled), (task B test): disjoint images."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    order = np.random.default_rng(seed).permutation(len(x_train))
    few, rest = order[:n_few], order[n_few:]
    return (x_train[rest], y_train[rest]), (x_train[few], y_train[few] % 2), (x_test, y_test % 2)


def make_base(classes=10):
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(64, activation="relu"),
        layers.Dense(classes, activation="softmax"),
    ], name="base")


def new_head_model(base):
    """The base up to its features (the layer before its classifier) plus a new head."""
    features = base.layers[-2].output
    out = layers.Dense(2, activation="softmax", name="new_head")(layers.Dropout(0.2)(features))
    return keras.Model(base.input, out, name="transfer")


def compile(model, lr):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])


def main(seed=1, n_few=50, verbose=0):
    """Returns the task-B test accuracy of the new head, after fine-tuning, and from scratch."""
    keras.utils.set_random_seed(seed)
    (x_a, y_a), (x_b, y_b), (x_test, y_test) = load(n_few)

    base = make_base()
    compile(base, 3e-3)
    base.fit(x_a, y_a, epochs=15, batch_size=32, verbose=verbose)

    model = new_head_model(base)
    base.trainable = False  # freezes every layer of the base
    compile(model, 1e-2)
    model.fit(x_b, y_b, epochs=60, batch_size=16, verbose=verbose)
    head_acc = model.evaluate(x_test, y_test, verbose=0)[1]

    base.trainable = True  # takes effect at the next compile
    for layer in base.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False  # keep its statistics from task A (inference mode)
    compile(model, 1e-4)
    model.fit(x_b, y_b, epochs=20, batch_size=16, verbose=verbose)
    tuned_acc = model.evaluate(x_test, y_test, verbose=0)[1]

    keras.utils.set_random_seed(seed)
    scratch = new_head_model(make_base())
    compile(scratch, 3e-3)
    scratch.fit(x_b, y_b, epochs=80, batch_size=16, verbose=verbose)
    scratch_acc = scratch.evaluate(x_test, y_test, verbose=0)[1]
    return {"head": head_acc, "fine_tuned": tuned_acc, "scratch": scratch_acc}


if __name__ == "__main__":
    for name, acc in main().items():
        print(f"{name:>10}: {acc:.3f} accuracy telling odd from even digits (held-out test set)")
