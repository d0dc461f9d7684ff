"""``Bidirectional``: runs a recurrent layer forwards and a copy of it backwards over the
same sequence and merges the two outputs (concat, sum, mul, ave, or None for both)."""

from ember import _native
from ember.layers.native import BuiltinLayer
from ember.layers.rnn.fused import FusedRNN, split_inputs

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(BuiltinLayer):
    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, FusedRNN):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a SimpleRNN, LSTM or GRU layer instance. "
                f"Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, FusedRNN):
            raise ValueError(
                f"`backward_layer` must be a SimpleRNN, LSTM or GRU layer instance. Received: {backward_layer}"
            )
        if merge_mode not in MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = layer.get_config()
        config["name"] = "forward_" + layer.name
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            backward_layer = type(layer).from_config(config)
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. Received: "
                f"forward_layer.go_backwards={layer.go_backwards}, "
                f"backward_layer.go_backwards={backward_layer.go_backwards}"
            )
        for attr in ("return_sequences", "return_state"):
            if getattr(layer, attr) != getattr(backward_layer, attr):
                raise ValueError(
                    f"Forward layer and backward layer should have the same `{attr}`; received "
                    f"{getattr(layer, attr)} and {getattr(backward_layer, attr)}"
                )
        self.backward_layer = backward_layer
        for rnn in (self.forward_layer, self.backward_layer):
            rnn.zero_output_for_mask = rnn.return_sequences  # as Keras forces it
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        self._initial_weights = weights

    def __call__(self, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        if initial_state is not None:
            inputs = args[0] if args else kwargs.pop("inputs")
            args = ([inputs] + list(initial_state),) + tuple(args[1:])
        return super().__call__(*args, **kwargs)

    def build(self, input_shape):
        shape = input_shape[0] if input_shape and not isinstance(input_shape[0], (int, type(None))) else input_shape
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(tuple(shape))
        core = _native.bidirectional_layer(
            self.name, self.forward_layer._rec, self.backward_layer._rec, self.merge_mode
        )
        graph = self.forward_layer._native is not None and self.backward_layer._native is not None
        self._set_core(core, graph)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            inputs = [inputs] + list(initial_state)
        x, states = split_inputs(inputs)
        if mask is not None and states and not isinstance(mask, (list, tuple)):
            mask = [mask] + [None] * len(states)
        return super().call(inputs, training=training, mask=mask)

    def compute_output_shape(self, input_shape):
        out = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            out, states = out[0], list(out[1:])
        if self.merge_mode == "concat":
            out = tuple(out[:-1]) + (out[-1] * 2,)
            outs = [out]
        elif self.merge_mode is None:
            outs = [out, out]
        else:
            outs = [out]
        if self.return_state:
            return outs + states + states
        return outs[0] if len(outs) == 1 else outs

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            n = 2 * (2 if self.forward_layer.cell_kind == "lstm" else 1)
            outs += [None] * n
        return outs[0] if len(outs) == 1 else outs

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        from ember.saving.serialization_lib import serialize_keras_object

        config = {**super().get_config(), "merge_mode": self.merge_mode,
                  "layer": serialize_keras_object(self.forward_layer)}
        config["layer"]["config"]["name"] = self.forward_layer.name[len("forward_"):]
        config["backward_layer"] = serialize_keras_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config):
        from ember.saving.serialization_lib import deserialize_keras_object as load

        config = dict(config)
        for key in ("layer", "backward_layer"):  # dicts, or layers when the loader rebuilt them
            if isinstance(config.get(key), dict):
                config[key] = load(config[key])
        return cls(**config)
