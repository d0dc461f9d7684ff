"""Activations, softmax, normalization and pooling (``keras.ops`` names, arguments and
defaults from keras/src/ops/nn.py), computed in Rust with fused backward passes."""
from ember import _native, backend
from ember.backend import standardize_data_format
from ember.utils.argument_validation import standardize_tuple

__all__ = [
    "relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign", "soft_shrink",
    "sparse_plus", "silu", "swish", "squareplus", "log_sigmoid", "leaky_relu", "hard_sigmoid",
    "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "tanh_shrink", "hard_tanh",
    "hard_shrink", "threshold", "mish", "softmax", "log_softmax", "moments", "batch_normalization",
    "normalize", "layer_normalization", "rms_normalization", "max_pool", "average_pool",
    "conv", "conv_transpose", "depthwise_conv", "separable_conv",
]


def relu(x):
    """``max(x, 0)``."""
    return _native.op_relu(x)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return _native.op_relu6(x)


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return _native.op_sigmoid(x)


def sparse_sigmoid(x):
    """0 for x <= -1, ``(x + 1) / 2`` in between, 1 for x >= 1."""
    return _native.op_sparse_sigmoid(x)


def softplus(x):
    """``log(exp(x) + 1)``, computed without overflow."""
    return _native.op_softplus(x)


def softsign(x):
    """``x / (abs(x) + 1)``."""
    return _native.op_softsign(x)


def soft_shrink(x, threshold=0.5):
    return _native.op_soft_shrink(x, float(threshold))


def sparse_plus(x):
    return _native.op_sparse_plus(x)


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return _native.op_silu(x)


swish = silu


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    return _native.op_squareplus(x, float(b))


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed without overflow."""
    return _native.op_log_sigmoid(x)


def leaky_relu(x, negative_slope=0.2):
    """``x`` for x >= 0, ``negative_slope * x`` below."""
    return _native.op_leaky_relu(x, float(negative_slope))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return _native.op_hard_sigmoid(x)


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard swish)."""
    return _native.op_hard_silu(x)


hard_swish = hard_silu


def elu(x, alpha=1.0):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` below."""
    return _native.op_elu(x, float(alpha))


def selu(x):
    """``scale * elu(x, alpha)`` with the self-normalising constants."""
    return _native.op_selu(x)


def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation when ``approximate``, else exact (erf)."""
    return _native.op_gelu(x, bool(approximate))


def celu(x, alpha=1.0):
    """``x`` for x >= 0, ``alpha * (exp(x / alpha) - 1)`` below."""
    return _native.op_celu(x, float(alpha))


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return _native.op_tanh_shrink(x)


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return _native.op_hard_tanh(x)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``abs(x) > threshold``, else 0."""
    return _native.op_hard_shrink(x, float(threshold))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _native.op_threshold(x, float(threshold), float(default_value))


def mish(x):
    """``x * tanh(softplus(x))`` (keras.activations.mish)."""
    return _native.op_mish(x)


def _check_axis(op, axis):
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an integer, got {axis!r}")
    return axis


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``, numerically stable."""
    return _native.op_softmax(x, _check_axis("softmax", axis))


def log_softmax(x, axis=-1):
    """``x - max(x) - log(sum(exp(x - max(x))))`` along ``axis``."""
    return _native.op_log_softmax(x, _check_axis("log_softmax", axis))


def _axes(op, axis):
    """``axis`` (an int or a list/tuple of ints) as a list."""
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items or any(isinstance(a, bool) or not isinstance(a, int) for a in items):
        raise TypeError(f"{op}: axis must be an int or a non-empty list/tuple of ints, got {axis!r}")
    return items


def _epsilon(epsilon):
    return float(backend.epsilon() if epsilon is None else epsilon)


def moments(x, axes, keepdims=False, synchronized=False):
    """The mean and the (biased) variance of ``x`` over ``axes``, as a tuple."""
    return _native.op_moments(x, _axes("moments", axes), bool(keepdims))


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics and
    parameters being vectors of length ``x.shape[axis]``."""
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise TypeError(f"batch_normalization: axis must be an integer, got {axis!r}")
    return _native.op_batch_normalization(x, mean, variance, axis, offset, scale, float(epsilon))


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x), epsilon)`` over ``axis`` (the ``order``-norm; one fused op for 2)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = _native.Tensor(x, "float32") if not isinstance(x, _native.Tensor) else x
    axes = list(range(max(len(x.shape), 1))) if axis is None else _axes("normalize", axis)
    if order == 2:
        return _native.op_l2_normalize(x, axes, _epsilon(epsilon))
    from ember.ops import elementwise as E
    from ember.ops import reductions as R
    from ember.ops import shape as S

    if len(x.shape) == 0:
        x = S.reshape(x, (1,))
    norm = E.power(R.sum(E.power(E.abs(x), order), axis=tuple(axes), keepdims=True), 1.0 / order)
    return E.divide(x, E.maximum(norm, _epsilon(epsilon)))


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """Normalizes each sample over ``axis`` and applies ``gamma``/``beta`` over those axes;
    with ``rms_scaling``, ``x / sqrt(var + epsilon) * gamma`` (Keras's formula)."""
    return _native.op_layer_normalization(
        x, gamma, beta, _axes("layer_normalization", axis), _epsilon(epsilon), bool(rms_scaling)
    )


def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    """``x * rsqrt(mean(square(x)) + epsilon) * scale`` over ``axis``."""
    scale = None if isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale == 1 else scale
    return _native.op_rms_normalization(x, scale, _axes("rms_normalization", axis), _epsilon(epsilon))


def _pool(op, native, inputs, pool_size, strides, padding, data_format):
    data_format = standardize_data_format(data_format)
    x = inputs if isinstance(inputs, _native.Tensor) else _native.Tensor(inputs, "float32")
    rank = x.ndim - 2
    if rank < 1:
        raise ValueError(
            f"{op}: inputs must have rank 3 or more (batch, spatial axes, channels). "
            f"Received: inputs.shape={tuple(x.shape)}"
        )
    pool_size = standardize_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else standardize_tuple(strides, rank, "strides")
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"Argument `padding` must be either 'valid' or 'same'. Received: padding={padding}")
    return native(x, list(pool_size), list(strides), padding.lower(), data_format == "channels_first")


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum of each window over the spatial axes; ``strides`` defaults to
    ``pool_size``. "same" padding never selects the padding (TensorFlow's rule)."""
    return _pool("max_pool", _native.op_max_pool, inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each window over the spatial axes; with "same" padding a window is
    divided by its number of valid elements (TensorFlow's rule)."""
    return _pool("average_pool", _native.op_average_pool, inputs, pool_size, strides, padding, data_format)


# ---------------------------------------------------------------- convolutions
# Channels-last kernels; "channels_first" inputs are transposed around them.


def _ints(op, name, value, allow_zero=False):
    values = [value] if isinstance(value, int) else list(value)
    low = 0 if allow_zero else 1
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values):
        raise ValueError(f"{op}: `{name}` must be an integer >= {low} or a tuple of them, got {value!r}")
    return values


def _conv_args(op, padding, data_format, strides, dilation_rate):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{op}: `padding` must be 'valid' or 'same', got {padding!r}")
    return dict(
        strides=_ints(op, "strides", strides),
        padding=padding.lower(),
        dilation_rate=_ints(op, "dilation_rate", dilation_rate),
        channels_first=standardize_data_format(data_format) == "channels_first",
    )


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-d convolution (1-3 spatial axes); ``kernel`` is ``(*kernel_size, in_channels //
    groups, filters)``, the number of groups being ``in_channels // kernel.shape[-2]``."""
    return _native.op_conv(inputs, kernel, **_conv_args("conv", padding, data_format, strides, dilation_rate))


def conv_transpose(inputs, kernel, strides, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """N-d transposed convolution; ``kernel`` is ``(*kernel_size, filters, in_channels)``."""
    args = _conv_args("conv_transpose", padding, data_format, strides, dilation_rate)
    if output_padding is not None:
        output_padding = _ints("conv_transpose", "output_padding", output_padding, allow_zero=True)
    return _native.op_conv_transpose(inputs, kernel, output_padding=output_padding, **args)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Each channel convolved with its own filters; ``kernel`` is ``(*kernel_size,
    in_channels, depth_multiplier)`` and output channel ``c * depth_multiplier + m``."""
    args = _conv_args("depthwise_conv", padding, data_format, strides, dilation_rate)
    return _native.op_depthwise_conv(inputs, kernel, **args)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """``depthwise_conv`` followed by a 1x1 ``conv`` with ``pointwise_kernel``."""
    args = _conv_args("separable_conv", padding, data_format, strides, dilation_rate)
    return _native.op_separable_conv(inputs, depthwise_kernel, pointwise_kernel, **args)
