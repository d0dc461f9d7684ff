"""Merge layers (Keras 3): ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``,
``Minimum``, ``Concatenate``, ``Dot`` and their functional forms ``add``, ``subtract``, ...

Each takes a list of tensors. The core layers compute (and check shapes on every call);
the symbolic shape rules here are Keras's, so a bad combination fails when the model is
built, with the layer's name and the shapes in the message.
"""

from ember import _native
from ember.layers.native import BuiltinLayer


def _input_shapes(layer, input_shape):
    """The list of input shapes, or Keras's error for a call on something else."""
    def is_shape(s):
        return isinstance(s, (list, tuple)) and all(d is None or isinstance(d, int) for d in s)

    if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(is_shape(s) for s in input_shape):
        raise ValueError(
            f"A merge layer should be called on a list of inputs. Layer '{layer.name}' "
            f"({type(layer).__name__}) received: input_shape={input_shape}"
        )
    return [tuple(s) for s in input_shape]


def _batch_size(layer, shapes):
    sizes = {s[0] for s in shapes if s} - {None}
    if len(sizes) > 1:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}): cannot merge tensors with different batch sizes. "
            f"Received tensors with shapes {shapes}"
        )
    return sizes.pop() if sizes else None


class Merge(BuiltinLayer):
    """The elementwise merges: the inputs combined left to right, with broadcasting over
    the non-batch axes (lower-rank inputs get size-1 axes after the batch axis)."""

    _op = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._set_core(_native.merge_layer(self.name, self._op))
        self.built = True

    def call(self, inputs, training=None):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. Layer '{self.name}' "
                f"({type(self).__name__}) received: inputs={inputs} (not a list of tensors)"
            )
        return super().call(list(inputs), training)

    def _check_count(self, shapes):
        pass

    def _symbolic_mask(self, inputs, previous_mask):
        masks = [m for m in (previous_mask or []) if m is not None]
        return masks[0] if masks else None

    def compute_output_shape(self, input_shape):
        shapes = _input_shapes(self, input_shape)
        self._check_count(shapes)
        batch = _batch_size(self, shapes)
        out = shapes[0][1:]
        for s in shapes[1:]:
            out = self._elementwise_shape(out, s[1:], shapes)
        return (batch,) + tuple(out)

    def _elementwise_shape(self, a, b, shapes):
        long, short = (a, b) if len(a) >= len(b) else (b, a)
        lead = len(long) - len(short)
        out = list(long[:lead])
        for i, j in zip(long[lead:], short):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1 or i == j:
                out.append(j if i == 1 else i)
            else:
                raise ValueError(
                    f"Layer '{self.name}' ({type(self).__name__}): inputs have incompatible shapes. "
                    f"Received shapes {tuple(a)} and {tuple(b)} (without the batch axis); full input shapes: {shapes}"
                )
        return tuple(out)


class Add(Merge):
    """The elementwise sum of the inputs."""

    _op = "add"


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs)."""

    _op = "subtract"

    def _check_count(self, shapes):
        if len(shapes) != 2:
            raise ValueError(
                f"Layer '{self.name}' (Subtract) should be called on exactly 2 inputs. Received: input_shape={shapes}"
            )


class Multiply(Merge):
    """The elementwise product of the inputs."""

    _op = "multiply"


class Average(Merge):
    """The elementwise mean of the inputs."""

    _op = "average"


class Maximum(Merge):
    """The elementwise maximum of the inputs."""

    _op = "maximum"


class Minimum(Merge):
    """The elementwise minimum of the inputs."""

    _op = "minimum"


class Concatenate(Merge):
    """Joins the inputs along ``axis``; all other dimensions must match."""

    def __init__(self, axis=-1, **kwargs):
        BuiltinLayer.__init__(self, **kwargs)
        self.axis = int(axis)
        self.supports_masking = True
        self._set_core(_native.concatenate_layer(self.name, self.axis))
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = _input_shapes(self, input_shape)
        rank = len(shapes[0])

        def bad():
            return ValueError(
                f"Layer '{self.name}' (Concatenate) requires inputs with matching shapes except for the "
                f"concatenation axis (axis={self.axis}). Received: input_shape={shapes}"
            )

        if any(len(s) != rank for s in shapes):
            raise bad()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Layer '{self.name}' (Concatenate): axis={self.axis} is out of range for inputs of rank {rank}. "
                f"Received: input_shape={shapes}"
            )
        axis = self.axis % rank
        out = list(shapes[0])
        for d in range(rank):
            if d == axis:
                sizes = [s[d] for s in shapes]
                out[d] = None if None in sizes else sum(sizes)
                continue
            known = {s[d] for s in shapes} - {None}
            if len(known) > 1:
                raise bad()
            out[d] = known.pop() if known else None
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """The per-sample dot product of two inputs along ``axes`` (an int for both, or one
    axis per input); with ``normalize=True`` the cosine proximity."""

    def __init__(self, axes, normalize=False, **kwargs):
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    f"Invalid format for argument `axes`: it should contain two elements. Received: axes={axes}"
                )
            if not all(isinstance(a, int) for a in axes):
                raise ValueError(
                    f"Invalid format for argument `axes`: list elements should be integers. Received: axes={axes}"
                )
        BuiltinLayer.__init__(self, **kwargs)
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)
        self.supports_masking = True
        pair = (axes, axes) if isinstance(axes, int) else tuple(axes)
        self._set_core(_native.dot_layer(self.name, pair, self.normalize))
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return None

    def _resolved_axes(self, shapes):
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        out = []
        for a, s in zip(pair, shapes):
            if not -len(s) <= a < len(s):
                raise ValueError(
                    f"Layer '{self.name}' (Dot): axes={self.axes} are out of range for inputs with shapes {shapes}"
                )
            out.append(a % len(s))
        return out

    def compute_output_shape(self, input_shape):
        shapes = _input_shapes(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(
                f"Layer '{self.name}' (Dot) should be called on a list of 2 inputs. Received: input_shape={shapes}"
            )
        if any(len(s) < 2 for s in shapes):
            raise ValueError(
                f"Layer '{self.name}' (Dot): cannot do batch_dot on inputs with rank < 2. "
                f"Received inputs with shapes {shapes[0]} and {shapes[1]}"
            )
        batch = _batch_size(self, shapes)
        a0, a1 = self._resolved_axes(shapes)
        if 0 in (a0, a1):
            raise ValueError(
                f"Layer '{self.name}' (Dot): cannot perform batch_dot over axis 0 (the batch axis). "
                f"Received axes={self.axes} for inputs with shapes {shapes}"
            )
        d0, d1 = shapes[0][a0], shapes[1][a1]
        if d0 is not None and d1 is not None and d0 != d1:
            raise ValueError(
                f"Layer '{self.name}' (Dot): incompatible input shapes: axis values {d0} (at axis {a0}) != "
                f"{d1} (at axis {a1}). Full input shapes: {shapes[0]}, {shapes[1]}"
            )
        out = [d for i, d in enumerate(shapes[0][1:], 1) if i != a0]
        out += [d for i, d in enumerate(shapes[1][1:], 1) if i != a1]
        return (batch,) + tuple(out or [1])

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    """Functional interface to ``Add``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional interface to ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional interface to ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional interface to ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional interface to ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional interface to ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional interface to ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional interface to ``Dot``."""
    return Dot(axes=axes, **kwargs)(inputs)
