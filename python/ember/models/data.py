"""Array handling for fit/evaluate/predict: conversion once at the boundary, splits,
class weights. Everything is vectorised numpy; no per-sample Python loops."""
import numpy as np

from ember import _native


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, dict):
        return [x[k] for k in sorted(x)]
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def to_arrays(x, input_dtypes=None, what="x"):
    """numpy arrays (float32, or int64 where an input is integer-typed) from arrays,
    lists of arrays or dicts of arrays."""
    out = []
    for i, a in enumerate(_as_list(x)):
        if isinstance(a, (_native.Tensor, _native.Variable)):
            a = a.numpy()
        a = np.asarray(a)
        if a.dtype == object:
            raise TypeError(f"{what}: cannot use an array of Python objects (dtype=object) as model data")
        if a.ndim == 0:
            raise ValueError(f"{what}: expected an array with a batch dimension, got a scalar")
        want = (input_dtypes[i] if input_dtypes and i < len(input_dtypes) else None) or "float32"
        if want.startswith("int") and a.dtype.kind in "iub":
            a = np.ascontiguousarray(a, dtype=np.int64)
        elif want.startswith("int") and a.dtype.kind == "f":
            raise TypeError(f"{what}: this model input expects integer ids ({want}), got a float array")
        else:
            a = np.ascontiguousarray(a, dtype=np.float32)
        out.append(a)
    return out


def targets_to_arrays(y):
    """Targets keep integer labels as int64 and everything else as float32."""
    out = []
    for a in _as_list(y):
        if isinstance(a, (_native.Tensor, _native.Variable)):
            a = a.numpy()
        a = np.asarray(a)
        if a.ndim == 0:
            raise ValueError("y: expected an array with a batch dimension, got a scalar")
        a = np.ascontiguousarray(a, dtype=np.int64 if a.dtype.kind in "iub" else np.float32)
        out.append(a)
    return out


def check_cardinality(arrays, names):
    sizes = {n: len(a) for n, a in zip(names, arrays) if a is not None}
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{n} sizes: {s}" for n, s in sizes.items())
        raise ValueError(
            f"Data cardinality is ambiguous: {detail}. Make sure all arrays contain the same number of samples."
        )
    for n, s in sizes.items():
        if s == 0:
            raise ValueError(f"{n} is empty (0 samples): there is nothing to train on")


def split_validation(xs, ys, sw, validation_split):
    """Keras semantics: the last ``validation_split`` fraction, taken before shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split}")
    n = len(xs[0])
    split = int(n * (1.0 - validation_split))
    if split == 0 or split == n:
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or validation ({n} samples)"
        )
    tr = ([a[:split] for a in xs], [a[:split] for a in ys], None if sw is None else sw[:split])
    va = ([a[split:] for a in xs], [a[split:] for a in ys], None if sw is None else sw[split:])
    return tr, va


def class_weight_to_sample_weight(y, class_weight):
    """Per-sample weights ``class_weight[label]`` from sparse or one-hot targets."""
    y = np.asarray(y)
    labels = np.argmax(y, axis=-1) if (y.ndim > 1 and y.shape[-1] > 1) else y.reshape(len(y), -1)[:, 0]
    labels = labels.astype(np.int64)
    n_classes = max(int(labels.max()) + 1, max(class_weight) + 1) if len(labels) else 0
    table = np.ones(n_classes, dtype=np.float32)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    if len(labels) and labels.min() < 0:
        raise ValueError(f"class_weight: labels must be non-negative, got {labels.min()}")
    return table[labels]


def to_tensors(arrays):
    """Tensors reading the prepared arrays in place (they are only read during the call)."""
    return [_native.Tensor.borrow(a) for a in arrays]
