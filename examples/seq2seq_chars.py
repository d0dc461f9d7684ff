"""A character-level encoder-decoder (seq2seq) that learns to reverse short strings.

As in the Keras seq2seq tutorial: one-hot characters; an LSTM encoder whose final states
(h, c) start an LSTM decoder, trained with teacher forcing (the decoder reads the target
shifted right by a start token). At inference, separate encoder and decoder models built
from the trained layers decode greedily, one character at a time.
"""
import numpy as np

import ember as keras

ALPHABET = "abcdef"
START, END = "\t", "\n"
TOKENS = ALPHABET + START + END
INDEX = {c: i for i, c in enumerate(TOKENS)}
LENGTH = 4
UNITS = 64


def make_strings(n, seed=0):
    rng = np.random.default_rng(seed)
    return ["".join(rng.choice(list(ALPHABET), LENGTH)) for _ in range(n)]


def one_hot(strings, length):
    out = np.zeros((len(strings), length, len(TOKENS)), "float32")
    for i, s in enumerate(strings):
        for j, ch in enumerate(s):
            out[i, j, INDEX[ch]] = 1.0
    return out


def make_data(strings):
    targets = [s[::-1] + END for s in strings]
    enc = one_hot(strings, LENGTH)
    dec_in = one_hot([START + t[:-1] for t in targets], LENGTH + 1)
    dec_out = one_hot(targets, LENGTH + 1)
    return enc, dec_in, dec_out


def build():
    n = len(TOKENS)
    enc_in = keras.Input(shape=(None, n), name="encoder_inputs")
    encoder = keras.layers.LSTM(UNITS, return_state=True, name="encoder")
    _, h, c = encoder(enc_in)
    dec_in = keras.Input(shape=(None, n), name="decoder_inputs")
    decoder = keras.layers.LSTM(UNITS, return_sequences=True, return_state=True, name="decoder")
    dec_seq, _, _ = decoder(dec_in, initial_state=[h, c])
    dense = keras.layers.Dense(n, activation="softmax", name="output")
    model = keras.Model([enc_in, dec_in], dense(dec_seq))
    # inference: the encoder alone, and one decoder step from given states
    encoder_model = keras.Model(enc_in, [h, c])
    h_in = keras.Input(shape=(UNITS,))
    c_in = keras.Input(shape=(UNITS,))
    step_seq, h_out, c_out = decoder(dec_in, initial_state=[h_in, c_in])
    decoder_model = keras.Model([dec_in, h_in, c_in], [dense(step_seq), h_out, c_out])
    return model, encoder_model, decoder_model


def decode(encoder_model, decoder_model, enc):
    """Greedy step-by-step decoding of a batch of one-hot input strings."""
    h, c = encoder_model.predict(enc, verbose=0)
    batch = enc.shape[0]
    token = np.zeros((batch, 1, len(TOKENS)), "float32")
    token[:, 0, INDEX[START]] = 1.0
    out = [""] * batch
    done = np.zeros(batch, bool)
    for _ in range(LENGTH + 1):
        probs, h, c = decoder_model.predict([token, h, c], verbose=0)
        ids = np.asarray(probs)[:, -1].argmax(axis=-1)
        token = np.zeros_like(token)
        token[np.arange(batch), 0, ids] = 1.0
        for i, k in enumerate(ids):
            if not done[i]:
                if TOKENS[k] == END:
                    done[i] = True
                else:
                    out[i] += TOKENS[k]
    return out


def main(epochs=40, verbose="auto", seed=1):
    """Trains the model and returns the fraction of held-out strings reversed exactly."""
    keras.utils.set_random_seed(seed)
    train = make_strings(2000, seed=seed)
    test = make_strings(200, seed=seed + 1)
    model, encoder_model, decoder_model = build()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="categorical_crossentropy")
    enc, dec_in, dec_out = make_data(train)
    model.fit([enc, dec_in], dec_out, batch_size=64, epochs=epochs, verbose=verbose)
    decoded = decode(encoder_model, decoder_model, one_hot(test, LENGTH))
    return float(np.mean([d == s[::-1] for d, s in zip(decoded, test)]))


if __name__ == "__main__":
    print(f"seq2seq: {main():.1%} of held-out strings reversed exactly")
