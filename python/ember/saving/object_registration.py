"""Custom-object registration (``keras.saving.register_keras_serializable`` and friends).

Registered classes and functions are found by name when a saved config is loaded; the
scopes add objects for the duration of a ``with`` block.
"""
import inspect
import threading

_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}
_SCOPE = threading.local()


def _scopes():
    if not hasattr(_SCOPE, "stack"):
        _SCOPE.stack = []
    return _SCOPE.stack


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes the objects visible to
    deserialization inside the block."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *args):
        _scopes().pop()


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dict of registered objects (``{"package>Name": obj}``); it may be edited."""
    return _GLOBAL_CUSTOM_OBJECTS


def scoped_custom_objects():
    """The objects of the active ``custom_object_scope`` blocks (innermost last wins)."""
    out = {}
    for scope in _scopes():
        out.update(scope)
    return out


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function under ``"package>name"`` so that loading finds it."""

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = package + ">" + class_name
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name ``obj`` is registered under, else its ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object called ``name`` in the active scopes, the global registry,
    ``custom_objects`` or ``module_objects`` (in that order), else None."""
    scoped = scoped_custom_objects()
    if name in scoped:
        return scoped[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
