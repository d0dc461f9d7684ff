"""Symbolic tensors for the functional API: shapes and the layer calls that made them,
and the structure helpers (nested lists, tuples and dicts) the graph code shares."""


class KerasTensor:
    """A placeholder with a shape (batch dimension None) used to build functional models.

    ``_node`` is ``(layer, call)``: the layer whose call number ``call`` produced it
    (``call`` is -1 for an ``Input``), and ``_index`` its position among that call's
    flattened outputs.
    """

    def __init__(self, shape, dtype="float32", layer=None, index=0, name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._layer = layer
        self._index = index
        self._node = None
        self._keras_mask = None  # a KerasTensor standing for the mask, when one flows here

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


def is_shape(s):
    """True for one shape: a tuple or list of ints and Nones."""
    return isinstance(s, (tuple, list)) and all(d is None or isinstance(d, int) for d in s)


def flatten(x, leaf=None):
    """The leaves of nested lists, tuples and dicts (dicts in sorted key order, as Keras's
    ``tree.flatten``). ``leaf(x)`` may mark containers that are leaves (shapes)."""
    if leaf is not None and leaf(x):
        return [x]
    if isinstance(x, dict):
        return [v for k in sorted(x) for v in flatten(x[k], leaf)]
    if isinstance(x, (list, tuple)):
        return [v for i in x for v in flatten(i, leaf)]
    return [x]


def pack_like(structure, flat, leaf=None):
    """Rebuilds ``structure`` from a flat list, in ``flatten`` order."""
    it = iter(flat)

    def build(s):
        if leaf is not None and leaf(s):
            return next(it)
        if isinstance(s, dict):
            built = {k: build(s[k]) for k in sorted(s)}
            return {k: built[k] for k in s}
        if isinstance(s, (list, tuple)):
            return type(s)(build(i) for i in s)
        return next(it)

    return build(structure)
