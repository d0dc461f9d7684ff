"""Conversion and the matrix product."""
import numpy as np

from ember import _native

__all__ = ["convert_to_tensor", "convert_to_numpy", "matmul", "is_tensor", "shape", "dtype", "cast"]


def convert_to_tensor(x, dtype=None):
    """A Tensor from an array-like (numpy array, nested lists, scalar, Tensor, Variable)."""
    if isinstance(x, _native.Tensor) and dtype is None:
        return x
    return _native.Tensor(x, dtype)


def convert_to_numpy(x):
    """A numpy array with the values of ``x``."""
    if isinstance(x, (_native.Tensor, _native.Variable)):
        return x.numpy()
    return np.asarray(x)


def is_tensor(x):
    return isinstance(x, _native.Tensor)


def shape(x):
    return tuple(convert_to_tensor(x).shape)


def dtype(x):
    return convert_to_tensor(x).dtype


def cast(x, dtype):
    return _native.Tensor(x, dtype)


def matmul(x1, x2):
    """Matrix product with numpy's rules (batched, broadcast)."""
    return convert_to_tensor(x1) @ convert_to_tensor(x2)
