"""Reshaping layers: ``Flatten``, ``Reshape``, ``Permute``, ``RepeatVector``, and the spatial
ones ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``, ``UpSampling1D/2D/3D``. The batch axis
is left alone."""

import math
import operator

from ember import _native
from ember.backend import image_data_format, standardize_data_format
from ember.layers.native import BuiltinLayer
from ember.layers.pooling import check_ndim, spatial_range
from ember.utils.argument_validation import standardize_tuple


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


def _pairs(value, rank, name):
    """An int, ``rank`` ints or ``rank`` pairs of ints as ``rank`` (before, after) pairs of
    non-negative ints (Keras's forms of ``padding`` and ``cropping``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((value, value),) * rank
    if not hasattr(value, "__len__"):
        raise ValueError(
            f"`{name}` should be either an int, a tuple of {rank} ints or a tuple of {rank} tuples of 2 ints. "
            f"Received: {name}={value}."
        )
    if len(value) != rank:
        raise ValueError(f"`{name}` should have {rank} elements. Received: {name}={value}.")
    ordinals = ("1st", "2nd", "3rd")
    return tuple(
        standardize_tuple(v, 2, f"{ordinals[i] if i < 3 else f'{i + 1}th'} entry of {name}", allow_zero=True)
        for i, v in enumerate(value)
    )


class _ZeroPadding(BuiltinLayer):
    """Base of ``ZeroPadding{1,2,3}D``: ``self._pads`` holds one (before, after) pair per axis."""

    _rank = 0

    def _init_core(self, pads, data_format):
        self.data_format = standardize_data_format(data_format)
        self._pads = pads
        self._set_core(
            _native.zero_padding_layer(self.name, [tuple(p) for p in pads], self.data_format == "channels_first")
        )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self._rank + 2)
        out = list(input_shape)
        for (before, after), d in zip(self._pads, spatial_range(self.data_format, self._rank)):
            if out[d] is not None:
                out[d] += before + after
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Zeros at the start and end of the steps: ``padding`` is an int or ``(left, right)``."""

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)
        self._init_core((self.padding,), data_format)


class ZeroPadding2D(_ZeroPadding):
    """Rows and columns of zeros: ``padding`` is an int, ``(rows, cols)`` (symmetric) or
    ``((top, bottom), (left, right))``."""

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, 2, "padding")
        self._init_core(self.padding, data_format)


class ZeroPadding3D(_ZeroPadding):
    """Zeros around three spatial axes: an int, 3 ints or 3 (before, after) pairs."""

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, 3, "padding")
        self._init_core(self.padding, data_format)


class _Cropping(BuiltinLayer):
    """Base of ``Cropping{1,2,3}D``: ``self._crops`` holds one (before, after) pair per axis."""

    _rank = 0

    def _init_core(self, crops, data_format):
        self.data_format = standardize_data_format(data_format)
        self._crops = crops
        self._set_core(
            _native.cropping_layer(self.name, [tuple(c) for c in crops], self.data_format == "channels_first")
        )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self._rank + 2)
        out = list(input_shape)
        for (before, after), d in zip(self._crops, spatial_range(self.data_format, self._rank)):
            if out[d] is None:
                continue
            out[d] -= before + after
            if out[d] <= 0:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': values in `cropping` should be smaller than "
                    "the corresponding spatial dimension of the input. Received: "
                    f"input_shape={tuple(input_shape)}, cropping={self.cropping}"
                )
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Drops steps at the start and end: ``cropping`` is an int or ``(left, right)``."""

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)
        self._init_core((self.cropping,), "channels_last")

    def get_config(self):
        config = super().get_config()
        del config["data_format"]
        return config


class Cropping2D(_Cropping):
    """Drops rows and columns: ``cropping`` is an int, ``(rows, cols)`` (symmetric) or
    ``((top, bottom), (left, right))``."""

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, 2, "cropping")
        self._init_core(self.cropping, data_format)


class Cropping3D(_Cropping):
    """Drops borders of three spatial axes: an int, 3 ints or 3 (before, after) pairs."""

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, 3, "cropping")
        self._init_core(self.cropping, data_format)


class _UpSampling(BuiltinLayer):
    """Base of ``UpSampling{1,2,3}D``: spatial axis ``i`` grows by ``self._factors[i]``."""

    _rank = 0

    def _init_core(self, factors, data_format, interpolation="nearest"):
        self.data_format = standardize_data_format(data_format)
        self._factors = factors
        self._set_core(
            _native.up_sampling_layer(
                self.name, list(factors), interpolation, self.data_format == "channels_first"
            )
        )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self._rank + 2)
        out = list(input_shape)
        for f, d in zip(self._factors, spatial_range(self.data_format, self._rank)):
            if out[d] is not None:
                out[d] *= f
        return tuple(out)


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times."""

    _rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = size
        self._init_core((size,), "channels_last")

    def get_config(self):
        return {**super().get_config(), "size": self.size}


_UNSUPPORTED_INTERPOLATIONS = ("bicubic", "lanczos3", "lanczos5", "area")


class UpSampling2D(_UpSampling):
    """Grows rows and columns by ``size``: repeated ("nearest") or interpolated ("bilinear",
    half-pixel centers as Keras's image resize)."""

    _rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = str(interpolation).lower()
        if self.interpolation in _UNSUPPORTED_INTERPOLATIONS:
            raise NotImplementedError(
                f"UpSampling2D: interpolation='{self.interpolation}' is not available in ember yet; "
                "use 'nearest' or 'bilinear'"
            )
        if self.interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                "Invalid value for argument `interpolation`: expected one of 'nearest', 'bilinear', "
                f"'bicubic', 'lanczos3', 'lanczos5', 'area'. Received: interpolation={interpolation}"
            )
        self._init_core(self.size, data_format, self.interpolation)

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling3D(_UpSampling):
    """Repeats each position ``size[i]`` times along spatial axis ``i``."""

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = standardize_tuple(size, 3, "size")
        self._init_core(self.size, data_format)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
