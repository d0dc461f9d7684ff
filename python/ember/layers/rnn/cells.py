"""One-step cells: ``SimpleRNNCell``, ``LSTMCell``, ``GRUCell`` (Keras call signature
``cell(inputs, states) -> (output, new_states)``) and ``StackedRNNCells``.

A built-in cell computes its step with the fused core on a sequence of length one; wrapped
in ``RNN`` it runs the whole sequence in one fused call.
"""

import numpy as np

from ember import _native, ops
from ember.layers.layer import Layer
from ember.layers.rnn.fused import CellOptions


class BuiltinCell(CellOptions, Layer):
    def __init__(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                 recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                 bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                 recurrent_dropout, seed, **kwargs):
        Layer.__init__(self, **kwargs)
        self._init_cell(units, activation, recurrent_activation, use_bias, kernel_initializer,
                        recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                        bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                        recurrent_dropout, seed)
        self._step = None

    def build(self, input_shape):
        if input_shape[-1] is None:
            raise ValueError(f"Cell '{self.name}': the last dimension of the inputs must be known, got {input_shape}")
        self._build_weights(int(input_shape[-1]))
        self._step = self._make_core(self.name, False, True, graph=False).layer()
        self.built = True

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if len(inputs.shape) != 2:
            raise ValueError(
                f"Cell '{self.name}' expects inputs of shape (batch, features), got {tuple(inputs.shape)}"
            )
        x = ops.expand_dims(inputs, 1)
        outs, _ = _native.layer_call(self._step, [x] + states, bool(training), None)
        h, new_states = outs[0], list(outs[1:])
        return h, (new_states if nested or len(new_states) > 1 else new_states[0])

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [ops.convert_to_tensor(np.zeros((batch_size, s), np.float32)) for s in sizes]

    def get_config(self):
        return {**super().get_config(), **self._cell_config()}


class SimpleRNNCell(BuiltinCell):
    cell_kind = "simple_rnn"
    gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        super().__init__(units, activation, "sigmoid", use_bias, kernel_initializer, recurrent_initializer,
                         bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                         kernel_constraint, recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)


class LSTMCell(BuiltinCell):
    cell_kind = "lstm"
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, **kwargs):
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(BuiltinCell):
    cell_kind = "gru"
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True, seed=None,
                 **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                         recurrent_dropout, seed, **kwargs)

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


def state_sizes(cell):
    s = cell.state_size
    return list(s) if isinstance(s, (list, tuple)) else [s]


class StackedRNNCells(Layer):
    """Cells applied one after the other within each step; the states are those of all
    cells, in order."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(
                    f"All cells must have a `call` method and a `state_size` attribute. Received cell: {cell}"
                )
        self.cells = list(cells)

    @property
    def state_size(self):
        return [s for cell in self.cells for s in state_sizes(cell)]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", state_sizes(last)[0])

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            size = getattr(cell, "output_size", state_sizes(cell)[0])
            shape = shape[:-1] + (size,)
        self.built = True

    def call(self, inputs, states, training=False):
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        new_states, at = [], 0
        for cell in self.cells:
            n = len(state_sizes(cell))
            mine = states[at:at + n]
            at += n
            kwargs = {"training": training} if cell._call_accepts("training") else {}
            inputs, new = cell(inputs, mine if n > 1 or isinstance(cell.state_size, (list, tuple)) else mine[0],
                               **kwargs)
            new_states += list(new) if isinstance(new, (list, tuple)) else [new]
        return inputs, new_states

    def get_config(self):
        from ember.saving.serialization_lib import serialize_keras_object

        return {**super().get_config(), "cells": [serialize_keras_object(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config):
        from ember.saving.serialization_lib import deserialize_keras_object as load

        config = dict(config)
        config["cells"] = [load(c) if isinstance(c, dict) else c for c in config["cells"]]
        return cls(**config)
