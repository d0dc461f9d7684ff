"""``ember.utils``: seeding and array helpers (keras.utils names)."""
import random as _pyrandom

import numpy as np

from ember import _native
from ember.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences", "set_random_seed", "to_categorical"]


def set_random_seed(seed):
    """Seeds Python's, numpy's and ember's generators (``keras.utils.set_random_seed``)."""
    seed = int(seed)
    _pyrandom.seed(seed)
    np.random.seed(seed % (2**32))
    _native.set_random_seed(seed)


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class labels (``keras.utils.to_categorical``)."""
    x = np.asarray(x)
    if x.size and (x.dtype.kind == "f" and not np.all(np.equal(np.mod(x, 1), 0))):
        raise ValueError("to_categorical: labels must be integers")
    x = x.astype("int64")
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}), got values from {x.min()} to {x.max()}"
        )
    out = np.zeros(x.shape + (num_classes,), dtype="float32")
    np.put_along_axis(out, x[..., None], 1.0, axis=-1)
    return out
