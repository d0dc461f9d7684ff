"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``. The batch
axis is left alone."""

import math
import operator

from ember import _native
from ember.backend import image_data_format
from ember.layers.native import BuiltinLayer


class Flatten(BuiltinLayer):
    """``(batch, ...)`` to ``(batch, prod(...))``; ``(batch,)`` becomes ``(batch, 1)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        data_format = data_format or image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"The `data_format` argument must be one of 'channels_first', 'channels_last'. "
                f"Received: data_format={data_format}"
            )
        self.data_format = data_format
        self._set_core(_native.flatten_layer(self.name, data_format == "channels_first"))
        self.built = True

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(BuiltinLayer):
    """``(batch, ...)`` to ``(batch, *target_shape)``; one entry may be -1 (inferred)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) for d in target_shape)
        if target_shape.count(-1) > 1:
            raise ValueError(
                "The `target_shape` argument must not contain more than one `-1` value. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self._set_core(_native.reshape_layer(self.name, list(target_shape)))
        self.built = True

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            out = self.target_shape
        elif any(d is None for d in rest):
            out = tuple(None if d == -1 else d for d in self.target_shape)
        else:
            known = math.prod(d for d in self.target_shape if d != -1)
            total = math.prod(rest)
            if known == 0 or total % known:
                raise ValueError(
                    f"Reshape layer '{self.name}': cannot reshape inputs of shape {tuple(input_shape)} "
                    f"into target_shape {self.target_shape}"
                )
            out = tuple(total // known if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + tuple(out)

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(BuiltinLayer):
    """Reorders the non-batch axes: ``dims`` is a permutation of ``1..ndim-1``."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must be "
                f"consecutive and start from 1. Received dims={tuple(dims)}"
            )
        self._set_core(_native.permute_layer(self.name, list(self.dims)))
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(BuiltinLayer):
    """``(batch, features)`` to ``(batch, n, features)``."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        try:
            n = operator.index(n)
        except TypeError:
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.") from None
        if n < 0:
            raise ValueError(f"RepeatVector: `n` must be non-negative. Received: n={n}")
        self.n = n
        self._set_core(_native.repeat_vector_layer(self.name, n))
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
