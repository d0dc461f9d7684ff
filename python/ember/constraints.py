"""``ember.constraints``: Keras 3 weight constraints, computed by the Rust core.

``constraint(w)`` returns the projected weights; optimizers assign it to the variable after
each update. Norms are taken over ``axis`` (0 by default: per output unit of a Dense
kernel) with Keras's epsilon 1e-7.
"""

import inspect

from ember import _native
from ember.initializers import _deserialize, _serialize

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "deserialize",
    "get",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "serialize",
    "unit_norm",
]


def _axes(axis):
    return [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]


class Constraint:
    """Base class: ``constraint(w)`` returns ``w`` projected onto the constraint."""

    _native = None

    def __call__(self, w):
        if self._native is None:
            return w
        return self._native(w)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales weight vectors whose norm exceeds ``max_value``:
    ``w * clip(norm, 0, max_value) / (epsilon + norm)``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis
        self._native = _native.NativeConstraint.max_norm(float(max_value), _axes(axis))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """``max(w, 0)``."""

    def __init__(self):
        self._native = _native.NativeConstraint.non_neg()


class UnitNorm(Constraint):
    """``w / (epsilon + norm)``."""

    def __init__(self, axis=0):
        self.axis = axis
        self._native = _native.NativeConstraint.unit_norm(_axes(axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves weight-vector norms into ``[min_value, max_value]`` at ``rate``:
    ``w * (rate * clip(norm, min, max) + (1 - rate) * norm) / (epsilon + norm)``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis
        self._native = _native.NativeConstraint.min_max_norm(
            float(min_value), float(max_value), float(rate), _axes(axis)
        )

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = [Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm]
ALL_OBJECTS_DICT = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update(
    {
        "constraint": Constraint,
        "max_norm": MaxNorm,
        "min_max_norm": MinMaxNorm,
        "non_neg": NonNeg,
        "unit_norm": UnitNorm,
    }
)


def native(constraint):
    """The core object of a built-in constraint (one whose ``__call__`` is not
    overridden), or None for anything else."""
    if isinstance(constraint, Constraint) and type(constraint).__call__ is Constraint.__call__:
        return constraint._native
    return None


def serialize(constraint):
    return _serialize(constraint, "keras.constraints")


def deserialize(config, custom_objects=None):
    return _deserialize(config, ALL_OBJECTS_DICT, "constraint", custom_objects)


def get(identifier):
    """A constraint from a name (``"max_norm"``), a config dict, a class or a callable;
    None stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier}")
