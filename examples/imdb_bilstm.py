"""An IMDB-style sentiment classifier: variable-length "reviews" of token ids, padded with
`pad_sequences`, embedded with `mask_zero=True` so the padding is masked, read by a
bidirectional LSTM, classified by a sigmoid unit.

The reviews are generated: most words are neutral filler, a few come from a small positive or
negative vocabulary, and a review's label is whether it holds more positive than negative
words, so the model must count sentiment words wherever they fall in the sequence. Negations
("not" right before a sentiment word) flip that word, so word order matters too. Returns the
held-out accuracy."""
import numpy as np

import ember as keras

VOCAB = 1000
POSITIVE = np.arange(10, 30)  # token ids of "good", "great", ...
NEGATIVE = np.arange(30, 50)  # "bad", "awful", ...
NOT = 2  # the negation token
FILLER_FROM = 100  # neutral words


def make_reviews(n, rng, min_len=8, max_len=60):
    """`n` generated reviews (lists of ids, no zeros) and their 0/1 sentiment labels."""
    reviews, labels = [], []
    while len(reviews) < n:
        length = int(rng.integers(min_len, max_len + 1))
        words = rng.integers(FILLER_FROM, VOCAB, size=length)
        score = 0
        # sentiment words at odd positions, so a negation (just before) never hides another
        for pos in rng.choice(np.arange(1, length, 2), size=int(rng.integers(1, 5)), replace=False):
            positive = rng.random() < 0.5
            words[pos] = rng.choice(POSITIVE if positive else NEGATIVE)
            negated = rng.random() < 0.25
            if negated:
                words[pos - 1] = NOT
            score += (1 if positive else -1) * (-1 if negated else 1)
        if score == 0:
            continue  # ties have no label
        reviews.append(words.tolist())
        labels.append(int(score > 0))
    return reviews, np.asarray(labels, dtype="float32")


def build(maxlen):
    inputs = keras.Input(shape=(maxlen,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, 32, mask_zero=True)(inputs)
    x = keras.layers.Bidirectional(keras.layers.LSTM(32))(x)
    x = keras.layers.Dropout(0.2)(x)
    outputs = keras.layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="imdb_bilstm")


def main(epochs=4, verbose="auto", seed=1, maxlen=60):
    """Trains the classifier on 10,000 generated reviews; returns the accuracy on 1,000 more."""
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    train, y_train = make_reviews(10000, rng)
    test, y_test = make_reviews(1000, rng)
    x_train = keras.utils.pad_sequences(train, maxlen=maxlen)
    x_test = keras.utils.pad_sequences(test, maxlen=maxlen)
    model = build(maxlen)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=64, epochs=epochs, validation_split=0.1, verbose=verbose)
    return model.evaluate(x_test, y_test, verbose=0)[1]


if __name__ == "__main__":
    print(f"held-out accuracy: {main():.4f}")
