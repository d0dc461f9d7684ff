"""The base of the fused recurrent layers (SimpleRNN, LSTM, GRU): Keras signatures and
weights, with the whole sequence computed by one core (``_native.recurrent_layer``).

Initial states are passed as extra inputs of the core, so that a functional model whose
decoder starts from an encoder's states (``initial_state=[h, c]``) still compiles into
one graph.
"""

import numpy as np

from ember import _native, activations, constraints, initializers, regularizers
from ember.layers.native import BuiltinLayer, all_native, check_rate
from ember.layers.symbolic import any_symbolic

# the activations the fused kernels compute
FUSED_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear")


def check_units(units):
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(
            f"Received an invalid value for argument `units`, expected a positive integer, got {units}."
        )
    return int(units)


def fused_activation(layer, fn, what):
    name = activations.native_name(fn)
    if name not in FUSED_ACTIVATIONS:
        raise ValueError(
            f"Layer '{layer}': `{what}`={activations.serialize(fn)!r} is not supported by the fused recurrent "
            f"kernels; use one of {FUSED_ACTIVATIONS}"
        )
    return name


class CellOptions:
    """The weights and options a recurrent cell (and its fused layer) share."""

    cell_kind = None
    gates = 1

    def _init_cell(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                   recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                   bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                   recurrent_dropout, seed):
        self.units = check_units(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, check_rate(type(self).__name__, dropout, "dropout")))
        self.recurrent_dropout = min(
            1.0, max(0.0, check_rate(type(self).__name__, recurrent_dropout, "recurrent_dropout"))
        )
        self.seed = seed
        self.kernel = self.recurrent_kernel = self.bias = None
        fused_activation(self.name, self.activation, "activation")
        fused_activation(self.name, self.recurrent_activation, "recurrent_activation")

    @property
    def state_size(self):
        return [self.units, self.units] if self.cell_kind == "lstm" else self.units

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        g = self.gates * self.units
        return (2, g) if self.cell_kind == "gru" and getattr(self, "reset_after", True) else (g,)

    def _build_weights(self, input_dim):
        g = self.gates * self.units
        self.kernel = self.add_weight(
            name="kernel", shape=(input_dim, g), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, g), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=self._bias_shape(), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
            if getattr(self, "unit_forget_bias", False):
                u = self.units
                init = self.bias_initializer
                value = np.concatenate([
                    np.asarray(init((u,), dtype="float32")), np.ones(u, np.float32),
                    np.asarray(init((2 * u,), dtype="float32")),
                ])
                self.bias.assign(value.astype(np.float32))

    def _native_ok(self, extra_regularizers=()):
        return all_native(
            (self.kernel_regularizer, self.recurrent_regularizer, self.bias_regularizer) + tuple(extra_regularizers),
            (self.kernel_constraint, self.recurrent_constraint, self.bias_constraint),
        )

    def _make_core(self, name, return_sequences, return_state, go_backwards=False, stateful=False,
                   zero_output_for_mask=False, activity_regularizer=None, graph=True):
        def nat(r):
            return regularizers.native(r) if graph else None

        def con(c):
            return constraints.native(c) if graph else None

        return _native.recurrent_layer(
            name, self.cell_kind, self.kernel, self.recurrent_kernel, self.bias,
            activation=activations.native_name(self.activation),
            recurrent_activation=activations.native_name(self.recurrent_activation),
            reset_after=bool(getattr(self, "reset_after", True)),
            go_backwards=go_backwards, return_sequences=return_sequences, return_state=return_state,
            stateful=stateful, zero_output_for_mask=zero_output_for_mask,
            dropout=float(self.dropout), recurrent_dropout=float(self.recurrent_dropout),
            seed=self.seed,
            kernel_regularizer=nat(self.kernel_regularizer),
            recurrent_regularizer=nat(self.recurrent_regularizer),
            bias_regularizer=nat(self.bias_regularizer),
            activity_regularizer=nat(activity_regularizer),
            kernel_constraint=con(self.kernel_constraint),
            recurrent_constraint=con(self.recurrent_constraint),
            bias_constraint=con(self.bias_constraint),
        )

    def _cell_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        if self.cell_kind != "simple_rnn":
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        return config


def split_inputs(inputs):
    """(sequence, initial states) from a call's inputs."""
    if isinstance(inputs, (list, tuple)):
        return inputs[0], list(inputs[1:])
    return inputs, []


class FusedRNN(CellOptions, BuiltinLayer):
    """A recurrent layer whose whole sequence runs in one fused core."""

    def __init__(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                 recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                 bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
                 bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
                 go_backwards, stateful, unroll, zero_output_for_mask=False, **kwargs):
        super().__init__(**kwargs)
        self._init_cell(units, activation, recurrent_activation, use_bias, kernel_initializer,
                        recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                        bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                        recurrent_dropout, seed)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted and ignored: the fused loop is already fast
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._rec = None

    def __call__(self, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        if initial_state is not None:
            inputs = args[0] if args else kwargs.pop("inputs")
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            args = ([inputs] + states,) + tuple(args[1:])
            mask = kwargs.get("mask")
            if mask is not None and not any_symbolic(mask) and not isinstance(mask, (list, tuple)):
                kwargs["mask"] = [mask] + [None] * len(states)
        return super().__call__(*args, **kwargs)

    def _saved_variables(self):
        return []  # Keras keeps them in the layer's cell

    def _saveable_children(self):
        """Files hold the weights where Keras keeps them: ``<layer>/cell/vars/{0,1,2}``."""
        from ember.saving.saving_lib import SavedWeights

        yield "cell", SavedWeights(f"{self.name}/cell", [self.kernel, self.recurrent_kernel, self.bias])

    def build(self, input_shape):
        shape = input_shape[0] if input_shape and not isinstance(input_shape[0], (int, type(None))) else input_shape
        if len(shape) != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected ndim=3 "
                f"(batch, timesteps, features), found ndim={len(shape)}. Full shape received: {tuple(shape)}"
            )
        if shape[-1] is None:
            raise ValueError(f"Layer '{self.name}': the last dimension of the inputs must be known, got {shape}")
        self._build_weights(int(shape[-1]))
        graph = self._native_ok((self.activity_regularizer,))
        self._rec = self._make_core(
            self.name, self.return_sequences, self.return_state, self.go_backwards, self.stateful,
            self.zero_output_for_mask, self.activity_regularizer, graph,
        )
        self._set_core(self._rec.layer(), graph)
        self.built = True

    def call(self, inputs, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            inputs = [inputs] + states
            if mask is not None and not isinstance(mask, (list, tuple)):
                mask = [mask] + [None] * len(states)
        out = super().call(inputs, training=training, mask=mask)
        if self._native is None and self.activity_regularizer is not None:
            first = out[0] if isinstance(out, list) else out
            self.add_loss(self.activity_regularizer(first))
        return out

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if input_shape and not isinstance(input_shape[0], (int, type(None))) else input_shape
        batch = shape[0]
        out = (batch, shape[1], self.units) if self.return_sequences else (batch, self.units)
        if not self.return_state:
            return out
        n = 2 if self.cell_kind == "lstm" else 1
        return [out] + [(batch, self.units)] * n

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            n = 2 if self.cell_kind == "lstm" else 1
            return [out] + [None] * n
        return out

    def reset_states(self):
        """Forgets the states a stateful layer carries from batch to batch."""
        if self._rec is not None:
            self._rec.reset_states()

    reset_state = reset_states

    @property
    def states(self):
        return None if self._rec is None else self._rec.states()

    def get_config(self):
        return {
            **super().get_config(),
            **self._cell_config(),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }
