"""``TextVectorization``: strings to token indices (Keras 3 names, defaults and vocabulary).

A data-preparation layer, as in Keras (where it runs in the tf.data pipeline): apply it to
the text before the model (``x = vectorize(texts)``, then ``model.fit(x, y)``); it takes
Python strings, so it is not a node of compiled models. The string handling is Python.

Vocabulary as Keras's ``StringLookup``: with ``output_mode="int"`` index 0 is the padding
token ``""`` and index 1 the OOV token ``"[UNK]"``; in ``"multi_hot"``/``"count"`` modes
index 0 is ``"[UNK]"``. ``adapt`` orders the tokens by decreasing count, ties broken by
decreasing byte order (Keras's ``np.lexsort((tokens, counts))[::-1]``), and keeps at most
``max_tokens`` entries including the special ones.

A callable ``standardize`` takes and returns one Python string; a callable ``split`` takes
one string and returns its list of tokens.
"""

import collections
import re

import numpy as np

from ember import _native
from ember.layers.layer import Layer

DEFAULT_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_STRIP = re.compile(DEFAULT_STRIP_REGEX)
MASK, OOV = "", "[UNK]"


class TextVectorization(Layer):
    """``keras.layers.TextVectorization(max_tokens=None,
    standardize="lower_and_strip_punctuation", split="whitespace", ngrams=None,
    output_mode="int", output_sequence_length=None, pad_to_max_tokens=False,
    vocabulary=None)``."""

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation", split="whitespace",
                 ngrams=None, output_mode="int", output_sequence_length=None, pad_to_max_tokens=False,
                 vocabulary=None, idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        super().__init__(**kwargs)
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                       or max_tokens <= 1):
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if not (standardize in (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
                or callable(standardize)):
            raise ValueError(
                "`standardize` must be one of None, 'lower_and_strip_punctuation', 'lower', "
                f"'strip_punctuation', or a callable. Received: standardize={standardize}"
            )
        if not (split in (None, "whitespace", "character") or callable(split)):
            raise ValueError(
                f"`split` must be one of None, 'whitespace', 'character', or a callable. Received: split={split}"
            )
        if output_mode not in ("int", "multi_hot", "count"):
            detail = " ('tf_idf' is not supported by ember)" if output_mode == "tf_idf" else ""
            raise ValueError(
                "`output_mode` must be one of 'int', 'multi_hot', 'count'" + detail
                + f". Received: output_mode={output_mode}"
            )
        if ngrams is not None:
            if isinstance(ngrams, int) and not isinstance(ngrams, bool) and ngrams > 0:
                widths = tuple(range(1, ngrams + 1))
            elif isinstance(ngrams, (tuple, list)) and ngrams and all(
                isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in ngrams
            ):
                widths = tuple(ngrams)
            else:
                raise ValueError(
                    f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}"
                )
        else:
            widths = None
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(
                    "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                    f"Received output_sequence_length={output_sequence_length}."
                )
            if isinstance(output_sequence_length, bool) or not isinstance(output_sequence_length, int) or \
                    output_sequence_length <= 0:
                raise ValueError(
                    "`output_sequence_length` must be either `None` or an integer greater than 0. "
                    f"Received output_sequence_length={output_sequence_length}"
                )
        if idf_weights is not None or sparse or ragged:
            raise NotImplementedError("TextVectorization: idf_weights, sparse and ragged are not supported by ember")
        self.max_tokens = max_tokens
        self.standardize = standardize
        self.split = split
        self.ngrams = ngrams
        self._widths = widths
        self.output_mode = output_mode
        self.output_sequence_length = output_sequence_length
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.encoding = encoding
        self._has_input_vocabulary = vocabulary is not None
        self._set_vocab(None)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)
        self.built = True

    # ------------------------------------------------------------------ vocabulary
    def _specials(self):
        return [MASK, OOV] if self.output_mode == "int" else [OOV]

    def _set_vocab(self, tokens):
        self._vocab = self._specials() + list(tokens or [])
        self._index = {t: i for i, t in enumerate(self._vocab)}

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary from a list of tokens (with or without the special tokens
        in front)."""
        if idf_weights is not None:
            raise NotImplementedError("TextVectorization: idf_weights are not supported by ember")
        if isinstance(vocabulary, str):
            with open(vocabulary, encoding=self.encoding) as f:
                vocabulary = [line for line in f.read().splitlines()]
                while vocabulary and vocabulary[-1] == "":
                    vocabulary.pop()
        tokens = [t.decode(self.encoding) if isinstance(t, bytes) else str(t) for t in np.asarray(vocabulary)
                  .reshape(-1).tolist()]
        specials = self._specials()
        if tokens[: len(specials)] == specials:
            tokens = tokens[len(specials):]
        for s in specials:
            if s in tokens:
                raise ValueError(
                    f"Found reserved token '{s}' at index {tokens.index(s) + len(specials)} of the vocabulary; "
                    f"it may only appear at the front, as {specials}"
                )
        if len(set(tokens)) != len(tokens):
            repeated = sorted(t for t, c in collections.Counter(tokens).items() if c > 1)
            raise ValueError(f"The passed vocabulary has at least one repeated term. Repeated terms: {repeated}")
        if self.max_tokens is not None and len(tokens) + len(specials) > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received vocabulary size is "
                f"{len(tokens) + len(specials)}; `max_tokens` is {self.max_tokens}."
            )
        self._has_input_vocabulary = True
        self._set_vocab(tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary, index order; without the special tokens if asked."""
        return list(self._vocab if include_special_tokens else self._vocab[len(self._specials()):])

    def vocabulary_size(self):
        return len(self._vocab)

    def adapt(self, data, batch_size=None, steps=None):
        """Builds the vocabulary from ``data``: strings (a list, an array of shape (n,) or
        (n, 1)), or an iterable of such batches."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via `vocabulary` argument "
                "or `set_vocabulary()` method."
            )
        counts = collections.Counter()
        batches = [data] if isinstance(data, (str, list, tuple, np.ndarray)) else data
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            for tokens in self._tokenize(batch):
                counts.update(tokens)
        for s in self._specials():
            counts.pop(s, None)
        # count descending, ties by descending utf-8 bytes: Keras's lexsort((tokens, counts))[::-1]
        ordered = sorted(counts, key=lambda t: (counts[t], t.encode(self.encoding)), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[: self.max_tokens - len(self._specials())]
        self._set_vocab(ordered)

    # ------------------------------------------------------------------ calling
    def _strings(self, inputs):
        if isinstance(inputs, str):
            return [inputs]
        if isinstance(inputs, _native.Tensor):
            raise TypeError(f"TextVectorization layer '{self.name}' takes strings, not a numeric tensor")
        arr = np.asarray(inputs, dtype=object)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(
                f"TextVectorization layer '{self.name}' expects a batch of strings of shape (batch,) or "
                f"(batch, 1), got an array of shape {arr.shape}"
            )
        out = []
        for s in arr.tolist():
            if isinstance(s, bytes):
                s = s.decode(self.encoding)
            if not isinstance(s, str):
                raise TypeError(
                    f"TextVectorization layer '{self.name}' expects strings, got a value of type {type(s).__name__}"
                )
            out.append(s)
        return out

    def _standardize(self, s):
        mode = self.standardize
        if mode is None:
            return s
        if callable(mode):
            return mode(s)
        if mode in ("lower", "lower_and_strip_punctuation"):
            s = s.lower()
        if mode in ("strip_punctuation", "lower_and_strip_punctuation"):
            s = _STRIP.sub("", s)
        return s

    def _split(self, s):
        if self.split is None:
            return [s]
        if callable(self.split):
            return list(self.split(s))
        if self.split == "character":
            return list(s)
        return s.split()

    def _tokenize(self, inputs):
        """The token lists of a batch of strings (standardized, split, n-grams)."""
        out = []
        for s in self._strings(inputs):
            tokens = self._split(self._standardize(s))
            if self._widths is not None:
                tokens = [" ".join(tokens[i:i + n]) for n in self._widths for i in range(len(tokens) - n + 1)]
            out.append(tokens)
        return out

    def __call__(self, inputs, **kwargs):
        return self.call(inputs)

    def call(self, inputs):
        """Token indices (int64, shape (batch, length)) or multi-hot/count vectors
        (float32, shape (batch, vocabulary size))."""
        docs = self._tokenize(inputs)
        oov = self._index[OOV]
        ids = [[self._index.get(t, oov) for t in doc] for doc in docs]
        if self.output_mode == "int":
            length = self.output_sequence_length
            if length is None:
                length = max((len(d) for d in ids), default=0)
            out = np.zeros((len(ids), length), dtype=np.int64)
            for row, d in zip(out, ids):
                d = d[:length]
                row[: len(d)] = d
            return _native.Tensor(out)
        depth = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else len(self._vocab)
        out = np.zeros((len(ids), depth), dtype=np.float32)
        # mask tokens ("") are dropped in these modes, as Keras does
        rows = np.repeat(np.arange(len(ids)), [len(d) for d in ids])
        cols = np.fromiter((i for d, doc in zip(ids, docs) for i, t in zip(d, doc)), dtype=np.int64,
                           count=len(rows))
        keep = np.fromiter((t != MASK for doc in docs for t in doc), dtype=bool, count=len(rows))
        np.add.at(out, (rows[keep], cols[keep]), 1.0)
        if self.output_mode == "multi_hot":
            out = np.minimum(out, 1.0)
        return _native.Tensor(out)

    def compute_output_shape(self, input_shape):
        batch = input_shape[0] if len(input_shape) else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        depth = self.max_tokens if self.pad_to_max_tokens and self.max_tokens else len(self._vocab)
        return (batch, depth)

    def get_config(self):
        return {
            **super().get_config(),
            "max_tokens": self.max_tokens,
            "standardize": self.standardize,
            "split": self.split,
            "ngrams": self.ngrams,
            "output_mode": self.output_mode,
            "output_sequence_length": self.output_sequence_length,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary": self.get_vocabulary() if self._has_input_vocabulary else None,
            "encoding": self.encoding,
        }
