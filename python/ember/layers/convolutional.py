"""Convolution layers (Keras 3 signatures, defaults, weight names and shapes):
``Conv1D/2D/3D``, ``Conv1D/2D/3DTranspose``, ``DepthwiseConv1D/2D`` and
``SeparableConv1D/2D``, with Keras's ``Convolution*`` aliases.

Each layer creates its weights with ``add_weight`` in ``build`` and hands them to one Rust
core (``_native.conv_layer``) that convolves, adds the bias and applies the activation;
compiled models run that core in the Rust graph driver. ``data_format="channels_first"``
is supported by transposing around the channels-last kernels.
"""

import numbers

from ember import _native, activations, constraints, initializers, regularizers
from ember.backend import standardize_data_format
from ember.layers.native import BuiltinLayer, all_native
from ember.utils.argument_validation import standardize_padding, standardize_tuple


def conv_output_length(length, kernel, stride, padding, dilation):
    """Keras's output length of one axis of a convolution (None stays None)."""
    if length is None:
        return None
    if padding == "valid":
        return (length - dilation * (kernel - 1) - 1) // stride + 1
    return (length - 1) // stride + 1


def conv_transpose_output_length(length, kernel, stride, padding, output_padding, dilation):
    """Keras's output length of one axis of a transposed convolution (None stays None)."""
    if length is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(kernel, stride) - kernel if output_padding is None else output_padding
        return (length - 1) * stride + kernel + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + kernel % 2 + output_padding


class _BaseConv(BuiltinLayer):
    """What every convolution layer shares: arguments, checks, the core, the config.

    Subclasses set ``_kind`` (the core's kind), and define ``_kernel_shapes`` (the weights
    for a number of input channels), ``_out_channels`` and ``_spatial_output``.
    """

    _kind = "conv"

    def __init__(self, rank, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, bias_initializer="zeros", bias_regularizer=None,
                 activity_regularizer=None, bias_constraint=None, allow_causal=False, **kwargs):
        for key in ("lora_rank", "dora_rank"):
            if kwargs.pop(key, None):
                raise NotImplementedError(f"{type(self).__name__}: `{key}` is not supported by ember")
        kwargs.pop("lora_alpha", None)
        kwargs.pop("dora_alpha", None)
        super().__init__(**kwargs)
        self.rank = rank
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=allow_causal)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.bias = None
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @staticmethod
    def _positive(value, name):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0
        ):
            raise ValueError(
                f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                f"Received {name}={value}."
            )
        return value

    # ---------------------------------------------------------------- shapes
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _check_input_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"ndim={self.rank + 2}, found ndim={len(input_shape)}. Full shape received: {input_shape}"
            )
        return input_shape

    def compute_output_shape(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        if self.data_format == "channels_last":
            spatial, channels = input_shape[1:-1], input_shape[-1]
        else:
            spatial, channels = input_shape[2:], input_shape[1]
        out = tuple(self._spatial_output(spatial))
        for d in out:
            if d is not None and d <= 0:
                raise ValueError(
                    f"{type(self).__name__} layer '{self.name}': the kernel (kernel_size={self.kernel_size}, "
                    f"dilation_rate={self.dilation_rate}) is larger than the padded input of shape "
                    f"{input_shape}; the output would have the spatial shape {out}"
                )
        filters = self._out_channels(channels)
        if self.data_format == "channels_last":
            return (input_shape[0],) + out + (filters,)
        return (input_shape[0], filters) + out

    def _spatial_output(self, spatial):
        padding = "same" if self.padding == "causal" else self.padding
        return [
            conv_output_length(n, k, s, padding, d)
            for n, k, s, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        ]

    # ---------------------------------------------------------------- building
    def build(self, input_shape):
        input_shape = self._check_input_shape(input_shape)
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': the channel dimension of the inputs must "
                f"be known, got shape {input_shape}"
            )
        self._check_channels(channels, input_shape)
        self.compute_output_shape(input_shape)
        for attr, shape, init, reg, cons in self._kernel_shapes(channels):
            setattr(self, attr, self.add_weight(
                name=attr, shape=shape, initializer=init, regularizer=reg, constraint=cons,
            ))
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self._out_channels(channels),), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self._make_core()
        self.built = True

    def _check_channels(self, channels, input_shape):
        pass

    def _weight_options(self):
        """(regularizers, constraints) of the weights, kernel first."""
        return (), ()

    def _make_core(self):
        regs, cons = self._weight_options()
        act = activations.native_name(self.activation)
        graph = act is not None and all_native(regs + (self.bias_regularizer, self.activity_regularizer),
                                               cons + (self.bias_constraint,))
        kernels = self._core_kernels()
        args = dict(
            kind=self._kind, strides=list(self.strides), padding=self.padding,
            dilation_rate=list(self.dilation_rate), bias=self.bias,
            channels_first=self.data_format == "channels_first", **self._core_options(),
        )
        if len(kernels) == 2:
            args["pointwise_kernel"] = kernels[1]
        if graph:
            names = ("kernel_regularizer", "pointwise_regularizer")
            for name, r in zip(names, regs):
                args[name] = regularizers.native(r)
            for name, c in zip(("kernel_constraint", "pointwise_constraint"), cons):
                args[name] = constraints.native(c)
            args.update(
                activation=act,
                bias_regularizer=regularizers.native(self.bias_regularizer),
                activity_regularizer=regularizers.native(self.activity_regularizer),
                bias_constraint=constraints.native(self.bias_constraint),
            )
        self._set_core(_native.conv_layer(self.name, kernel=kernels[0], **args), graph)

    def _core_options(self):
        return {}

    def call(self, inputs, training=None):
        out = super().call(inputs, training)
        if self._native is None:
            out = self.activation(out)
            if self.activity_regularizer is not None:
                self.add_loss(self.activity_regularizer(out))
        return out

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class BaseConv(_BaseConv):
    """N-d convolution: kernel ``(*kernel_size, in_channels // groups, filters)``, bias
    ``(filters,)``; "causal" padding for ``rank == 1``."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint,
                         allow_causal=rank == 1, **kwargs)
        self.filters = self._positive(filters, "filters")
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={groups}.")
        self.groups = int(groups)
        if self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}."
            )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def _check_channels(self, channels, input_shape):
        if channels % self.groups != 0:
            raise ValueError(
                f"{type(self).__name__} layer '{self.name}': the number of input channels must be evenly "
                f"divisible by the number of groups. Received groups={self.groups}, but the input has "
                f"{channels} channels (full input shape is {input_shape})."
            )

    def _kernel_shapes(self, channels):
        shape = self.kernel_size + (channels // self.groups, self.filters)
        return [("kernel", shape, self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)]

    def _out_channels(self, channels):
        return self.filters

    def _weight_options(self):
        return (self.kernel_regularizer,), (self.kernel_constraint,)

    def _core_kernels(self):
        return [self.kernel]

    def _core_options(self):
        return {"groups": self.groups}

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "groups": self.groups,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }


class BaseConvTranspose(_BaseConv):
    """N-d transposed convolution: kernel ``(*kernel_size, filters, in_channels)``, bias
    ``(filters,)``, output sizes by Keras's formula (``output_padding`` < ``strides``)."""

    _kind = "transpose"

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.filters = self._positive(filters, "filters")
        self.output_padding = (
            None if output_padding is None
            else standardize_tuple(output_padding, rank, "output_padding", allow_zero=True)
        )
        if self.output_padding is not None:
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(
                        f"`output_padding` must be < `strides`. output_padding={self.output_padding}, "
                        f"strides={self.strides}"
                    )
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.kernel = None

    def _spatial_output(self, spatial):
        pads = self.output_padding or (None,) * self.rank
        return [
            conv_transpose_output_length(n, k, s, self.padding, p, d)
            for n, k, s, p, d in zip(spatial, self.kernel_size, self.strides, pads, self.dilation_rate)
        ]

    def _kernel_shapes(self, channels):
        shape = self.kernel_size + (self.filters, channels)
        return [("kernel", shape, self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)]

    def _out_channels(self, channels):
        return self.filters

    def _weight_options(self):
        return (self.kernel_regularizer,), (self.kernel_constraint,)

    def _core_kernels(self):
        return [self.kernel]

    def _core_options(self):
        return {"output_padding": None if self.output_padding is None else list(self.output_padding)}

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "output_padding": self.output_padding,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
        }


class BaseDepthwiseConv(_BaseConv):
    """Depthwise convolution: kernel ``(*kernel_size, in_channels, depth_multiplier)``, bias
    ``(in_channels * depth_multiplier,)``; output channel ``c * depth_multiplier + m``."""

    _kind = "depthwise"

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = self._positive(depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.kernel = None

    def _kernel_shapes(self, channels):
        shape = self.kernel_size + (channels, self.depth_multiplier)
        return [("kernel", shape, self.depthwise_initializer, self.depthwise_regularizer,
                 self.depthwise_constraint)]

    def _out_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def _weight_options(self):
        return (self.depthwise_regularizer,), (self.depthwise_constraint,)

    def _core_kernels(self):
        return [self.kernel]

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        }


class BaseSeparableConv(_BaseConv):
    """Depthwise then pointwise convolution: ``depthwise_kernel`` ``(*kernel_size,
    in_channels, depth_multiplier)``, ``pointwise_kernel`` ``(*ones, in_channels *
    depth_multiplier, filters)``, bias ``(filters,)``."""

    _kind = "separable"

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = self._positive(depth_multiplier, "depth_multiplier")
        self.filters = self._positive(filters, "filters")
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.depthwise_kernel = self.pointwise_kernel = None

    def _kernel_shapes(self, channels):
        return [
            ("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier),
             self.depthwise_initializer, self.depthwise_regularizer, self.depthwise_constraint),
            ("pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
             self.pointwise_initializer, self.pointwise_regularizer, self.pointwise_constraint),
        ]

    def _out_channels(self, channels):
        return self.filters

    def _weight_options(self):
        return ((self.depthwise_regularizer, self.pointwise_regularizer),
                (self.depthwise_constraint, self.pointwise_constraint))

    def _core_kernels(self):
        return [self.depthwise_kernel, self.pointwise_kernel]

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        }


class Conv1D(BaseConv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding`` may also be "causal"."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
                         activation, use_bias, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution over ``(batch, height, width, channels)``."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
                         activation, use_bias, **kwargs)


class Conv3D(BaseConv):
    """3-D convolution over ``(batch, depth, height, width, channels)``."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
                         activation, use_bias, **kwargs)


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution: output length ``(steps - 1) * strides + kernel_size``
    ("valid") or ``steps * strides`` ("same") unless ``output_padding`` is given."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution (see ``Conv1DTranspose`` for the output size)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution (see ``Conv1DTranspose`` for the output size); as in Keras,
    ``data_format`` comes before ``output_padding`` here."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """1-D depthwise separable convolution."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2-D depthwise separable convolution."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution: ``DepthwiseConv1D(kernel_size, strides=1, padding="valid",
    depth_multiplier=1, ...)``."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution: ``DepthwiseConv2D(kernel_size, strides=(1, 1),
    padding="valid", depth_multiplier=1, ...)``."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, **kwargs)


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
