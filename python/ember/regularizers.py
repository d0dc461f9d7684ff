"""``ember.regularizers``: Keras 3 weight penalties, computed by the Rust core.

``L1(l1)`` is ``l1 * sum(|x|)``, ``L2(l2)`` is ``l2 * sum(x^2)``, ``L1L2`` their sum (elastic
net). Built-in regularizers run inside compiled graphs; any other callable taking a tensor
and returning a scalar works through the eager driver.
"""

import inspect
import math

from ember import _native
from ember.initializers import _deserialize, _serialize

__all__ = ["L1", "L1L2", "L2", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2", "serialize"]


def _factor(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(
            f"Invalid value for argument {name}: expected a non-negative float. Received: {name}={value}"
        )
    return float(value)


class Regularizer:
    """Base class: ``regularizer(x)`` returns a scalar penalty."""

    _native = None

    def __call__(self, x):
        if self._native is None:
            return 0.0
        return self._native(x)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _factor(0.0 if l2 is None else l2, "l2")
        self._native = _native.NativeRegularizer(self.l1, self.l2)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        self.l1 = _factor(0.01 if l1 is None else l1, "l1")
        self._native = _native.NativeRegularizer(self.l1, 0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x^2)``."""

    def __init__(self, l2=0.01):
        self.l2 = _factor(0.01 if l2 is None else l2, "l2")
        self._native = _native.NativeRegularizer(0.0, self.l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """``L1L2`` with Keras's string-identifier defaults (0.01 each)."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2

ALL_OBJECTS_DICT = {
    "Regularizer": Regularizer,
    "L1": L1,
    "L2": L2,
    "L1L2": L1L2,
    "l1": L1,
    "l2": L2,
    "l1l2": L1L2,
    "l1_l2": l1_l2,
}


def native(regularizer):
    """The core object of a built-in regularizer (one whose ``__call__`` is not overridden),
    or None for anything else."""
    if isinstance(regularizer, Regularizer) and type(regularizer).__call__ is Regularizer.__call__:
        return regularizer._native
    return None


def serialize(regularizer):
    return _serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    return _deserialize(config, ALL_OBJECTS_DICT, "regularizer", custom_objects)


def get(identifier):
    """A regularizer from a name (``"l2"``), a config dict, a class or a callable; None
    stays None."""
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
