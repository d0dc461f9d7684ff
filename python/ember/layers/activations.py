"""Activation layers: ``Activation``, ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax``."""

import warnings

import numpy as np

from ember import _native, activations, constraints, initializers, regularizers
from ember.layers.native import BuiltinLayer, all_native


class Activation(BuiltinLayer):
    """Applies an activation function (a name or a callable) to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        name = activations.native_name(self.activation)
        if name is not None:
            self._set_core(_native.activation_layer(self.name, name))
        self.built = True

    def call(self, inputs, training=None):
        if self._core is None:
            return self.activation(inputs)
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class ReLU(BuiltinLayer):
    """``max_value`` caps the output; below ``threshold`` the output is
    ``negative_slope * (x - threshold)``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        for arg, v in (("negative_slope", negative_slope), ("threshold", threshold)):
            if v is None or v < 0:
                raise ValueError(
                    f"{arg} of a ReLU layer cannot be None or a negative value. Received: {arg}={v}"
                )
        if max_value is not None and max_value < 0:
            raise ValueError(
                f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}"
            )
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold
        self._set_core(
            _native.relu_layer(
                self.name,
                None if max_value is None else float(max_value),
                float(negative_slope),
                float(threshold),
            )
        )
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(BuiltinLayer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                f"Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope
        self._set_core(_native.leaky_relu_layer(self.name, float(negative_slope)))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(BuiltinLayer):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self._set_core(_native.elu_layer(self.name, float(alpha)))
        self.built = True

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(BuiltinLayer):
    """``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned ``alpha`` of the
    per-sample input shape (size 1 along ``shared_axes``)."""

    def __init__(
        self,
        alpha_initializer="Zeros",
        alpha_regularizer=None,
        alpha_constraint=None,
        shared_axes=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]
        self.alpha = None

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for i in self.shared_axes or ():
            if not 1 <= i < len(input_shape):
                raise ValueError(
                    f"PReLU layer '{self.name}': shared_axes {self.shared_axes} must name axes "
                    f"1..{len(input_shape) - 1} of inputs of shape {tuple(input_shape)}"
                )
            param_shape[i - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(
                f"PReLU layer '{self.name}': the non-shared input dimensions must be known, got shape "
                f"{tuple(input_shape)}"
            )
        self.alpha = self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        graph = all_native((self.alpha_regularizer,), (self.alpha_constraint,))
        core = _native.prelu_layer(
            self.name,
            self.alpha,
            regularizer=regularizers.native(self.alpha_regularizer) if graph else None,
            constraint=constraints.native(self.alpha_constraint) if graph else None,
        )
        self._set_core(core, graph)
        self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class Softmax(BuiltinLayer):
    """Softmax over ``axis`` (an integer or a list of axes normalised together). An optional
    ``mask`` (1 keep, 0 drop) pushes dropped entries to zero probability."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        axes = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]
        self._set_core(_native.softmax_layer(self.name, axes))
        self.built = True

    def call(self, inputs, mask=None, training=None):
        if mask is not None:
            inputs = inputs + (1.0 - np.asarray(mask, dtype=np.float32)) * np.float32(-1e9)
        return super().call(inputs, training)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
