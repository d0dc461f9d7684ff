"""The ``ember`` command: ``ember demo`` trains a classifier on the bundled digits;
``ember serve m.keras`` serves a saved model over HTTP."""
import argparse
import sys
import time


def demo(epochs=40, batch_size=32, seed=1, verbose="auto"):
    """Trains an MLP on the bundled UCI digits and returns the held-out accuracy."""
    import numpy as np

    import ember as em

    em.utils.set_random_seed(seed)
    (x_train, y_train), (x_test, y_test) = em.datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 16.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 16.0
    model = em.Sequential([
        em.Input(shape=(64,)),
        em.layers.Dense(128, activation="relu"),
        em.layers.Dropout(0.2),
        em.layers.Dense(64, activation="relu"),
        em.layers.Dense(10, activation="softmax"),
    ], name="digits_mlp")
    model.compile(optimizer=em.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if verbose:
        model.summary()
        print(f"Training on {len(x_train)} digits, holding out {len(x_test)}.")
    start = time.time()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    assert np.isclose(np.mean(predicted == y_test), accuracy, atol=1e-6)
    if verbose:
        print(f"Held-out accuracy: {accuracy:.4f} (loss {loss:.4f}) after {time.time() - start:.1f} s of training")
    return accuracy


def serve(path, host="127.0.0.1", port=8000):
    """Loads the model saved at ``path`` and serves it (see ``ember.serving``)."""
    from ember.saving import load_model
    from ember.serving import serve as run

    run(load_model(path), host=host, port=port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ember", description="ember: deep learning with the Keras 3 API")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("demo", help="train an MLP on the bundled handwritten digits")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("serve", help="serve a saved model over HTTP (POST /predict, GET /health, GET /metadata)")
    p.add_argument("model", help="the model file (.keras)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.version:
        import ember

        print(f"ember {ember.__version__}")
        return 0
    if args.command == "demo":
        demo(epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
        return 0
    if args.command == "serve":
        serve(args.model, host=args.host, port=args.port)
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
