"""Optimizers (``keras.optimizers``): Keras 3's algorithms with fused in-place updates in
the core, and learning-rate schedules in ``ember.optimizers.schedules``."""
from ember.optimizers import schedules
from ember.optimizers.algorithms import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lion,
    Nadam,
    RMSprop,
)
from ember.optimizers.optimizer import Optimizer

__all__ = [
    "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lion", "Nadam", "Optimizer",
    "RMSprop", "deserialize", "get", "schedules", "serialize",
]

ALL_OBJECTS = (Adam, SGD, RMSprop, Adadelta, AdamW, Adagrad, Adamax, Nadam, Ftrl, Lion)
ALL_OBJECTS_DICT = {cls.__name__.lower(): cls for cls in ALL_OBJECTS}


def serialize(optimizer):
    """The optimizer's configuration as a JSON-compatible dict."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def _unknown(identifier):
    known = ", ".join(sorted(f'"{k}"' for k in ALL_OBJECTS_DICT))
    return ValueError(f"Could not interpret optimizer identifier: {identifier!r}. Known optimizers: {known}")


def deserialize(config, custom_objects=None):
    """An optimizer from its serialized form ``{"class_name": ..., "config": {...}}``
    (built-in class names are case-insensitive)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret optimizer config: {config!r}")
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or ALL_OBJECTS_DICT.get(str(name).lower())
    if cls is None:
        raise _unknown(name)
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


def get(identifier):
    """An optimizer from a name ("adam", "sgd", "rmsprop", ...), a serialized config or an
    instance (returned unchanged)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = ALL_OBJECTS_DICT.get(identifier.lower())
        if cls is None:
            raise _unknown(identifier)
        return cls()
    raise _unknown(identifier)
