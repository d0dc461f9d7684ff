"""Shape ops, gathers and padding with keras.ops names and arguments, computed by the Rust core.

Reshapes, transposes, inserted/removed axes, broadcasts, slices and split pieces are views of
their input (no copy) whenever the strided layout allows. Inputs may be Tensors, Variables,
numpy arrays, lists or scalars.
"""
import numpy as np

from ember import _native

__all__ = [
    "broadcast_to", "concatenate", "expand_dims", "flip", "moveaxis", "one_hot", "pad", "ravel",
    "repeat", "reshape", "slice", "split", "squeeze", "stack", "swapaxes", "take", "take_along_axis",
    "tile", "transpose", "unstack",
]


def reshape(x, newshape):
    """``x`` with shape ``newshape``; one entry may be -1."""
    return _native.reshape(x, newshape)


def transpose(x, axes=None):
    """Permutes the axes (reverses them when ``axes`` is None)."""
    return _native.transpose(x, axes)


def swapaxes(x, axis1, axis2):
    """Interchanges two axes."""
    return _native.swapaxes(x, axis1, axis2)


def moveaxis(x, source, destination):
    """Moves axes to new positions; the others keep their order."""
    return _native.moveaxis(x, source, destination)


def expand_dims(x, axis):
    """Inserts unit axes at ``axis`` (an int or a tuple) of the result."""
    return _native.expand_dims(x, axis)


def squeeze(x, axis=None):
    """Removes unit axes (all of them when ``axis`` is None)."""
    return _native.squeeze(x, axis)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` with numpy's rules (a view)."""
    return _native.broadcast_to(x, shape)


def ravel(x):
    """The elements as a 1-D tensor."""
    return _native.ravel(x)


def flip(x, axis=None):
    """Reverses the order of elements along ``axis`` (all axes when None)."""
    return _native.flip(x, axis)


def concatenate(xs, axis=0):
    """Joins a sequence of tensors along an existing axis."""
    return _native.concatenate(list(xs), axis)


def stack(x, axis=0):
    """Joins a sequence of same-shape tensors along a new axis."""
    return _native.stack(list(x), axis)


def split(x, indices_or_sections, axis=0):
    """Splits into equal sections (an int) or at the given indices (a sequence); returns a list."""
    return _native.split(x, indices_or_sections, axis)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list, that axis removed."""
    x = x if isinstance(x, _native.Tensor) else _native.Tensor(x)
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: num={num} does not match axis {axis} of size {n} (shape {x.shape})")
    return [_native.squeeze(p, axis) for p in _native.split(x, n, axis)] if n else []


def take(x, indices, axis=None):
    """Elements of ``x`` at integer ``indices`` along ``axis`` (of the flattened tensor when None).

    Negative indices count from the end; out-of-range indices raise IndexError.
    """
    return _native.take(x, indices, axis)


def take_along_axis(x, indices, axis=None):
    """numpy's ``take_along_axis``: at each position, the element of ``x`` along ``axis`` named
    by ``indices`` (same rank as ``x``; other axes broadcast)."""
    return _native.take_along_axis(x, indices, axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes integer ``x`` along a new ``axis``; out-of-range values give zeros."""
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by ember")
    out = _native.one_hot(_native.Tensor(x, "int64"), num_classes, axis)
    return out if dtype is None else _native.Tensor(out, dtype)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads ``x``; ``pad_width`` is ``((before, after), ...)`` per axis, ``((before, after),)``
    for all axes, or an int. Modes: "constant", "edge", "reflect", "symmetric", "wrap"."""
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "Argument `constant_values` can only be provided when `mode == 'constant'`. "
            f"Received: mode={mode}"
        )
    x = x if isinstance(x, _native.Tensor) else _native.Tensor(x)
    widths = np.asarray(pad_width)
    try:
        widths = np.broadcast_to(widths, (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width of shape {widths.shape} cannot be broadcast to ({x.ndim}, 2) "
            f"for a tensor of shape {tuple(x.shape)}"
        ) from None
    if widths.dtype.kind not in "iu" or (widths < 0).any():
        raise ValueError(f"pad: pad_width must hold non-negative integers, got {pad_width!r}")
    pairs = [(int(a), int(b)) for a, b in widths]
    value = 0.0 if constant_values is None else float(constant_values)
    return _native.pad(x, pairs, mode, value)


def tile(x, repeats):
    """Repeats the whole tensor ``repeats[d]`` times along each axis."""
    return _native.tile(x, repeats)


def repeat(x, repeats, axis=None):
    """Repeats each element ``repeats`` times (an int, or one count per element) along ``axis``."""
    return _native.repeat(x, repeats, axis)


def slice(inputs, start_indices, shape):
    """The block of ``shape`` starting at ``start_indices`` (a view); -1 in ``shape`` takes the
    rest of that axis."""
    return _native.slice(inputs, start_indices, shape)
