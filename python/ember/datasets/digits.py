"""The UCI handwritten digits: 1,797 grey 8x8 images of the digits 0-9 (pixels 0..16).

Creators E. Alpaydin and C. Kaynak (1998), UCI Machine Learning Repository, CC BY 4.0
(see data/DIGITS_LICENSE.txt). Shipped inside the package, compressed (about 60 kB).
"""
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")


def load_data(test_split=0.2, seed=113):
    """Returns ``(x_train, y_train), (x_test, y_test)`` like ``keras.datasets.*.load_data``.

    Images are uint8 arrays of shape (n, 8, 8) with values 0..16, labels uint8 0..9. The
    split is a seeded shuffle, so it is the same on every machine.
    """
    if not 0.0 <= test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be in [0, 1), got {test_split}")
    with np.load(_PATH) as f:
        x, y = f["images"], f["labels"]
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    n_test = int(round(len(x) * test_split))
    n_train = len(x) - n_test
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
