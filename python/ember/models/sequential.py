"""``Sequential``: a linear stack of layers, sugar over the functional graph."""
from ember.layers.input_layer import Input, InputLayer
from ember.layers.layer import Layer
from ember.layers.symbolic import KerasTensor
from ember.models.functional import FunctionalGraph
from ember.models.model import Model


class Sequential(Model):
    """``Sequential([layers])`` or ``Sequential()`` followed by ``add(layer)``."""

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._stack = []
        self._input_layer = None
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Appends a layer (or an ``Input``) to the stack."""
        if isinstance(layer, KerasTensor) and isinstance(layer._node[0], InputLayer):
            layer = layer._node[0]
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._stack:
                raise ValueError(f"Sequential '{self.name}': an Input can only be the first layer")
            self._input_layer = layer
        elif isinstance(layer, Layer):
            if any(layer is other for other in self._stack):
                raise ValueError(f"Sequential '{self.name}': layer '{layer.name}' is already in the model")
            self._stack.append(layer)
        else:
            raise TypeError(
                f"Sequential '{self.name}': only layers can be added, got {type(layer).__name__}: {layer!r}"
            )
        self._graph = None
        self._native_graph_cache = None
        self._native_trainer = None
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        if not self._stack:
            raise TypeError(f"Sequential '{self.name}': there are no layers to pop")
        layer = self._stack.pop()
        self._graph = None
        self._native_graph_cache = None
        self._native_trainer = None
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        if self._input_layer is not None:
            self.build(self._input_layer.batch_shape)
        elif self._stack and self._stack[0]._input_shape_arg is not None:
            self.build((None,) + tuple(self._stack[0]._input_shape_arg))

    def build(self, input_shape=None):
        if input_shape is None:
            raise ValueError(f"Sequential '{self.name}': build() needs an input shape")
        if self._input_layer is not None and tuple(input_shape[1:]) == tuple(self._input_layer.batch_shape[1:]):
            x = inp = self._input_layer.output_tensor
        else:
            inp = Input(batch_shape=tuple(input_shape), dtype=self._input_layer.dtype if self._input_layer else None)
            x = inp
        for layer in self._stack:
            x = layer(x)
        self._graph = FunctionalGraph(inp, x, f"Sequential '{self.name}'")
        self._native_graph_cache = None
        self._native_trainer = None
        self.built = True

    def _ensure_built(self, xs):
        if not self.built:
            if len(xs) != 1:
                raise ValueError(f"Sequential '{self.name}' takes one input array, got {len(xs)}")
            self.build((None,) + tuple(xs[0].shape[1:]))

    def call(self, inputs, training=None):
        if self._graph is None:
            self.build((None,) + tuple(inputs.shape[1:]))
        return self._graph.call(inputs, training=training)

    @property
    def layers(self):
        return list(self._stack)

    def _tracked_layers(self):
        return list(self._stack)

    def get_config(self):
        from ember.saving.model_config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ember.saving.model_config import sequential_from_config

        return sequential_from_config(cls, config, custom_objects)
