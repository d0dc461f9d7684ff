"""``Input`` and ``InputLayer``: the entry points of functional and sequential models."""
from ember.layers.layer import Layer
from ember.layers.symbolic import KerasTensor


class InputLayer(Layer):
    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            shape = tuple(batch_shape[1:])
            batch_size = batch_shape[0]
        if shape is None:
            raise ValueError("InputLayer: pass shape=(...) (the shape of one sample)")
        self.batch_shape = (batch_size,) + tuple(int(d) if d is not None else None for d in shape)
        self.built = True
        self.output_tensor = KerasTensor(self.batch_shape, dtype=self.dtype, layer=self, name=self.name)
        self.output_tensor._node = (self, -1)

    def call(self, inputs, training=None):
        return inputs

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          optional=False):
    """A symbolic input of the given per-sample ``shape`` (Keras 3 ``keras.Input``)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name)
    return layer.output_tensor
