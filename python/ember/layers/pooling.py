"""Pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D`` and the global
poolings ``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D`` (Keras 3 names,
arguments, defaults and aliases), computed by the core's pooling kernels."""

from ember import _native
from ember.backend import standardize_data_format
from ember.layers.native import BuiltinLayer
from ember.utils.argument_validation import standardize_tuple


def check_ndim(layer, input_shape, ndim):
    """Keras's InputSpec message when ``input_shape`` does not have rank ``ndim``."""
    if len(input_shape) != ndim:
        raise ValueError(
            f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected ndim={ndim}, '
            f"found ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}"
        )


def spatial_range(data_format, rank):
    """The indices of the spatial axes of a rank ``rank + 2`` shape."""
    return range(2, rank + 2) if data_format == "channels_first" else range(1, rank + 1)


class _Pooling(BuiltinLayer):
    """Base of the max and average poolings: ``_rank`` spatial axes, ``_mode`` "max" or
    "average"."""

    _rank = 0
    _mode = ""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, self._rank, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = standardize_tuple(strides, self._rank, "strides")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"Argument `padding` must be either 'valid' or 'same'. Received: padding={padding}")
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self._set_core(
            _native.pooling_layer(
                self.name,
                self._mode,
                list(self.pool_size),
                list(self.strides),
                padding.lower(),
                self.data_format == "channels_first",
            )
        )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self._rank + 2)
        out = list(input_shape)
        for i, d in enumerate(spatial_range(self.data_format, self._rank)):
            n, k, s = input_shape[d], self.pool_size[i], self.strides[i]
            if n is None:
                continue
            if self.padding.lower() == "valid":
                if n < k:
                    raise ValueError(
                        "Computed output size would be zero or negative. Received: "
                        f"`inputs.shape={tuple(input_shape)}`, `pool_size={self.pool_size}`, "
                        f"`strides={self.strides}`, `padding={self.padding}`."
                    )
                out[d] = (n - k) // s + 1
            else:
                out[d] = (n - 1) // s + 1
        return tuple(out)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """The maximum over windows of ``pool_size`` steps, moved by ``strides``."""

    _rank, _mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """The maximum over windows of ``pool_size`` (rows, cols), moved by ``strides``."""

    _rank, _mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(_Pooling):
    """The maximum over windows of ``pool_size`` (dim1, dim2, dim3), moved by ``strides``."""

    _rank, _mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """The mean over windows of ``pool_size`` steps ("same": of the valid steps only)."""

    _rank, _mode = 1, "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling):
    """The mean over windows of ``pool_size`` (rows, cols) ("same": of the valid elements only)."""

    _rank, _mode = 2, "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(_Pooling):
    """The mean over windows of ``pool_size`` (dim1, dim2, dim3) ("same": of the valid elements)."""

    _rank, _mode = 3, "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class _GlobalPooling(BuiltinLayer):
    """Base of the global poolings: the maximum or mean over all ``_rank`` spatial axes."""

    _rank = 0
    _mode = ""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self._set_core(
            _native.global_pooling_layer(
                self.name, self._mode, self._rank, self.data_format == "channels_first", bool(keepdims)
            )
        )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_ndim(self, input_shape, self._rank + 2)
        if self.data_format == "channels_last":
            channels = (input_shape[-1],)
            return (input_shape[0],) + ((1,) * self._rank if self.keepdims else ()) + channels
        return (input_shape[0], input_shape[1]) + ((1,) * self._rank if self.keepdims else ())

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """The maximum over the steps: ``(batch, steps, features)`` to ``(batch, features)``."""

    _rank, _mode = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """The maximum over rows and columns: ``(batch, rows, cols, channels)`` to ``(batch, channels)``."""

    _rank, _mode = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    """The maximum over the three spatial axes."""

    _rank, _mode = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps: ``(batch, steps, features)`` to ``(batch, features)``.

    With a mask of shape ``(batch, steps)`` (passed as ``mask=`` or carried by the input)
    the mean runs over the unmasked steps only, as in Keras: ``sum(x * mask) / sum(mask)``.
    """

    _rank, _mode = 1, "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None, training=None):
        return super().call(inputs, training, mask)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """The mean over rows and columns: ``(batch, rows, cols, channels)`` to ``(batch, channels)``."""

    _rank, _mode = 2, "average"


class GlobalAveragePooling3D(_GlobalPooling):
    """The mean over the three spatial axes."""

    _rank, _mode = 3, "average"


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
