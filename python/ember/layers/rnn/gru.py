"""``GRU`` (Cho et al., 2014) with Keras's weight layout: kernel (input_dim, 3 * units) and
recurrent_kernel (units, 3 * units) in gate order z, r, h; bias (2, 3 * units) with
``reset_after`` (input and recurrent biases, the reset gate applied after the recurrent
product) or (3 * units,) without."""

from ember.layers.rnn.fused import FusedRNN


class GRU(FusedRNN):
    cell_kind = "gru"
    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 seed=None, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, reset_after=True, use_cudnn="auto", **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer, recurrent_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, recurrent_constraint,
                         bias_constraint, dropout, recurrent_dropout, seed, return_sequences, return_state,
                         go_backwards, stateful, unroll, **kwargs)

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}
