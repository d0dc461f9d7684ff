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


def serialize_layer(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    """A layer from ``{"class_name", "config"}``: a recurrent layer or cell of ember, or a
    class from ``custom_objects``."""
    if not isinstance(config, dict):
        return config
    from ember import layers

    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or getattr(layers, name, None)
    if cls is None:
        raise ValueError(f"Unknown layer class '{name}'; pass it in `custom_objects`")
    return cls.from_config(config["config"])
