"""``Masking`` and ``TimeDistributed``: the sequence layers that make or carry masks."""
from ember import _native
from ember import ops as _ops
from ember.layers.layer import Layer
from ember.layers.native import BuiltinLayer
from ember.layers.symbolic import KerasTensor


class Masking(BuiltinLayer):
    """Masks the time steps whose features all equal ``mask_value``: the output is the
    input with those steps zeroed, and carries the mask ``any(inputs != mask_value, -1)``."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self._set_core(_native.masking_layer(self.name, self.mask_value))
        self.built = True

    def _symbolic_mask(self, inputs, previous_mask):
        return KerasTensor(inputs.shape[:-1], dtype="bool")

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class TimeDistributed(BuiltinLayer):
    """Applies ``layer`` to every time step of inputs shaped ``(batch, steps, ...)`` (the
    time axis is folded into the batch axis). Masks pass through."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. "
                f"Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f"`TimeDistributed` Layer '{self.name}' should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {tuple(input_shape)}"
            )
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_shape(input_shape))
        inner = self.layer._native
        if inner is not None and type(self.layer).__module__.startswith("ember."):
            self._set_core(_native.time_distributed_layer(self.name, inner))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if self._core is not None:
            return super().call(inputs, training, mask)
        shape = tuple(inputs.shape)
        self._child_shape(shape)
        x = _ops.reshape(inputs, (shape[0] * shape[1],) + shape[2:])
        kwargs = {"training": training} if self.layer._call_accepts("training") else {}
        y = self.layer(x, **kwargs)
        return _ops.reshape(y, shape[:2] + tuple(y.shape[1:]))

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask

    def compute_output_shape(self, input_shape):
        out = self.layer.compute_output_shape(self._child_shape(input_shape))
        return tuple(input_shape[:2]) + tuple(out[1:])

    def get_config(self):
        from ember.saving.serialization_lib import serialize_keras_object

        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ember.saving.serialization_lib import deserialize_keras_object as load

        config = dict(config)
        layer = config["layer"]  # a dict, or already a layer when the loader rebuilt it
        config["layer"] = load(layer, custom_objects) if isinstance(layer, dict) else layer
        return cls(**config)
