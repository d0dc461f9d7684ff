"""What the image preprocessing layers share: argument parsing with Keras's rules and
messages, and the training default of the random layers."""

import numbers

from ember.backend import image_data_format
from ember.layers.native import BuiltinLayer

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def standardize_data_format(layer, data_format):
    data_format = data_format or image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"{layer}: the `data_format` argument must be one of 'channels_first', 'channels_last'. "
            f"Received: data_format={data_format}"
        )
    return data_format


def is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def factor_range(layer, factor, name="factor", bounds=(-1.0, 1.0)):
    """Keras's ``(lower, upper)`` for a factor: a number ``f`` gives ``(-|f|, |f|)``, a pair
    is sorted; both ends must lie within ``bounds``."""
    low, high = bounds
    message = (
        f"{layer}: the `{name}` argument should be a number (or a list of two numbers) in the range "
        f"[{low}, {high}]. Received: {name}={factor}"
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(is_number(f) for f in factor):
            raise ValueError(message)
        lower, upper = sorted(float(f) for f in factor)
    elif is_number(factor):
        lower, upper = -abs(float(factor)), abs(float(factor))
    else:
        raise ValueError(message)
    if lower < low or upper > high:
        raise ValueError(message)
    return lower, upper


def value_range_pair(layer, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or not all(
        is_number(v) for v in value_range
    ):
        raise ValueError(
            f"{layer}: the `value_range` argument should be a list of two numbers. "
            f"Received: value_range={value_range}"
        )
    return float(value_range[0]), float(value_range[1])


def check_sampling(layer, fill_mode, interpolation):
    """Keras's errors for the fill modes and interpolations the affine layers support."""
    if fill_mode not in FILL_MODES:
        raise NotImplementedError(f"{layer}: unknown `fill_mode` {fill_mode}. Expected of one {FILL_MODES}.")
    if interpolation not in INTERPOLATIONS:
        raise NotImplementedError(
            f"{layer}: unknown `interpolation` {interpolation}. Expected of one {INTERPOLATIONS}."
        )


def check_size(layer, height, width):
    for name, v in (("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise ValueError(f"{layer}: `{name}` must be a positive integer. Received: {name}={v!r}")
    return int(height), int(width)


def resized_shape(input_shape, height, width, data_format):
    """``input_shape`` with its height and width replaced."""
    shape = list(input_shape)
    h_axis = -3 if data_format == "channels_last" else -2
    shape[h_axis], shape[h_axis + 1] = height, width
    return tuple(shape)


class RandomImageLayer(BuiltinLayer):
    """An augmentation layer. As in Keras 3, ``training`` defaults to True when the layer is
    called directly (or by a model called without ``training``); ``predict``, ``evaluate``
    and ``training=False`` make it the identity."""

    def call(self, inputs, training=True):
        return super().call(inputs, True if training is None else training)
