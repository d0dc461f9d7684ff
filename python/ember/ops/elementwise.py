"""Elementwise math (``keras.ops`` names from keras/src/ops/numpy.py), computed in Rust.

Inputs may be Tensors, Variables, numpy arrays, lists or scalars. Floating-point ops work
in float32 (integer inputs are converted). Comparisons and logical ops return int64 tensors
of 0/1: ember has only the float32 and int64 dtypes, so int64 stands in for bool.
"""
import numpy as np

from ember import _native

__all__ = [
    "negative", "abs", "absolute", "square", "sqrt", "exp", "log", "log1p", "expm1", "sign",
    "floor", "ceil", "round", "sin", "cos", "tanh", "reciprocal", "power", "clip", "maximum",
    "minimum", "where", "add", "subtract", "multiply", "divide", "true_divide", "equal",
    "not_equal", "less", "less_equal", "greater", "greater_equal", "logical_and", "logical_or",
    "logical_xor", "logical_not",
]


def negative(x):
    return _native.op_negative(x)


def abs(x):  # the keras.ops name (shadows the builtin here)
    return _native.op_abs(x)


absolute = abs


def square(x):
    return _native.op_square(x)


def sqrt(x):
    return _native.op_sqrt(x)


def exp(x):
    return _native.op_exp(x)


def log(x):
    """Natural logarithm."""
    return _native.op_log(x)


def log1p(x):
    """``log(1 + x)``, accurate for small ``x``."""
    return _native.op_log1p(x)


def expm1(x):
    """``exp(x) - 1``, accurate for small ``x``."""
    return _native.op_expm1(x)


def sign(x):
    """-1, 0 or 1 by the sign of ``x`` (not differentiable)."""
    return _native.op_sign(x)


def floor(x):
    return _native.op_floor(x)


def ceil(x):
    return _native.op_ceil(x)


def round(x, decimals=0):  # the keras.ops name (shadows the builtin here)
    """Rounds half to even at ``decimals`` places, as numpy."""
    return _native.op_round(x, int(decimals))


def sin(x):
    return _native.op_sin(x)


def cos(x):
    return _native.op_cos(x)


def tanh(x):
    return _native.op_tanh(x)


def reciprocal(x):
    """``1 / x``."""
    return _native.op_reciprocal(x)


def _is_scalar(v):
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool)


def power(x1, x2):
    """``x1 ** x2`` with broadcasting; a scalar exponent takes a faster path."""
    if _is_scalar(x2):
        return _native.op_power_scalar(x1, float(x2))
    return _native.op_power(x1, x2)


def clip(x, x_min, x_max):
    """Clips ``x`` to ``[x_min, x_max]`` (scalars or broadcastable arrays)."""
    if np.ndim(x_min) == 0 and np.ndim(x_max) == 0 and not isinstance(
        x_min, (_native.Tensor, _native.Variable)
    ) and not isinstance(x_max, (_native.Tensor, _native.Variable)):
        return _native.op_clip(x, float(x_min), float(x_max))
    return minimum(maximum(x, x_min), x_max)


def maximum(x1, x2):
    """Elementwise maximum with broadcasting; ties share the gradient equally."""
    return _native.op_maximum(x1, x2)


def minimum(x1, x2):
    """Elementwise minimum with broadcasting; ties share the gradient equally."""
    return _native.op_minimum(x1, x2)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` is non-zero, else ``x2``; all three broadcast together."""
    if x1 is None or x2 is None:
        raise ValueError(
            "where: x1 and x2 must both be given (the one-argument form, which returns "
            "indices, is not supported)"
        )
    return _native.op_where(condition, x1, x2)


def add(x1, x2):
    return _native.op_add(x1, x2)


def subtract(x1, x2):
    return _native.op_subtract(x1, x2)


def multiply(x1, x2):
    return _native.op_multiply(x1, x2)


def divide(x1, x2):
    return _native.op_divide(x1, x2)


true_divide = divide


def equal(x1, x2):
    """``x1 == x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_equal(x1, x2)


def not_equal(x1, x2):
    """``x1 != x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_not_equal(x1, x2)


def less(x1, x2):
    """``x1 < x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_less(x1, x2)


def less_equal(x1, x2):
    """``x1 <= x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_less_equal(x1, x2)


def greater(x1, x2):
    """``x1 > x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_greater(x1, x2)


def greater_equal(x1, x2):
    """``x1 >= x2`` elementwise, as an int64 tensor of 0/1."""
    return _native.op_greater_equal(x1, x2)


def logical_and(x1, x2):
    """Non-zero values are true; returns an int64 tensor of 0/1."""
    return _native.op_logical_and(x1, x2)


def logical_or(x1, x2):
    """Non-zero values are true; returns an int64 tensor of 0/1."""
    return _native.op_logical_or(x1, x2)


def logical_xor(x1, x2):
    """Non-zero values are true; returns an int64 tensor of 0/1."""
    return _native.op_logical_xor(x1, x2)


def logical_not(x):
    """1 where ``x`` is zero, else 0 (int64)."""
    return _native.op_logical_not(x)
