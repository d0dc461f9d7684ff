"""``ember.saving``: the Keras 3 ``.keras`` format, weights files and (de)serialization.

The archive code (zipfile, h5py) loads on first use, to keep ``import ember`` quick."""
import importlib

from ember.saving.object_registration import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

_LAZY = {
    "load_model": "saving_api", "load_weights": "saving_api", "save_model": "saving_api",
    "save_weights": "saving_api", "SafeModeScope": "serialization_lib",
    "deserialize_keras_object": "serialization_lib", "enable_unsafe_deserialization": "serialization_lib",
    "serialize_keras_object": "serialization_lib",
}

__all__ = [
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "register_keras_serializable", *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f"ember.saving.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ember.saving' has no attribute '{name}'")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
