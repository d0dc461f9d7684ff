"""``RNN(cell)``: the generic recurrent layer. Over a built-in cell (SimpleRNNCell,
LSTMCell, GRUCell) it runs the fused core with the cell's weights; over any other cell (a
layer with ``state_size`` and ``call(inputs, states) -> (output, new_states)``, or a
list of cells, stacked) it loops over the time steps in Python, each step a call of the
cell on the eager driver, so it trains in ``fit`` like any custom layer."""

import numpy as np

from ember import ops
from ember.layers.native import BuiltinLayer
from ember.layers.rnn.cells import BuiltinCell, StackedRNNCells, state_sizes
from ember.layers.rnn.fused import split_inputs


class RNN(BuiltinLayer):
    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
            raise ValueError(
                "Argument `cell` should have a `call` method and a `state_size` attribute. "
                f"Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.supports_masking = True
        self._rec = None
        self._carried = None

    @property
    def fused(self):
        return isinstance(self.cell, BuiltinCell)

    def __call__(self, *args, **kwargs):
        initial_state = kwargs.pop("initial_state", None)
        if initial_state is not None:
            inputs = args[0] if args else kwargs.pop("inputs")
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            args = ([inputs] + states,) + tuple(args[1:])
        return super().__call__(*args, **kwargs)

    def build(self, input_shape):
        shape = input_shape[0] if input_shape and not isinstance(input_shape[0], (int, type(None))) else input_shape
        if len(shape) != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected ndim=3 "
                f"(batch, timesteps, features), found ndim={len(shape)}. Full shape received: {tuple(shape)}"
            )
        step_shape = (shape[0], shape[2])
        if not self.cell.built:
            self.cell.build(step_shape)
            self.cell.built = True
        if self.fused:
            graph = self.cell._native_ok()
            self._rec = self.cell._make_core(
                self.name, self.return_sequences, self.return_state, self.go_backwards, self.stateful,
                self.zero_output_for_mask, graph=graph,
            )
            self._set_core(self._rec.layer(), graph)
        self.built = True

    def call(self, inputs, initial_state=None, mask=None, training=None):
        if initial_state is not None:
            inputs = [inputs] + (list(initial_state) if isinstance(initial_state, (list, tuple))
                                 else [initial_state])
        x, states = split_inputs(inputs)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.fused:
            masks = None if mask is None else [mask] + [None] * len(states)
            return super().call([x] + states if states else x, training=training, mask=masks)
        return self._loop(x, states, mask, training)

    def _loop(self, x, states, mask, training):
        batch, steps = x.shape[0], x.shape[1]
        if len(x.shape) != 3:
            raise ValueError(f"Layer '{self.name}' expects inputs of rank 3, got shape {tuple(x.shape)}")
        sizes = state_sizes(self.cell)
        if not states:
            if self.stateful and self._carried is not None and self._carried[0].shape[0] == batch:
                states = list(self._carried)
            else:
                states = [ops.convert_to_tensor(np.zeros((batch, s), np.float32)) for s in sizes]
        if len(states) != len(sizes) or any(tuple(s.shape) != (batch, n) for s, n in zip(states, sizes)):
            raise ValueError(
                f"Layer '{self.name}' expects initial states of shapes {[(batch, n) for n in sizes]}, "
                f"got {[tuple(s.shape) for s in states]}"
            )
        if mask is not None:
            mask = ops.cast(ops.convert_to_tensor(mask), "float32")
            if tuple(mask.shape) != (batch, steps):
                raise ValueError(
                    f"Layer '{self.name}': the mask of shape {tuple(mask.shape)} does not match the inputs of "
                    f"shape {tuple(x.shape)}"
                )
        nested = isinstance(self.cell.state_size, (list, tuple))
        kwargs = {"training": bool(training)} if self.cell._call_accepts("training") else {}
        outputs, prev = [], None
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        for t in order:
            out, new = self.cell(x[:, t], states if nested else states[0], **kwargs)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if mask is not None:
                m = mask[:, t:t + 1]
                new = [m * n + (1.0 - m) * s for n, s in zip(new, states)]
                keep = prev if prev is not None and not self.zero_output_for_mask else out * 0.0
                out = m * out + (1.0 - m) * keep
            states, prev = new, out
            outputs.append(out)
        if self.stateful:
            self._carried = [ops.convert_to_tensor(np.asarray(s)) for s in states]
        y = ops.stack(outputs, axis=1) if self.return_sequences else outputs[-1]
        return [y] + states if self.return_state else y

    def compute_output_shape(self, input_shape):
        shape = input_shape[0] if input_shape and not isinstance(input_shape[0], (int, type(None))) else input_shape
        size = getattr(self.cell, "output_size", state_sizes(self.cell)[0])
        out = (shape[0], shape[1], size) if self.return_sequences else (shape[0], size)
        if not self.return_state:
            return out
        return [out] + [(shape[0], s) for s in state_sizes(self.cell)]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(state_sizes(self.cell))
        return out

    def reset_states(self):
        self._carried = None
        if self._rec is not None:
            self._rec.reset_states()

    reset_state = reset_states

    def get_config(self):
        from ember.saving.serialization_lib import serialize_keras_object

        return {
            **super().get_config(),
            "cell": serialize_keras_object(self.cell),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ember.saving.serialization_lib import deserialize_keras_object as load

        config = dict(config)
        cell = config["cell"]  # a dict, or already a cell when the loader rebuilt it
        config["cell"] = load(cell, custom_objects) if isinstance(cell, dict) else cell
        return cls(**config)
