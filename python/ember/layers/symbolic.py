"""Symbolic tensors for the functional API: shapes and the layer calls that made them."""


class KerasTensor:
    """A placeholder with a shape (batch dimension None) used to build functional models."""

    def __init__(self, shape, dtype="float32", layer=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._layer = layer
        self._index = index
        self._node = None  # (layer, call index) that produced this tensor

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def any_symbolic(x):
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(any_symbolic(i) for i in x)
    if isinstance(x, dict):
        return any(any_symbolic(i) for i in x.values())
    return False


def map_structure(fn, x):
    if isinstance(x, (list, tuple)):
        return type(x)(map_structure(fn, i) for i in x)
    if isinstance(x, dict):
        return {k: map_structure(fn, v) for k, v in x.items()}
    return fn(x)
