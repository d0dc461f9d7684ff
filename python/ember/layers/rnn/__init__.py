"""Recurrent layers: SimpleRNN, LSTM, GRU (fused), their cells, ``RNN(cell)``,
``StackedRNNCells`` and ``Bidirectional``."""

from ember.layers.rnn.bidirectional import Bidirectional
from ember.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells
from ember.layers.rnn.gru import GRU
from ember.layers.rnn.lstm import LSTM
from ember.layers.rnn.rnn import RNN
from ember.layers.rnn.simple_rnn import SimpleRNN

__all__ = [
    "Bidirectional", "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "SimpleRNN", "SimpleRNNCell",
    "StackedRNNCells",
]

