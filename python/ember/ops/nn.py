"""Activations and softmax (``keras.ops`` names, arguments and defaults from
keras/src/ops/nn.py), computed in Rust with fused backward passes."""
from ember import _native

__all__ = [
    "relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign", "soft_shrink",
    "sparse_plus", "silu", "swish", "squareplus", "log_sigmoid", "leaky_relu", "hard_sigmoid",
    "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "tanh_shrink", "hard_tanh",
    "hard_shrink", "threshold", "mish", "softmax", "log_softmax",
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


# ---------------------------------------------------------------- convolutions
# Channels-last kernels; "channels_first" inputs are transposed around them.


def _ints(op, name, value, allow_zero=False):
    values = [value] if isinstance(value, int) else list(value)
    low = 0 if allow_zero else 1
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < low for v in values):
        raise ValueError(f"{op}: `{name}` must be an integer >= {low} or a tuple of them, got {value!r}")
    return values


def _conv_args(op, padding, data_format, strides, dilation_rate):
    from ember.layers.convolutional import standardize_data_format

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
