"""``LSTM`` (Hochreiter & Schmidhuber, 1997) with Keras's weight layout: kernel
(input_dim, 4 * units) and recurrent_kernel (units, 4 * units) in gate order i, f, c, o,
bias (4 * units,)."""

from ember.layers.rnn.fused import FusedRNN


class LSTM(FusedRNN):
    cell_kind = "lstm"
    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, use_cudnn="auto", **kwargs):
        self.unit_forget_bias = bool(unit_forget_bias)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
                         bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
                         go_backwards, stateful, unroll, **kwargs)

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}
