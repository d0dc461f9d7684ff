"""Reductions with keras.ops names and arguments, computed by the Rust core.

``axis`` is None (all axes), an int or a tuple of ints; negative axes count from the end.
Integer inputs keep an integer result for ``sum``/``prod``/``max``/``min``. ``any`` and ``all``
return int64 0/1 tensors (ember has no bool dtype). Gradients of ``max``/``min`` are split
equally between tied elements; ``std`` has zero gradient where it is zero.
"""
from ember import _native

__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "logsumexp", "max", "mean", "min", "prod",
    "std", "sum", "var",
]


def sum(x, axis=None, keepdims=False):
    """Sum of elements over ``axis``."""
    return _native.sum(x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (NaN for an empty selection)."""
    return _native.mean(x, axis, keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis``; ``initial`` is folded into every result (and allows empty axes)."""
    return _native.max(x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis``; ``initial`` is folded into every result (and allows empty axes)."""
    return _native.min(x, axis, keepdims, initial)


def amax(x, axis=None, keepdims=False):
    """Maximum over ``axis``."""
    return _native.max(x, axis, keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return _native.min(x, axis, keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis``; ``dtype`` ("float32"/"int64") casts the result."""
    out = _native.prod(x, axis, keepdims)
    return out if dtype is None else _native.Tensor(out, dtype)


def var(x, axis=None, keepdims=False):
    """Population variance (ddof 0) over ``axis``."""
    return _native.var(x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (ddof 0) over ``axis``."""
    return _native.std(x, axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return _native.logsumexp(x, axis, keepdims)


def argmax(x, axis=None, keepdims=False):
    """int64 index of the first maximum along ``axis`` (of the flattened tensor when None)."""
    return _native.argmax(x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    """int64 index of the first minimum along ``axis`` (of the flattened tensor when None)."""
    return _native.argmin(x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    """Whether any element over ``axis`` is nonzero (int64 0/1)."""
    return _native.any(x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    """Whether all elements over ``axis`` are nonzero (int64 0/1)."""
    return _native.all(x, axis, keepdims)
