"""A small transformer text classifier on generated token data.

Each sequence holds random filler tokens plus one token A and one token B; the label says
whether A comes before B. Bag-of-words models cannot tell (both classes contain the same
tokens): the model needs attention between the two tokens and their positions, given by a
token + position embedding. The encoder block is written from Keras layers
(MultiHeadAttention, Dropout, Add, LayerNormalization, Dense), with no einsum.
"""
import numpy as np

import ember as keras
from ember import layers

VOCAB, MAXLEN, A, B = 16, 10, 1, 2


def make_data(n, seed):
    """``n`` sequences of filler tokens 3..VOCAB-1 with A and B at two distinct random
    positions; label 1 when A comes first."""
    rng = np.random.default_rng(seed)
    x = rng.integers(3, VOCAB, size=(n, MAXLEN))
    pos = np.argsort(rng.random((n, MAXLEN)), axis=1)[:, :2]
    rows = np.arange(n)
    x[rows, pos[:, 0]] = A
    x[rows, pos[:, 1]] = B
    return x.astype("int32"), (pos[:, 0] < pos[:, 1]).astype("int64")


class TokenAndPositionEmbedding(layers.Layer):
    """The embedding of each token plus a learned embedding of its position."""

    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)

    def build(self, input_shape):
        self.pos_emb = self.add_weight(
            name="pos_emb", shape=(self.maxlen, self.embed_dim), initializer="uniform"
        )

    def call(self, x):
        return self.token_emb(x) + self.pos_emb

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.embed_dim,)


def transformer_encoder(x, embed_dim, num_heads, ff_dim, rate=0.1):
    """Self-attention and a feed-forward network, each with dropout, a residual connection
    and layer normalization (post-norm, as in "Attention is all you need")."""
    if embed_dim % num_heads:
        raise ValueError(
            f"transformer_encoder: num_heads={num_heads} must divide the model width embed_dim={embed_dim}"
        )
    attn = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim // num_heads)(x, x)
    attn = layers.Dropout(rate)(attn)
    x = layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, attn]))
    ff = layers.Dense(ff_dim, activation="relu")(x)
    ff = layers.Dense(embed_dim)(ff)
    ff = layers.Dropout(rate)(ff)
    return layers.LayerNormalization(epsilon=1e-6)(layers.Add()([x, ff]))


def build_model(embed_dim=32, num_heads=2, ff_dim=64):
    inputs = keras.Input(shape=(MAXLEN,), dtype="int32")
    x = TokenAndPositionEmbedding(MAXLEN, VOCAB, embed_dim)(inputs)
    x = transformer_encoder(x, embed_dim, num_heads, ff_dim)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dense(32, activation="relu")(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def main(epochs=6, verbose=0):
    """Trains on 3000 sequences and returns the accuracy on 1000 held-out ones."""
    keras.utils.set_random_seed(0)
    x, y = make_data(3000, 0)
    x_test, y_test = make_data(1000, 1)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=2e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=verbose)
    acc = model.evaluate(x_test, y_test, verbose=0)[1]
    if verbose:
        print(f"held-out accuracy {acc:.3f}")
    return acc


if __name__ == "__main__":
    main(verbose=1)
