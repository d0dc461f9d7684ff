"""Core layers: ``Dense``, ``Identity`` and ``Lambda`` (Keras 3 signatures)."""

import inspect

import numpy as np

from ember import _native, activations, constraints, initializers, regularizers
from ember.layers.layer import Layer
from ember.layers.native import BuiltinLayer, all_native


class Dense(BuiltinLayer):
    """``output = activation(inputs @ kernel + bias)`` over the last axis of the inputs.

    Weights: ``kernel`` of shape ``(input_dim, units)`` and, with ``use_bias``, ``bias`` of
    shape ``(units,)``.
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
            )
        if lora_rank:
            raise NotImplementedError("Dense: LoRA (lora_rank) is not supported by ember")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = self.bias = None

    def build(self, input_shape):
        input_dim = input_shape[-1] if len(input_shape) else None
        if input_dim is None:
            raise ValueError(
                f"Dense layer '{self.name}': the last dimension of the inputs must be known, "
                f"got shape {input_shape}"
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        act = activations.native_name(self.activation)
        graph = act is not None and all_native(
            (self.kernel_regularizer, self.bias_regularizer, self.activity_regularizer),
            (self.kernel_constraint, self.bias_constraint),
        )
        if graph:
            core = _native.dense_layer(
                self.name,
                self.kernel,
                self.bias,
                act,
                kernel_regularizer=regularizers.native(self.kernel_regularizer),
                bias_regularizer=regularizers.native(self.bias_regularizer),
                activity_regularizer=regularizers.native(self.activity_regularizer),
                kernel_constraint=constraints.native(self.kernel_constraint),
                bias_constraint=constraints.native(self.bias_constraint),
            )
        else:
            core = _native.dense_layer(self.name, self.kernel, self.bias, "linear")
        self._set_core(core, graph)
        self.built = True

    def call(self, inputs, training=None):
        out = super().call(inputs, training)
        if self._native is None:
            out = self.activation(out)
            if self.activity_regularizer is not None:
                self.add_loss(self.activity_regularizer(out))
        return out

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Identity(BuiltinLayer):
    """Returns its inputs unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._set_core(_native.identity_layer(self.name))
        self.built = True


class Lambda(Layer):
    """Wraps a function of tensors as a layer (eager driver only).

    ``output_shape`` (without the batch axis, or a function of the full input shape) is
    needed only where the shape cannot be found by running the function.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {type(function).__name__}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self._output_shape = output_shape
        params = inspect.signature(function).parameters
        self._fn_expects_training = "training" in params
        self._fn_expects_mask = "mask" in params
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask:
            kwargs["mask"] = mask
        if self._fn_expects_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        single = isinstance(input_shape, tuple) and all(d is None or isinstance(d, int) for d in input_shape)
        batch = input_shape[0] if single else input_shape[0][0]
        return (batch,) + tuple(self._output_shape)

    def get_config(self):
        config = {**super().get_config(), "function": self.function, "arguments": self.arguments}
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self.mask is not None:
            config["mask"] = self.mask
        return config
