"""How fit/evaluate/predict take their arrays: read in place when already float32/int64
C-contiguous, converted otherwise."""
import gc

import numpy as np

import ember
from ember import _native


def test_borrow_reads_a_contiguous_array_in_place_and_keeps_it_alive():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = _native.Tensor.borrow(a)
    a[0, 0] = 100.0  # the tensor reads the array's own memory
    assert t.numpy()[0, 0] == 100.0
    del a
    gc.collect()
    np.testing.assert_array_equal(t.numpy()[1], [4, 5, 6, 7])
    labels = np.array([3, 1, 2], dtype=np.int64)
    tl = _native.Tensor.borrow(labels)
    assert tl.dtype == "int64" and tl.numpy().tolist() == [3, 1, 2]


def test_borrow_copies_what_it_cannot_read_in_place():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    view = base[:, ::2]  # not contiguous
    t = _native.Tensor.borrow(view)
    base[0, 0] = -1.0
    np.testing.assert_array_equal(t.numpy()[0], [0, 2, 4])
    t64 = _native.Tensor.borrow(np.ones((2, 2)))  # float64 becomes float32
    assert t64.dtype == "float32"
    assert _native.Tensor.borrow(np.zeros((0, 3), np.float32)).shape == [0, 3]


def test_a_weight_written_during_training_never_writes_the_users_array():
    ember.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [2.0], [3.0]], np.float32)
    x0, y0 = x.copy(), y.copy()
    model = ember.Sequential([ember.Input((3,)), ember.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
