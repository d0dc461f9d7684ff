"""``ember.layers``: Keras 3 layers."""
from ember.layers.input_layer import Input, InputLayer  # noqa: F401
from ember.layers.layer import Layer  # noqa: F401
from ember.layers.symbolic import KerasTensor  # noqa: F401
