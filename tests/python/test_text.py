"""Text helpers: ``ember.utils.pad_sequences`` (Keras's documented examples, truncation,
sample shapes, string padding, errors) and ``TextVectorization`` (standardize, split,
n-grams, vocabulary order and size, OOV and padding indices, output modes, errors)."""

import numpy as np
import pytest

import ember as em
from ember import layers
from ember.utils import pad_sequences

SEQ = [[1], [2, 3], [4, 5, 6]]


def test_pad_sequences_keras_examples():
    out = pad_sequences(SEQ)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, value=-1), [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, padding="post"), [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQ, maxlen=2, truncating="post"), [[0, 1], [2, 3], [4, 5]])
    np.testing.assert_array_equal(
        pad_sequences(SEQ, maxlen=4, padding="post", truncating="post"), [[1, 0, 0, 0], [2, 3, 0, 0], [4, 5, 6, 0]]
    )


def test_pad_sequences_dtypes_shapes_and_empty():
    out = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=-1.0)
    np.testing.assert_array_equal(out, np.array([[0.5, 1.5], [-1.0, 2.5]], np.float32))
    out = pad_sequences([[], [[1, 2], [3, 4]], [[5, 6]]])
    assert out.shape == (3, 2, 2)
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[2], [[0, 0], [5, 6]])
    out = pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert out.tolist() == [["a", "b"], ["<pad>", "c"]]
    assert pad_sequences([np.array([7, 8, 9])], maxlen=5).tolist() == [[0, 0, 7, 8, 9]]
    assert em.utils.pad_sequences is pad_sequences


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="iterable"):
        pad_sequences(5)
    with pytest.raises(ValueError, match="non-iterable"):
        pad_sequences([[1], 2])
    with pytest.raises(ValueError, match="Padding type"):
        pad_sequences(SEQ, padding="middle")
    with pytest.raises(ValueError, match="Truncating type"):
        pad_sequences(SEQ, truncating="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        pad_sequences(SEQ, value="x")
    with pytest.raises(ValueError, match="Shape of sample"):
        pad_sequences([[[1, 2]], [[1, 2, 3]]])


TEXTS = ["The cat sat.", "the dog sat!", "A cat, a dog; THE END"]


def test_text_vectorization_adapt_and_int_output():
    tv = layers.TextVectorization()
    tv.adapt(TEXTS)
    vocab = tv.get_vocabulary()
    # counts: the 3, a 2, cat 2, dog 2, sat 2, end 1; ties by decreasing byte order
    assert vocab == ["", "[UNK]", "the", "sat", "dog", "cat", "a", "end"]
    assert tv.vocabulary_size() == 8
    assert tv.get_vocabulary(include_special_tokens=False) == vocab[2:]
    out = tv(["the cat", "a zebra sat on the END"])
    assert out.dtype == "int64" if isinstance(out.dtype, str) else True
    np.testing.assert_array_equal(np.asarray(out), [[2, 5, 0, 0, 0, 0], [6, 1, 3, 1, 2, 7]])


def test_text_vectorization_max_tokens_and_sequence_length():
    tv = layers.TextVectorization(max_tokens=4, output_sequence_length=3)
    tv.adapt(np.array(TEXTS).reshape(-1, 1))
    assert tv.get_vocabulary() == ["", "[UNK]", "the", "sat"]
    np.testing.assert_array_equal(np.asarray(tv(["sat the cat dog", "the"])), [[3, 2, 1], [2, 0, 0]])
    with pytest.raises(ValueError, match="max_tokens"):
        layers.TextVectorization(max_tokens=1)


@pytest.mark.parametrize("standardize, want", [
    ("lower_and_strip_punctuation", ["hello", "world"]),
    ("lower", ["hello,", "world!"]),
    ("strip_punctuation", ["Hello", "World"]),
    (None, ["Hello,", "World!"]),
    (lambda s: s.upper(), ["HELLO,", "WORLD!"]),
])
def test_text_vectorization_standardize(standardize, want):
    tv = layers.TextVectorization(standardize=standardize)
    tv.adapt(["Hello, World!"])
    assert sorted(tv.get_vocabulary()[2:]) == sorted(want)


def test_text_vectorization_split_and_ngrams():
    tv = layers.TextVectorization(split="character", standardize=None)
    tv.adapt(["abca"])
    assert tv.get_vocabulary() == ["", "[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(np.asarray(tv(["cab", "d"])), [[3, 2, 4], [1, 0, 0]])
    tv = layers.TextVectorization(split=None)
    tv.adapt(["one line", "one line", "other"])
    assert tv.get_vocabulary() == ["", "[UNK]", "one line", "other"]
    tv = layers.TextVectorization(split=lambda s: s.split("-"), standardize=None)
    tv.adapt(["x-y-x"])
    assert tv.get_vocabulary() == ["", "[UNK]", "x", "y"]
    tv = layers.TextVectorization(ngrams=2, vocabulary=["a", "b", "a b"])
    np.testing.assert_array_equal(np.asarray(tv(["a b c"])), [[2, 3, 1, 4, 1]])
    tv = layers.TextVectorization(ngrams=(2,))
    tv.adapt(["a b c"])
    assert tv.get_vocabulary() == ["", "[UNK]", "b c", "a b"]


def test_text_vectorization_multi_hot_and_count():
    tv = layers.TextVectorization(output_mode="multi_hot", vocabulary=["cat", "dog"])
    assert tv.get_vocabulary() == ["[UNK]", "cat", "dog"]
    np.testing.assert_array_equal(np.asarray(tv(["cat cat bird", "dog"])), [[1, 1, 0], [0, 0, 1]])
    tv = layers.TextVectorization(output_mode="count", max_tokens=5, pad_to_max_tokens=True)
    tv.adapt(["cat cat dog"])
    assert tv.get_vocabulary() == ["[UNK]", "cat", "dog"]
    np.testing.assert_array_equal(np.asarray(tv(["cat cat bird", "dog"])), [[1, 2, 0, 0, 0], [0, 0, 1, 0, 0]])


def test_text_vectorization_vocabulary_argument_and_errors():
    tv = layers.TextVectorization(vocabulary=["", "[UNK]", "hi", "there"])
    assert tv.get_vocabulary() == ["", "[UNK]", "hi", "there"]
    np.testing.assert_array_equal(np.asarray(tv(["Hi there, you"])), [[2, 3, 1]])
    with pytest.raises(ValueError, match="static vocabulary"):
        tv.adapt(["x"])
    with pytest.raises(ValueError, match="repeated"):
        layers.TextVectorization(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="larger than the maximum"):
        layers.TextVectorization(max_tokens=3, vocabulary=["a", "b"])
    with pytest.raises(ValueError, match="output_sequence_length"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="output_mode"):
        layers.TextVectorization(output_mode="embedding")
    with pytest.raises(ValueError, match="shape"):
        layers.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    cfg = layers.TextVectorization(max_tokens=10, vocabulary=["a"], output_sequence_length=4).get_config()
    again = layers.TextVectorization.from_config(cfg)
    assert again.get_vocabulary() == ["", "[UNK]", "a"] and again.output_sequence_length == 4


def test_vectorized_text_trains_a_model():
    texts = ["good great fine", "bad awful poor", "great good", "poor bad"] * 16
    labels = np.array([1, 0, 1, 0] * 16, np.float32)
    tv = layers.TextVectorization(output_mode="multi_hot")
    tv.adapt(texts)
    x = np.asarray(tv(texts))
    model = em.Sequential([em.Input((x.shape[1],)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=em.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, labels, epochs=20, verbose=0)
    assert model.evaluate(x, labels, verbose=0)[1] == 1.0
